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
   first, since only this server may claim that archive.  A sent message
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

import calendar
import re
import time

from twisted.internet import defer, task
from twisted.python import failure
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import Handler, IQHandler, Stage, iqGet, iqSet
from jabberd.jidutil import domainOf, parseJID
from jabberd.logs import Logger
from jabberd.ns import (NS_DATA, NS_DELAY, NS_FORWARD, NS_MAM, NS_MAM_EXTENDED, NS_RSM,
                        NS_SID, NS_XDATA_VALIDATE)
from jabberd.sm.target import iqTarget
from jabberd.sm.userindex import UserIndex
from jabberd.stanza import firstChild, parseElement, serializeElement
from jabberd.storage.records import (ArchivedMessage, ArchivePreferences, UnknownArchiveId,
                                     randomId)

__all__ = ["ArchiveHandler", "SentIdFilter", "parseStamp", "formatStamp"]

#: Message types archived (RFC 6121 section 5.2.2: absent means normal).
_ARCHIVED_TYPES = frozenset((None, "chat", "normal"))

#: The preferences of an account that does not exist: nothing is archived.
_NOTHING = ArchivePreferences(default="never")

_FORM_FIELDS = (("with", "jid-single"), ("start", "text-single"), ("end", "text-single"),
                ("before-id", "text-single"), ("after-id", "text-single"),
                ("ids", "list-multi"))

_STAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parseStamp(text):
    """UTC seconds of a XEP-0082 DateTime; ValueError if it is not one."""
    match = _STAMP.match(text.strip())
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ValueError(text)
    fraction = float(match.group(7)) if match.group(7) else 0.0
    zone = match.group(8)
    offset = 0 if zone == "Z" else (int(zone[1:3]) * 60 + int(zone[4:6])) * 60
    return seconds + fraction - (offset if zone[0] != "-" else -offset)


def formatStamp(seconds):
    """The XEP-0082 DateTime of UTC C{seconds}, to the millisecond."""
    whole = int(seconds)
    millis = int(round((seconds - whole) * 1000))
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


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


class _Batch:
    """Messages archived in one write, and the queries waiting for it."""

    __slots__ = ("entries", "waiters")

    def __init__(self, entries):
        self.entries = entries
        self.waiters = []


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
                 sweepInterval=600, clock=None):
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
        # the archive write under way, and the one gathering behind it
        self._writing = None
        self._pending = None
        # owners appended to since the last sweep (for max_per_user)
        self._appended = set()
        self._sweeper = None

    @classmethod
    def fromConfig(cls, config, **kwargs):
        """The handler for C{config}'s C{[archive]} section."""
        a = config.archive
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
        message = ArchivedMessage(
            peer=entry.peer.full(), direction=entry.direction,
            xml=serializeElement(stanza), type=stanza.getAttribute("type") or "normal",
            originId=_originId(stanza), messageId=stanza.getAttribute("id") or "",
            id=randomId())
        sid = stanza.addElement((NS_SID, "stanza-id"))
        sid["by"], sid["id"] = entry.owner, message.id
        if self.maxPerUser:
            self._appended.add(entry.owner)
        self._write(entry.owner, message)

    def _write(self, owner, message):
        """
        Group commit: one write is under way at a time, and the messages
        archived meanwhile go together in the next one.  The archive keeps
        the order they were delivered in (a store with several worker
        threads would otherwise commit two writes in either order), and
        under load the writes get larger rather than more numerous.
        """
        if self._writing is None:
            self._startWrite(_Batch([(owner, message)]))
            return
        if self._pending is None:
            self._pending = _Batch([])
        self._pending.entries.append((owner, message))

    def _startWrite(self, batch):
        self._writing = batch
        d = self.archive.appendMany(batch.entries)
        d.addErrback(self._failed, "archiving {count} messages failed",
                     count=len(batch.entries))
        d.addBoth(self._written, batch)

    def _written(self, _, batch):
        self._writing = None
        if self._pending is not None:
            batch_, self._pending = self._pending, None
            self._startWrite(batch_)
        for waiter in batch.waiters:
            waiter.callback(None)

    def _committed(self):
        """
        A Deferred firing once every archive write issued so far has
        finished: a query then finds every message delivered before it,
        and an id a client was given is never unknown.
        """
        batch = self._pending or self._writing
        if batch is None:
            return defer.succeed(None)
        waiter = defer.Deferred()
        batch.waiters.append(waiter)
        return waiter

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
            return _queryForm()
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
        filters = _readForm(query)
        paging = self._readRSM(query)
        flip = firstChild(query, NS_MAM, "flip-page") is not None
        if len(filters.get("ids", ())) > self.maxPage:
            raise StanzaError("policy-violation", text=f"at most {self.maxPage} ids")
        yield self._committed()
        for archiveId in filters.get("ids", ()):
            if (yield self.archive.get(owner, archiveId)) is None:
                raise StanzaError("item-not-found", text=f"no message {archiveId} in the archive")
        try:
            page = yield self.archive.query(owner, flip=flip, **filters, **paging)
        except UnknownArchiveId as e:
            raise StanzaError("item-not-found", text=f"no message {e.args[0]} in the archive")
        queryId = query.getAttribute("queryid")
        for item in page.items:
            self.send(self._resultMessage(iq, owner, queryId, item))
        return _fin(page, queryId)

    @defer.inlineCallbacks
    def _metadata(self, owner):
        """The first and last message of the archive (section 5, archive metadata)."""
        yield self._committed()
        first = yield self.archive.query(owner, max=1)
        last = yield self.archive.query(owner, max=1, before="")
        metadata = domish.Element((NS_MAM, "metadata"))
        for name, page in (("start", first), ("end", last)):
            if page.items:
                end = metadata.addElement(name)
                end["id"], end["timestamp"] = page.items[0].id, formatStamp(page.items[0].stamp)
        return metadata

    def _readRSM(self, query):
        rsm = firstChild(query, NS_RSM, "set")
        paging = {"max": self.maxPage}
        if rsm is None:
            return paging
        for child in rsm.elements():
            value = str(child).strip()
            if child.name == "max":
                if not value.isdigit():
                    raise StanzaError("bad-request", text="max must be a whole number")
                paging["max"] = min(int(value), self.maxPage)
            elif child.name in ("after", "before"):
                if child.name == "after" and not value:
                    raise StanzaError("bad-request", text="after needs an id")
                paging[child.name] = value
            elif child.name == "index":
                raise StanzaError("feature-not-implemented", text="paging by index")
        if "after" in paging and "before" in paging:
            raise StanzaError("bad-request", text="after and before together")
        return paging

    def _resultMessage(self, iq, owner, queryId, item):
        message = domish.Element((None, "message"))
        message["to"], message["from"] = iq["from"], owner
        message["id"] = randomId()
        result = message.addElement((NS_MAM, "result"))
        if queryId is not None:
            result["queryid"] = queryId
        result["id"] = item.id
        forwarded = result.addElement((NS_FORWARD, "forwarded"))
        forwarded.addElement((NS_DELAY, "delay"))["stamp"] = formatStamp(item.stamp)
        try:
            forwarded.addChild(parseElement(item.xml))
        except ValueError:
            self.log.error("unreadable archived message {id} of {owner}", id=item.id,
                           owner=owner)
        return message

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


def _strip(stanza, *owners):
    """
    Remove the stanza-ids naming any of C{owners}' archives (XEP-0359
    section 3).  Most messages carry none: one scan of the children, no list.
    """
    children = stanza.children
    for child in children:
        if getattr(child, "name", None) == "stanza-id":
            break
    else:
        return
    stanza.children = [child for child in children
                       if getattr(child, "name", None) != "stanza-id" or child.uri != NS_SID
                       or child.getAttribute("by") not in owners]


def _originId(stanza):
    origin = firstChild(stanza, NS_SID, "origin-id")
    return origin.getAttribute("id", "") if origin is not None else ""


def _queryForm():
    """The query element carrying the search form (section 4.1, form discovery)."""
    query = domish.Element((NS_MAM, "query"))
    form = query.addElement((NS_DATA, "x"))
    form["type"] = "form"
    formType = form.addElement("field")
    formType["var"], formType["type"] = "FORM_TYPE", "hidden"
    formType.addElement("value", content=NS_MAM)
    for var, fieldType in _FORM_FIELDS:
        field = form.addElement("field")
        field["var"], field["type"] = var, fieldType
    # XEP-0313 section 4.1.3: ids is open to any value (XEP-0122), never listed.
    validate = field.addElement((NS_XDATA_VALIDATE, "validate"))
    validate["datatype"] = "xs:string"
    validate.addElement("open")
    return query


def _readForm(query):
    """The store's filters from the query's data form; bad-request for bad values."""
    form = firstChild(query, NS_DATA, "x")
    filters = {}
    if form is None:
        return filters
    for field in form.elements(NS_DATA, "field"):
        var = field.getAttribute("var")
        values = [str(v).strip() for v in field.elements(NS_DATA, "value")]
        if var == "FORM_TYPE":
            if values != [NS_MAM]:
                raise StanzaError("bad-request", text=f"FORM_TYPE must be {NS_MAM}")
            continue
        if var == "ids":
            filters["ids"] = values
            continue
        if var not in ("with", "start", "end", "before-id", "after-id"):
            # XEP-0313 section 4.1.5: a field the server does not recognise.
            raise StanzaError("feature-not-implemented", text=f"unknown field {var}")
        if len(values) != 1 or not values[0]:
            raise StanzaError("bad-request", text=f"{var} needs one value")
        filters.update(_filter(var, values[0]))
    return filters


def _filter(var, value):
    if var == "with":
        jid = parseJID(value)
        if jid is None:
            raise StanzaError("bad-request", text="with is not a JID")
        return {"with_": jid.full()}
    if var in ("start", "end"):
        try:
            return {var: parseStamp(value)}
        except ValueError:
            raise StanzaError("bad-request", text=f"{var} is not a XEP-0082 DateTime") from None
    return {"beforeId" if var == "before-id" else "afterId": value}


def _fin(page, queryId):
    fin = domish.Element((NS_MAM, "fin"))
    if queryId is not None:
        fin["queryid"] = queryId
    if page.complete:
        fin["complete"] = "true"
    rsm = fin.addElement((NS_RSM, "set"))
    if page.items:
        first = rsm.addElement("first", content=page.first)
        if page.index is not None:
            first["index"] = str(page.index)
        rsm.addElement("last", content=page.last)
    rsm.addElement("count", content=str(page.count))
    return fin


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
