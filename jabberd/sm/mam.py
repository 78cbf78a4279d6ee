# -*- test-case-name: tests.sm.test_mam -*-
"""
Message Archive Management for users (XEP-0313, urn:xmpp:mam:2), with
XEP-0359 stanza-ids and XEP-0059 paging.

 - Archiving (section 3): every chat message, and every normal one with a
   body, to or from a local user is archived once in that user's archive:
   sent ones on C{onOutbound}, received ones on C{onInbound} before delivery,
   so that what offline storage keeps is archived too.  The stanza carries
   C{<stanza-id by='user@domain'/>} with the archive id (XEP-0359 section 3);
   a stanza-id with the same C{by} that came from anyone else is removed
   first, since only this server may claim that archive.  A message the
   offline store delivers later (XEP-0160) was archived when it arrived:
   it comes back with this server's delay marker and that stanza-id, whose
   id proves it was made here for this very message
   (L{jabberd.sm.archiveids}); it is not archived again and keeps the id,
   so a client matches it with what it finds in the archive.  A sent message
   carries the sender's id only as far as the copies for the sender's own
   resources (L{SentIdFilter}): XEP-0313 section 3 keeps it from contacts.
 - The id is chosen here (L{randomId}) and handed to the store with the
   message, so delivery never waits for the write.  Writes are group
   commits: one is under way at a time, and what is archived meanwhile
   goes in the next (L{IArchiveStore.appendMany}), which keeps the order
   of delivery and makes writes larger, not more numerous, under load.  A
   query waits for the writes under way, so it finds every message its
   owner was delivered.
 - Preferences (section 5): C{default} always/roster/never with
   always/never lists, read from the store and kept in memory while the
   user has sessions.  A message whose owner's preferences (or roster
   entry) are not in memory yet is held, in order per owner, until they
   are read, and then resumes where it was.
 - Queries (section 4): the data form (with, start, end, before-id,
   after-id, ids), RSM (max capped by C{[archive] max_page}, after, before,
   empty before for the last page), flip-page; results as forwarded
   messages, then C{<fin/>}.  Only the owner queries their archive.
 - Retention: C{[archive] expire_after} and C{max_per_user}, enforced by a
   periodic sweep; the archive goes with the account.
"""

import time

from twisted.internet import defer, task
from twisted.python import failure
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import Handler, IQHandler, Stage, iqGet, iqSet
from jabberd.jidutil import domainOf, parseJID
from jabberd.logs import Logger
from jabberd.mam import query as mamquery
from jabberd.mam.ids import originId, stampStanzaId, stripStanzaIds as _strip
from jabberd.mam.query import formatStamp, parseStamp
from jabberd.mam.writer import GroupCommit
from jabberd.sm.archiveids import ArchiveIds, redeliveredId
from jabberd.ns import NS_MAM, NS_MAM_EXTENDED, NS_SID
from jabberd.sm.target import iqTarget
from jabberd.sm.userindex import UserIndex
from jabberd.stanza import firstChild, serializeElement
from jabberd.storage.records import ArchivedMessage, ArchivePreferences, randomId

__all__ = ["ArchiveHandler", "SentIdFilter", "parseStamp", "formatStamp"]

#: Message types archived (RFC 6121 section 5.2.2: absent means normal).
_ARCHIVED_TYPES = frozenset((None, "chat", "normal"))

#: The preferences of an account that does not exist: nothing is archived.
_NOTHING = ArchivePreferences(default="never")


def _scan(stanza):
    """(whether C{stanza} has a body, whether it carries stanza-ids), in one pass."""
    hasBody = hasIds = False
    for child in stanza.children:
        name = getattr(child, "name", None)
        if name == "body":
            hasBody = True
        elif name == "stanza-id":
            hasIds = True
    return hasBody, hasIds


class _Entry:
    """A message on its way into one owner's archive, and how to resume it."""

    __slots__ = ("stanza", "owner", "peer", "direction", "resume")

    def __init__(self, stanza, owner, peer, direction, resume):
        self.stanza, self.owner, self.peer = stanza, owner, peer
        self.direction, self.resume = direction, resume


class ArchiveHandler(IQHandler):
    """
    Archive users' messages and answer their archive queries.

    @ivar default: the archiving default for users without preferences.
    @ivar maxPage: the largest page a query gets.
    @ivar expireAfter: seconds messages are kept (0: forever).
    @ivar maxPerUser: messages kept per owner (0: no bound).
    """

    log = Logger()
    handlerName = "mam"
    stage = Stage.ARCHIVE

    def __init__(self, default="always", maxPage=100, expireAfter=0, maxPerUser=0,
                 sweepInterval=600, clock=None, ids=None):
        self.ids = ids if ids is not None else ArchiveIds()
        self.default = default
        self.maxPage = maxPage
        self.expireAfter = expireAfter
        self.maxPerUser = maxPerUser
        self.sweepInterval = sweepInterval
        self.clock = clock
        # owner -> ArchivePreferences, while the owner has sessions
        self._prefs = {}
        self.withPrefs = UserIndex()
        # owner -> [_Entry] held until the first one's decision is known
        self._waiting = {}
        # stanzas being resumed, which the hooks let through once
        self._resuming = set()
        # archived messages on their way to the store, in order
        self._writer = GroupCommit(lambda: self.archive)
        # owners appended to since the last sweep (for max_per_user)
        self._appended = set()
        self._sweeper = None

    @classmethod
    def fromConfig(cls, config, **kwargs):
        """The handler for C{config}'s C{[archive]} section."""
        a = config.archive
        if config.cluster is not None:
            from jabberd.cluster.secrets import derivedKey

            kwargs.setdefault("ids", ArchiveIds(derivedKey(config.cluster.secret, "archive-ids")))
        elif "ids" not in kwargs:
            kwargs["ids"] = ArchiveIds.fromDataDir(config.server.datadir)
        return cls(a.default, a.maxPage, a.expireAfter, a.maxPerUser, a.sweepInterval, **kwargs)

    def setHost(self, host):
        IQHandler.setHost(self, host)
        self.withPrefs.load(self.archive.preferenceOwners(), self.log, "archive preferences")
        if (self.expireAfter or self.maxPerUser) and self.sweepInterval:
            if self.clock is None:
                from twisted.internet import reactor
                self.clock = reactor
            self._sweeper = task.LoopingCall(self.sweep)
            self._sweeper.clock = self.clock
            self._sweeper.start(self.sweepInterval, now=False).addErrback(
                self._failed, "archive sweeps stopped")

    @property
    def archive(self):
        """The archive store (L{jabberd.storage.interfaces.IArchiveStore})."""
        return self.host.storage.archive

    def _failed(self, failure, message, **kwargs):
        """An errback: log C{failure} under C{message}."""
        self.log.failure(message, failure, **kwargs)

    # --- archiving ---

    def onOutbound(self, session, stanza):
        """Archive a message a local user sends, in the sender's archive."""
        if stanza.name != "message" or stanza.attributes.get("type") not in _ARCHIVED_TYPES:
            return False
        hasBody, hasIds = _scan(stanza)
        if not hasBody or (self._resuming and id(stanza) in self._resuming):
            return False
        owner = session.bare
        if hasIds:
            _strip(stanza, owner)
        if self._archivesNothing(owner):
            return False
        to = stanza.getAttribute("to")
        peer = parseJID(to) if to else None
        if peer is None:
            return False
        entry = _Entry(stanza, owner, peer, "out",
                       lambda: self.host.outbound(session, stanza))
        return self._consider(entry)

    def onInbound(self, stanza):
        """Archive a message for a local user in the recipient's archive, before delivery."""
        if stanza.name != "message" or stanza.attributes.get("type") not in _ARCHIVED_TYPES:
            return False
        hasBody, hasIds = _scan(stanza)
        if not hasBody or (self._resuming and id(stanza) in self._resuming):
            return False
        to, sender = stanza.attributes.get("to"), stanza.attributes.get("from")
        if to and sender and self._archivesNothing(to.partition("/")[0]):
            # The fast path: an online owner who keeps no archive (only
            # local, online owners have known preferences).
            if hasIds:
                self._stripForeign(stanza, to.partition("/")[0], sender)
            return False
        recipient = parseJID(to) if to else None
        peer = parseJID(sender) if sender else None
        if recipient is None or peer is None or recipient.user is None \
                or recipient.host not in self.host.domains:
            return False
        owner = recipient.userhost()
        if peer.userhost() == owner:
            return False  # to oneself: archived, and stamped, as it was sent
        if hasIds:
            claimed = redeliveredId(stanza, owner, self.host.domains)
            if claimed is not None and self.ids.proves(claimed, owner, peer.userhost(),
                                                       stanza.getAttribute("id") or ""):
                return False  # from offline storage: archived when it arrived
            self._stripForeign(stanza, owner, sender)
        if self._archivesNothing(owner):
            return False
        entry = _Entry(stanza, owner, peer, "in", lambda: self.host.receive(stanza))
        return self._consider(entry)

    def _stripForeign(self, stanza, owner, sender):
        """
        Remove the stanza-ids a received message must not carry: the
        owner's (forged, XEP-0359 section 3) and a local sender's own (for
        the sender's copies, sent carbons, not for the recipient).
        """
        senderBare = sender.partition("/")[0]
        if domainOf(senderBare) in self.host.domains and senderBare != owner:
            _strip(stanza, owner, senderBare)
        else:
            _strip(stanza, owner)

    def _archivesNothing(self, owner):
        """
        Whether C{owner}'s messages are known not to be archived whoever
        the peer is (default never, no always list, nothing held): the
        cheap answer for a server or user that keeps no archive.
        """
        prefs = self._prefs.get(owner)
        return prefs is not None and prefs.default == "never" and not prefs.always \
            and owner not in self._waiting

    def _consider(self, entry):
        """
        Archive C{entry} now if its owner's decision is known (False: the
        stanza goes on), or hold it in the owner's queue (True: taken, it
        resumes when decided).
        """
        queue = self._waiting.get(entry.owner)
        if queue is not None:
            queue.append(entry)
            return True
        prefs = self._prefs.get(entry.owner)
        if prefs is not None and prefs.default != "roster":
            # The common case, decided without a Deferred: an online
            # owner whose preferences need no roster look-up.
            self._record(entry, self._byPreferences(prefs, entry.owner, entry.peer.userhost()))
            return False
        d = self._shouldArchive(entry)
        known = self._known(d, entry)
        if known is not None:
            self._record(entry, known)
            return False
        self._waiting[entry.owner] = [entry]
        self._await(d, entry)
        return True

    def _known(self, d, entry):
        """The decision C{d} already holds (a failure counts as no), or None."""
        known = []
        d.addBoth(lambda outcome: known.append(outcome) or outcome)
        if not known:
            return None
        if isinstance(known[0], failure.Failure):
            d.addErrback(lambda _: None)  # reported here
            self.log.failure("archive preferences unreadable for {owner}", known[0],
                             owner=entry.owner)
            return False
        return known[0]

    def _await(self, d, entry):
        """Resume the held C{entry}, and those after it, once C{d} decides."""
        def decided(archive):
            self._record(entry, archive)
            self._resume(entry)
            self._next(entry.owner)

        def undecided(reason):
            self.log.failure("archive preferences unreadable for {owner}", reason,
                             owner=entry.owner)
            decided(False)

        d.addCallbacks(decided, undecided)

    def _next(self, owner):
        """Drop the head of C{owner}'s queue; resume those decided at once, await the next."""
        queue = self._waiting[owner]
        queue.pop(0)
        while queue:
            entry = queue[0]
            d = self._shouldArchive(entry)
            known = self._known(d, entry)
            if known is None:
                self._await(d, entry)
                return
            self._record(entry, known)
            self._resume(entry)
            queue.pop(0)
        del self._waiting[owner]

    def _resume(self, entry):
        key = id(entry.stanza)
        self._resuming.add(key)
        try:
            entry.resume()
        except Exception:
            self.log.failure("resumed message failed")
        finally:
            self._resuming.discard(key)

    def _shouldArchive(self, entry):
        """A Deferred of whether C{entry} is archived under its owner's preferences."""
        prefs = self._prefs.get(entry.owner)
        d = defer.succeed(prefs) if prefs is not None else self._loadPrefs(entry.owner)
        return d.addCallback(self._byPreferences, entry.owner, entry.peer.userhost())

    def _loadPrefs(self, owner):
        """
        The preferences of C{owner}, read from the store; those of a user
        without sessions (an offline recipient) are read with the account's
        existence and not kept.
        """
        online = owner in self.host.sessions
        if self.withPrefs.mayHave(owner):
            d = self.archive.getPreferences(owner)
        else:
            d = defer.succeed(None)
        if not online:
            exists = self.host.storage.accounts.exists(owner.partition("@")[0])
            d = defer.gatherResults([d, exists], consumeErrors=True)
            d.addErrback(lambda failure: failure.value.subFailure)
            d.addCallback(lambda both: both[0] if both[1] else _NOTHING)
        d.addCallback(self._remember, owner)
        return d

    def _remember(self, prefs, owner):
        prefs = prefs if prefs is not None else ArchivePreferences(default=self.default)
        if owner in self.host.sessions:
            self._prefs[owner] = prefs
        return prefs

    def _byPreferences(self, prefs, owner, peerBare):
        """XEP-0313 section 5: the lists first, then the default."""
        if peerBare in prefs.never:
            return False
        if peerBare in prefs.always:
            return True
        if prefs.default != "roster":
            return prefs.default == "always"
        d = self.host.storage.roster.item(owner.partition("@")[0], peerBare)
        return d.addCallback(lambda item: item is not None)

    def _record(self, entry, archive):
        """Stamp the archive id on the stanza and write the message (not waited for)."""
        if not archive:
            return
        stanza = entry.stanza
        messageId = stanza.getAttribute("id") or ""
        if entry.direction == "in":
            archiveId = self.ids.make(entry.owner, entry.peer.userhost(), messageId)
        else:
            archiveId = randomId()
        message = ArchivedMessage(
            peer=entry.peer.full(), direction=entry.direction,
            xml=serializeElement(stanza), type=stanza.getAttribute("type") or "normal",
            originId=originId(stanza), messageId=messageId, id=archiveId)
        stampStanzaId(stanza, entry.owner, message.id)
        if self.maxPerUser:
            self._appended.add(entry.owner)
        self._write(entry.owner, message)

    def _write(self, owner, message):
        """Hand C{message} to the group commit (L{jabberd.mam.writer})."""
        self._writer.write(owner, message)

    def stopping(self):
        """The server stops: the archive writes still queued are waited for."""
        return [self.committed()]

    def committed(self):
        """
        A Deferred firing once every archive write issued so far has
        finished: what a query waits for, and what stream management waits
        for before it acknowledges a client's stanzas (XEP-0198 section 4).
        """
        return self._writer.committed()

    # --- sessions and accounts ---

    def sessionBound(self, session):
        """
        Have the user's preferences in memory for the messages to come:
        the server's default for a user who never set any (no read).
        """
        owner = session.bare
        if owner in self._prefs:
            return
        if not self.withPrefs.mayHave(owner):
            self._prefs[owner] = ArchivePreferences(default=self.default)
            return
        self._loadPrefs(owner).addErrback(
            self._failed, "archive preferences unreadable for {owner}", owner=owner)

    def sessionEnded(self, session):
        """Forget the preferences of a user whose last session ended."""
        if session.bare not in self.host.sessions:
            self._prefs.pop(session.bare, None)

    def userDeleted(self, username):
        """The archive (and preferences) go with the account, in every local domain."""
        for domain in self.host.domains:
            owner = f"{username}@{domain}"
            self._prefs.pop(owner, None)
            self.archive.removeOwner(owner).addErrback(
                self._failed, "removing the archive of {owner} failed", owner=owner)

    # --- retention ---

    @defer.inlineCallbacks
    def sweep(self):
        """Expire messages older than C{expireAfter}; trim owners beyond C{maxPerUser}."""
        try:
            if self.expireAfter:
                yield self.archive.expire(time.time() - self.expireAfter)
            owners, self._appended = self._appended, set()
            for owner in sorted(owners):
                yield self.archive.trim(owner, self.maxPerUser)
        except Exception:
            self.log.failure("archive sweep failed")

    # --- iqs ---

    @iqGet(NS_MAM)
    def onGet(self, iq):
        """The query form (section 4.1: form discovery) or the preferences."""
        owner, payload = self._owner(iq)
        if payload.name == "query":
            return mamquery.queryForm()
        if payload.name == "prefs":
            return self._currentPrefs(owner).addCallback(_prefsElement)
        if payload.name == "metadata":
            return self._metadata(owner)
        raise StanzaError("bad-request", text=f"unknown element {payload.name}")

    @iqSet(NS_MAM)
    def onSet(self, iq):
        """A query of the archive, or new preferences."""
        owner, payload = self._owner(iq)
        if payload.name == "query":
            return self._query(iq, owner, payload)
        if payload.name == "prefs":
            return self._setPrefs(owner, payload)
        raise StanzaError("bad-request", text=f"unknown element {payload.name}")

    def _owner(self, iq):
        target = iqTarget(self.host, iq)
        if target.isServer or not target.isSelf:
            raise StanzaError("forbidden", text="only the owner may use an archive")
        return target.jid.userhost(), firstChild(iq)

    def _currentPrefs(self, owner):
        prefs = self._prefs.get(owner)
        return defer.succeed(prefs) if prefs is not None else self._loadPrefs(owner)

    @defer.inlineCallbacks
    def _setPrefs(self, owner, payload):
        prefs = _readPrefs(payload)
        yield self.archive.setPreferences(owner, prefs)
        self.withPrefs.add(owner)
        if owner in self.host.sessions:
            self._prefs[owner] = prefs
        return _prefsElement(prefs)

    @defer.inlineCallbacks
    def _query(self, iq, owner, query):
        """Section 4: one page of the owner's archive, once earlier writes are done."""
        yield self.committed()
        page = yield mamquery.runQuery(self.archive, owner, query, self.maxPage)
        queryId = query.getAttribute("queryid")
        for item in page.items:
            self.send(mamquery.resultMessage(iq["from"], owner, queryId, item))
        return mamquery.fin(page, queryId)

    @defer.inlineCallbacks
    def _metadata(self, owner):
        """The first and last message of the archive (section 5, archive metadata)."""
        yield self.committed()
        first = yield self.archive.query(owner, max=1)
        last = yield self.archive.query(owner, max=1, before="")
        metadata = domish.Element((NS_MAM, "metadata"))
        for name, page in (("start", first), ("end", last)):
            if page.items:
                end = metadata.addElement(name)
                end["id"], end["timestamp"] = page.items[0].id, formatStamp(page.items[0].stamp)
        return metadata

    # --- disco ---

    def discoFeatures(self, target, node):
        if node or target.user is None:
            return []
        return [NS_MAM, NS_MAM_EXTENDED, NS_SID]


class SentIdFilter(Handler):
    """
    Keep the sender's archive id off what leaves for a contact.

    L{ArchiveHandler} stamps a sent message with the sender's stanza-id at
    the archive stage, so that the copies made at the copies stage for the
    sender's other resources (sent carbons, XEP-0280) carry it, as XEP-0313
    section 3 asks; the same section forbids it in the message to the
    contact, who may not read that archive.  This runs after the copies and
    removes it, except from a message to the sender's own account.
    """

    handlerName = "mamsentids"
    stage = Stage.DELIVERY

    def onOutbound(self, session, stanza):
        """Strip the sender's stanza-id from a message to someone else; never consume."""
        if stanza.name == "message":
            to = stanza.attributes.get("to")
            if to and to.partition("/")[0] != session.bare:
                _strip(stanza, session.bare)  # one scan of the children when there is none
        return False


def _prefsElement(prefs):
    element = domish.Element((NS_MAM, "prefs"))
    element["default"] = prefs.default
    for name in ("always", "never"):
        listed = element.addElement(name)
        for jid in getattr(prefs, name):
            listed.addElement("jid", content=jid)
    return element


def _readPrefs(payload):
    default = payload.getAttribute("default")
    if default not in ("always", "never", "roster"):
        raise StanzaError("bad-request", text="default must be always, never or roster")
    lists = {}
    for name in ("always", "never"):
        jids = []
        for listed in payload.elements(NS_MAM, name):
            for item in listed.elements(NS_MAM, "jid"):
                jid = parseJID(str(item).strip())
                if jid is None:
                    raise StanzaError("bad-request", text=f"{item} is not a JID")
                jids.append(jid.userhost())
        lists[name] = jids
    return ArchivePreferences(default=default, **lists)
