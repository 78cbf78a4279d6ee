# -*- test-case-name: tests.sm.test_blocking -*-
"""
Blocking Command (XEP-0191), with the spam and abuse reports of XEP-0377
that ride on it: a user blocks all communication with JIDs, and the server
enforces it before anything is archived, copied or delivered (hence the
POLICY stage).

 - Protocol (XEP-0191 sections 3.2-3.5): C{<blocklist/>} get returns the
   list and marks the resource as interested in pushes; C{<block/>} and
   C{<unblock/>} sets with C{<item jid/>} change it (an empty block is
   C{bad-request}, a bad JID C{jid-malformed}, a list past C{[blocking]
   max_items} C{policy-violation}), an C{<unblock/>} without items empties
   it, and every change is pushed to the interested resources.
 - Matching (XEP-0016 section 2.1, which XEP-0191 section 5 refers to): a
   blocked full JID matches that resource only, a bare JID every resource
   of it, C{domain/resource} that resource of the domain, a domain the
   domain and everything at it.
 - Enforcement (XEP-0191 section 3.3 and the stanza rules of XEP-0016
   section 2.3 it keeps): from a blocked entity, presence is dropped,
   messages and iq get/set are answered C{service-unavailable}, nothing is
   delivered; the user's own stanzas to a blocked entity get
   C{not-acceptable} with C{<blocked xmlns='urn:xmpp:blocking:errors'/>},
   and presence the server sends on the user's behalf (broadcast, probe
   answers) is dropped.  Blocking sends unavailable presence between the
   user's available resources and the contact's; unblocking sends the
   user's presence to a subscribed contact again and probes a contact the
   user is subscribed to (section 3.4).
 - XEP-0377 section 4: a C{<report reason='...'/>} inside a blocked item is
   logged for the operator at warn level, naming reporter, JID and reason.

The lists of users with a session are cached in memory, loaded at their
first C{sessionBound} and dropped at their last C{sessionEnded}; only
non-empty lists are kept, so the chat path costs nothing while no online
user blocks anyone, and a dictionary look-up per party otherwise.  A
message to a user with no session is checked against the stored list when
it is about to go to offline storage (C{onUndeliverable}), and a
subscription request kept for a user with no session when it is
redelivered (C{onDeliver}).
"""

import itertools

from twisted.words.xish import domish

from jabberd.error import StanzaError, errorReply, isErrorable
from jabberd.handler import IQHandler, Stage, iqGet, iqSet
from jabberd.jidutil import parseJID
from jabberd.logs import Logger
from jabberd.ns import NS_BLOCKING, NS_BLOCKING_ERRORS, NS_REPORTING
from jabberd.sm.target import iqTarget
from jabberd.sm.userindex import UserIndex

__all__ = ["BlockingHandler", "isBlocked"]

_FROM = ("from", "both")  # the contact receives the user's presence
_TO = ("to", "both")  # the user receives the contact's presence


def isBlocked(blocked, jid):
    """
    Whether the prepared L{JID} C{jid} matches an entry of the set of JID
    strings C{blocked} (XEP-0016 section 2.1).
    """
    host = jid.host
    if host in blocked:
        return True
    if jid.user is None:
        return jid.resource is not None and f"{host}/{jid.resource}" in blocked
    bare = f"{jid.user}@{host}"
    if bare in blocked:
        return True
    return jid.resource is not None and f"{bare}/{jid.resource}" in blocked


def _presence(sender, to, presenceType=None):
    presence = domish.Element((None, "presence"))
    presence["from"], presence["to"] = sender, to
    if presenceType is not None:
        presence["type"] = presenceType
    return presence


def blockedError(stanza):
    """The XEP-0191 error for a stanza the user sent to a blocked entity."""
    blocked = domish.Element((NS_BLOCKING_ERRORS, "blocked"))
    return StanzaError("not-acceptable", appCondition=blocked).toResponse(stanza)


class BlockingHandler(IQHandler):
    """
    Keep, serve and enforce users' block lists.

    @ivar maxItems: the most JIDs one block list may hold (0: no limit).
    @ivar _lists: username -> set of blocked JID strings, for users with a
        session and a non-empty list.
    @ivar _online: username -> number of bound sessions.
    @ivar _interested: the sessions that asked for the block list (pushes
        go to them, section 3.3).
    """

    log = Logger()
    handlerName = "blocking"
    requires = ("presence", "roster")
    stage = Stage.POLICY

    def __init__(self, maxItems=1000):
        self.maxItems = maxItems
        self._lists = {}
        self._online = {}
        self._interested = set()
        self._pushIds = itertools.count(1)
        self.withLists = UserIndex()

    def setHost(self, host):
        """Attach, and read which users have a block list at all."""
        IQHandler.setHost(self, host)
        self.withLists.load(host.storage.blocklist.users(), self.log, "block lists")

    @classmethod
    def fromConfig(cls, config):
        """The handler with the C{[blocking]} settings of C{config}."""
        return cls(maxItems=config.blocking.maxItems)

    def _exclusive(self, bare, function, *args):
        # One change at a time per user, and never while the list loads:
        # the roster handler's per-user lock serialises them (unblocking
        # reads the roster too).
        return self.host.handler("roster").exclusive(bare, function, *args)

    # --- the cache ---

    def sessionBound(self, session):
        """The user's first session loads the block list into memory."""
        username = session.username
        count = self._online.get(username, 0)
        self._online[username] = count + 1
        if count == 0:
            if not self.withLists.mayHave(username):
                return  # no stored list: nothing to load
            d = self._exclusive(session.bare, self._load, username)
            d.addErrback(lambda f: self.log.failure("loading {user}'s block list failed", f,
                                                    user=username))

    async def _load(self, username):
        jids = await self.host.storage.blocklist.items(username)
        if jids and username in self._online:
            self._lists[username] = set(jids)

    def sessionEnded(self, session):
        """The user's last session drops the cached list."""
        self._interested.discard(session)
        username = session.username
        count = self._online.get(username, 0) - 1
        if count > 0:
            self._online[username] = count
        else:
            self._online.pop(username, None)
            self._lists.pop(username, None)

    def userDeleted(self, username):
        """The account is gone (its stored list went with deleteUser)."""
        self._lists.pop(username, None)

    # --- enforcement ---

    def onInbound(self, stanza):
        """Refuse a stanza from an entity its recipient blocks, or to one its local sender blocks."""
        lists = self._lists
        if not lists:
            return False
        to = parseJID(stanza.getAttribute("to"))
        sender = parseJID(stanza.getAttribute("from"))
        if to is None or sender is None or (to.user == sender.user and to.host == sender.host):
            return False
        blocked = lists.get(to.user) if to.user is not None else None
        if blocked is not None and isBlocked(blocked, sender):
            # XEP-0016 section 2.3: presence silently, the rest as if nobody were here.
            if stanza.name != "presence" and isErrorable(stanza):
                self.send(errorReply(stanza, "service-unavailable"))
            return True
        if (stanza.name == "presence" and sender.user is not None
                and sender.host in self.host.domains):
            # Presence the server sent on the blocking user's behalf
            # (broadcast, probe answers) does not reach the blocked entity;
            # the user's own stanzas were stopped at onOutbound, and the
            # server's errors on their behalf go through.
            blocked = lists.get(sender.user)
            return blocked is not None and isBlocked(blocked, to)
        return False

    def blocks(self, username, jid):
        """
        Whether the user C{username}, who has a session, blocks the prepared
        L{JID} C{jid}: what the server sends on the user's behalf (PEP
        notifications, XEP-0163 section 4.3.3) does not go there either.
        """
        blocked = self._lists.get(username)
        return blocked is not None and isBlocked(blocked, jid)

    def listOf(self, username):
        """
        The block list of C{username}, a user with a session, as the set of
        JID strings L{isBlocked} reads; None if the user blocks no one (or
        has no session, when the list is not in memory).
        """
        return self._lists.get(username)

    def onOutbound(self, session, stanza):
        """Section 3.3: the user's stanza to a blocked entity is not routed, but refused."""
        blocked = self._lists.get(session.username)
        if blocked is None:
            return False
        to = parseJID(stanza.getAttribute("to"))
        if to is None or not isBlocked(blocked, to) or to.userhost() == session.bare:
            return False
        if isErrorable(stanza):
            session.deliver(blockedError(stanza))
        return True

    def onDeliver(self, session, stanza):
        """
        A subscription request kept while the user had no session (RFC 6121
        section 3.1.3) is redelivered at login without passing onInbound:
        one from a blocked entity is dropped.
        """
        if stanza.name != "presence" or stanza.getAttribute("type") != "subscribe":
            return False
        blocked = self._lists.get(session.username)
        sender = parseJID(stanza.getAttribute("from"))
        return blocked is not None and sender is not None and isBlocked(blocked, sender)

    def onUndeliverable(self, stanza):
        """A message for a user with no session: refused if its sender is on the stored list."""
        to = parseJID(stanza.getAttribute("to"))
        sender = parseJID(stanza.getAttribute("from"))
        if to is None or sender is None or to.user is None or to.user in self._online:
            return False  # an online user's list was applied at onInbound
        if not self.withLists.mayHave(to.user):
            # No stored list: no read, so a flood of messages for an
            # offline account does not wait in memory for one read each.
            return False
        d = self.host.storage.blocklist.items(to.user)
        d.addCallback(self._refuseStored, stanza, sender)
        return d

    def _refuseStored(self, jids, stanza, sender):
        if not jids or not isBlocked(set(jids), sender):
            return False
        self.send(errorReply(stanza, "service-unavailable"))
        return True

    # --- the protocol (sections 3.2-3.5) ---

    def _owner(self, iq):
        """The username and bare JID whose block list C{iq} is about: the sender's own."""
        target = iqTarget(self.host, iq)
        requester = target.requester
        if target.isSelf:
            return target.username, target.jid.userhost()
        if (target.isServer and requester is not None and requester.user is not None
                and requester.host in self.host.domains):
            return requester.user, requester.userhost()
        raise StanzaError("forbidden", text="only your own block list")

    @iqGet(NS_BLOCKING)
    async def onBlockList(self, iq):
        """Section 3.2: the block list; the resource now gets pushes."""
        username, bare = self._owner(iq)
        session = self.host.session(iq.getAttribute("from"))
        if session is not None:
            self._interested.add(session)
        result = domish.Element((NS_BLOCKING, "blocklist"))
        for jid in await self.host.storage.blocklist.items(username):
            result.addElement((NS_BLOCKING, "item"))["jid"] = jid
        return result

    @iqSet(NS_BLOCKING)
    def onChange(self, iq):
        """Sections 3.3-3.5: a block or an unblock."""
        username, bare = self._owner(iq)
        payload = next(iq.elements(NS_BLOCKING), None)
        if payload is None or payload.name not in ("block", "unblock"):
            raise StanzaError("bad-request", text="expected block or unblock")
        items = self._items(payload)
        if payload.name == "block":
            if not items:
                raise StanzaError("bad-request", text="a block names at least one JID")
            reports = self._reports(payload)
            return self._exclusive(bare, self._block, username, bare, items, reports,
                                   iq.getAttribute("from"))
        return self._exclusive(bare, self._unblock, username, bare, items)

    def _items(self, payload):
        """The prepared JIDs of C{payload}'s items, each once, in order."""
        jids = []
        for item in payload.elements(NS_BLOCKING, "item"):
            jid = parseJID(item.getAttribute("jid"))
            if jid is None:
                raise StanzaError("jid-malformed", text=f"not a JID: {item.getAttribute('jid')!r}")
            if jid.full() not in jids:
                jids.append(jid.full())
        return jids

    def _reports(self, payload):
        """XEP-0377 section 4: (jid, reason, text) of the reports on blocked items."""
        reports = []
        for item in payload.elements(NS_BLOCKING, "item"):
            for report in item.elements(NS_REPORTING, "report"):
                reason = report.getAttribute("reason")
                if not reason:
                    raise StanzaError("bad-request", text="a report needs a reason")
                text = next(report.elements(NS_REPORTING, "text"), None)
                reports.append((parseJID(item["jid"]).full(), reason,
                                str(text) if text is not None else ""))
        return reports

    async def _block(self, username, bare, jids, reports, reporter):
        listed = self._lists.get(username, set())
        new = [jid for jid in jids if jid not in listed]
        if self.maxItems and len(listed) + len(new) > self.maxItems:
            raise StanzaError("policy-violation",
                              text=f"a block list holds at most {self.maxItems} JIDs")
        await self.host.storage.blocklist.block(username, new)
        self.withLists.add(username)
        if username in self._online:
            self._lists[username] = listed | set(new)
        for jid, reason, text in reports:
            self.log.warn("XEP-0377 report by {reporter}: {jid} for {reason} {text!r}",
                          reporter=reporter, jid=jid, reason=reason, text=text)
        self._push(bare, "block", jids)
        for jid in new:
            self._hide(bare, parseJID(jid))

    async def _unblock(self, username, bare, jids):
        if jids:
            await self.host.storage.blocklist.unblock(username, jids)
            listed = self._lists.get(username, set())
            removed = [jid for jid in jids if jid in listed]
            if username in self._lists:
                listed.difference_update(jids)
                if not listed:
                    del self._lists[username]
        else:
            removed = await self.host.storage.blocklist.unblockAll(username)
            self._lists.pop(username, None)
        self._push(bare, "unblock", jids)
        for jid in removed:
            await self._reveal(username, bare, parseJID(jid))

    def _push(self, bare, name, jids):
        """Sections 3.3-3.5: the change goes to every interested resource."""
        for session in self.host.sessionsOf(bare):
            if session in self._interested:
                iq = domish.Element((None, "iq"))
                iq["type"], iq["id"], iq["to"] = "set", f"block{next(self._pushIds)}", session.full
                payload = iq.addElement((NS_BLOCKING, name))
                for jid in jids:
                    payload.addElement((NS_BLOCKING, "item"))["jid"] = jid
                session.deliver(iq)

    def _hide(self, bare, contact):
        """
        Section 3.3: the blocked contact sees the user's available resources
        go unavailable, and the user sees the contact's go.
        """
        mine = [s for s in self.host.sessionsOf(bare) if s.available]
        if not mine or contact.user is None:
            return
        if contact.host in self.host.domains:
            theirs = [s for s in self.host.sessionsOf(contact.userhost())
                      if s.available and contact.resource in (None, s.resource)]
            for session in theirs:
                for own in mine:
                    session.deliver(_presence(own.full, session.full, "unavailable"))
            senders = [session.full for session in theirs]
        else:
            senders = [contact.full()]
            for own in mine:
                self.send(_presence(own.full, contact.full(), "unavailable"))
        for own in mine:
            for sender in senders:
                own.deliver(_presence(sender, own.full, "unavailable"))

    async def _reveal(self, username, bare, contact):
        """
        Section 3.4: an unblocked subscriber gets the user's presence
        again, and a contact the user is subscribed to is probed.
        """
        if contact is None or contact.user is None:
            return
        item = await self.host.storage.roster.item(username, contact.userhost())
        if item is None:
            return
        if item.subscription in _FROM:
            self.host.handler("presence").sendCurrentPresence(bare, contact.userhost())
        if item.subscription in _TO:
            self.send(_presence(bare, contact.userhost(), "probe"))

    def discoFeatures(self, target, node):
        """XEP-0191 section 3.1 and XEP-0377 section 3: advertised by the server."""
        return [NS_BLOCKING, NS_REPORTING] if target.user is None and not node else []
