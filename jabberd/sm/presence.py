# -*- test-case-name: tests.sm.test_presence -*-
"""
Presence (RFC 6121 sections 3 and 4): the subscription state machine and
presence broadcast for local users.

 - Subscriptions (section 3, tables in appendix A): outbound
   subscribe/subscribed/unsubscribe/unsubscribed are stamped with the user's
   bare JID (3.1.2) and change the user's roster before they are routed;
   inbound ones change the local user's roster, are answered by the server
   where the RFC says so (3.1.3: auto-reply, pre-approval of section 3.4)
   and otherwise reach the user's clients.  An inbound request nobody
   answered yet is kept by the store ("pending in"), trimmed and bounded in
   number (L{jabberd.sm.subscriptionrequests}), and delivered again on
   every initial presence until it is approved or denied.  Every state change
   is pushed to the user's interested resources (section 2.1.6).
 - Presence (section 4): initial presence is broadcast to subscribers, probes
   the contacts the user is subscribed to, and shows the new resource the
   user's other available resources (4.2); updates are broadcast (4.4);
   directed presence is remembered (4.6) so that unavailable presence, sent
   by the client or generated when the session ends however it ends, reaches
   everyone who saw the user available (4.5).  Probes are answered for
   subscribers only (4.3.2).  Inbound presence goes to the addressed
   resource, or to every available resource for a bare JID (8.5).
 - Presence sent on a user's behalf (broadcast, probes, probe answers) does
   not go to a remote entity the user blocks (XEP-0191 section 3.3), as
   the blocking handler keeps it from local ones.
"""

import time

from twisted.internet import defer
from jabberd.logs import Logger
from twisted.words.xish import domish

from jabberd.dispatch import handlerFor, handlesKey
from jabberd.error import errorReply
from jabberd.handler import Handler
from jabberd.jidutil import bareOf, parseJID
from jabberd.ns import NS_PRESENCE_PREAPPROVAL
from jabberd.sm import subscriptionrequests
from jabberd.sm.fanout import FanOut, fanOutOf
from jabberd.sm.blocking import isBlocked
from jabberd.sm.roster import usernameOf
from jabberd.sm.session import NO_DIRECTED
from jabberd.storage.rostercache import rosterInMemory
from jabberd.storage import RosterItem
from jabberd.stanza import firstChild, parseElement

__all__ = ["PresenceHandler", "priorityOf", "SUBSCRIPTION_TYPES"]

SUBSCRIPTION_TYPES = frozenset(("subscribe", "subscribed", "unsubscribe", "unsubscribed"))
_FROM = ("from", "both")  # the contact receives the user's presence
_TO = ("to", "both")  # the user receives the contact's presence
_UNKNOWN = object()  # what memory does not hold

#: L{jabberd.dispatch} tables of the subscription handlers, keyed by presence type.
OUTBOUND = "outbound subscription"
INBOUND = "inbound subscription"


def priorityOf(presence):
    """
    The priority of C{presence} (section 4.7.2.3): 0 when absent or not an
    integer; an integer outside -128..127 is clamped, keeping its sign,
    because a negative priority means "no messages to my bare JID".
    """
    text = _childText(presence, "priority")
    if text is None:
        return 0
    try:
        value = int(text.strip())
    except ValueError:
        return 0
    return max(-128, min(127, value))


def _childText(stanza, name):
    child = firstChild(stanza, stanza.uri, name)
    return str(child) if child is not None else None


def _presence(sender, to, presenceType=None):
    presence = domish.Element((None, "presence"))
    presence["from"] = sender
    if to is not None:
        presence["to"] = to
    if presenceType is not None:
        presence["type"] = presenceType
    return presence


def _retarget(stanza, to, sender=None):
    """
    A copy of C{stanza} addressed to C{to}: one stanza is sent to many
    addresses, and a stanza handed on must not change afterwards.  Children
    are shared, never modified.
    """
    clone = domish.Element((stanza.uri, stanza.name), stanza.defaultUri,
                           dict(stanza.attributes), dict(stanza.localPrefixes))
    clone.children = list(stanza.children)
    clone["to"] = to
    if sender is not None:
        clone["from"] = sender
    return clone


def _unavailableAnswer(bare, replyTo, last):
    """
    Section 4.3.2: the answer to a probe of an account with no available
    resource, with the status of its last logout (XEP-0012) if it had one.
    """
    reply = _presence(bare, replyTo, "unavailable")
    if last and last[1]:
        reply.addElement("status", content=last[1])
    return reply


class PresenceHandler(Handler):
    """
    Presence and subscriptions for local users.  The subscription state
    changes are methods marked by presence type (L{jabberd.dispatch}), one
    table per direction (L{OUTBOUND}, L{INBOUND}).

    @ivar preApproval: whether subscription pre-approval (section 3.4) is
        offered; a C{subscribed} sent with no request pending then marks the
        roster item C{approved}.
    @ivar maxPending: the most inbound subscription requests kept per
        account (L{jabberd.sm.subscriptionrequests}).
    @ivar maxRequestText: the most characters kept of a request's status
        and of its nick.

    After a session's initial presence is broadcast the host's
    C{sessionAvailable} hooks run (offline messages, XEP-0160, go then).
    """

    log = Logger()
    handlerName = "presence"
    requires = ("roster",)
    preApproval = True

    def __init__(self, maxPending=subscriptionrequests.DEFAULT_MAX_PENDING,
                 maxRequestText=subscriptionrequests.DEFAULT_MAX_TEXT):
        self._roster = None
        self.maxPending = maxPending
        self.maxRequestText = maxRequestText

    @classmethod
    def fromConfig(cls, config):
        """The handler with the C{[presence]} settings of C{config}."""
        return cls(config.presence.maxPendingSubscriptions, config.presence.maxRequestText)

    @property
    def storage(self):
        return self.host.storage

    @property
    def roster(self):
        """The attached L{jabberd.sm.roster.RosterHandler}, which stores and pushes items."""
        if self._roster is None:
            self._roster = self.host.handler("roster")
        return self._roster

    def streamFeatures(self):
        """The stream features c2s offers for this handler: pre-approval (3.4)."""
        return [domish.Element((NS_PRESENCE_PREAPPROVAL, "sub"))] if self.preApproval else []

    def _run(self, coroutine):
        d = defer.ensureDeferred(coroutine)
        d.addErrback(lambda f: self.log.failure("presence processing failed", f))
        return d

    # --- hooks ---

    def onOutbound(self, session, stanza):
        """A presence from a client: broadcast, directed, or subscription."""
        if stanza.name != "presence":
            return False
        presenceType = stanza.getAttribute("type")
        to = stanza.getAttribute("to")
        if presenceType in SUBSCRIPTION_TYPES:
            # Without 'to' a subscription stanza means nothing: dropped.
            if to:
                self._run(self.outboundSubscription(session, stanza, presenceType))
            return True
        if not to:
            if presenceType is None:
                self.broadcastAvailable(session, stanza)
            elif presenceType == "unavailable":
                self.broadcastUnavailable(session, stanza)
            return True
        self._trackDirected(session, to, presenceType)
        return False

    def onInbound(self, stanza):
        """A presence routed to a local user."""
        if stanza.name != "presence":
            return False
        to = parseJID(stanza.getAttribute("to") or "")
        if to is None or to.user is None:
            return False
        presenceType = stanza.getAttribute("type")
        if presenceType is None or presenceType in ("unavailable", "error"):
            self.deliver(to, stanza)
        elif presenceType == "probe":
            if not self.answerProbeNow(to.userhost(), stanza):
                self._run(self.answerProbe(to.userhost(), stanza))
        elif presenceType in SUBSCRIPTION_TYPES:
            self._run(self.inboundSubscription(to.userhost(), stanza, presenceType))
        return True

    def sessionEnded(self, session):
        """Section 4.5.2: a session gone, however it went, goes unavailable."""
        if session.available or session.directed:
            self.broadcastUnavailable(session, _presence(session.full, None, "unavailable"))

    # --- presence broadcast (section 4) ---

    def broadcastAvailable(self, session, stanza):
        """Initial presence (4.2) or a presence update (4.4) from C{session}."""
        initial = not session.available
        session.priority = priorityOf(stanza)
        session.presence = stanza
        others = [s for s in self.host.sessionsOf(session.bare)
                  if s.available and s is not session]
        session.deliver(stanza)
        for other in others:
            other.deliver(stanza)
        if initial:
            for other in others:
                session.deliver(other.presence)
        self._run(self._toContacts(session, stanza, initial))
        if initial:
            self._run(self._redeliverPending(session))
            self.host.sessionAvailable(session)

    def _senderFor(self, username):
        """
        A function sending presence on C{username}'s behalf (broadcast,
        probes, probe answers), except to a remote entity the user blocks
        (XEP-0191 section 3.3): the blocking handler's C{onInbound} stops
        what is bound for a local user, but what goes to another server
        never passes it.  The block list is taken now, while a session of
        the user keeps it in memory, before any storage read.
        """
        blocking = self.host.handler("blocking")
        blocked = blocking.listOf(username) if blocking is not None else None
        if not blocked:
            return self.send

        def send(stanza):
            to = parseJID(stanza.getAttribute("to"))
            if to is None or self.host.isLocal(to.host) or not isBlocked(blocked, to):
                self.send(stanza)
        return send

    def _rosterNow(self, username):
        """
        C{username}'s roster items if memory has them (a pinned user's,
        L{jabberd.storage.rostercache}), uncopied, to be read at once and
        not kept; None when only storage has them.
        """
        table = rosterInMemory(self.storage.roster, username)
        return list(table.values()) if table is not None else None

    async def _toContacts(self, session, stanza, probe):
        send = self._senderFor(session.username)
        items = self._rosterNow(session.username)
        if items is None:
            items = await self.storage.roster.items(session.username)
        fanOut = FanOut(stanza)  # one serialisation for every subscriber
        for item in items:
            if item.subscription in _FROM:
                send(fanOut.to(item.jid))
            if probe and item.subscription in _TO:
                # Section 4.3.1: probes go out on behalf of the account.
                send(_presence(session.bare, item.jid, "probe"))

    async def _redeliverPending(self, session):
        """Section 3.1.3: requests kept while offline go to the new resource."""
        for jid, xml in await self.storage.roster.pending(session.username):
            try:
                request = parseElement(xml)
            except ValueError:
                self.log.warn("unreadable stored subscription request from {jid}", jid=jid)
                continue
            session.deliver(request)

    def broadcastUnavailable(self, session, stanza):
        """
        C{session} goes unavailable (4.5): tell the user's other resources
        and subscribers if it was available, and everyone it sent directed
        presence to; record the last logout (XEP-0012).
        """
        wasAvailable = session.available
        directed, session.directed = session.directed, NO_DIRECTED
        session.presence = None
        session.priority = 0
        self._run(self._unavailable(session, stanza, wasAvailable, directed))

    async def _unavailable(self, session, stanza, wasAvailable, directed):
        told = set()
        send = self._senderFor(session.username)
        fanOut = FanOut(stanza)
        if wasAvailable:
            others = [s for s in self.host.sessionsOf(session.bare)
                      if s.available and s is not session]
            for other in others:
                other.deliver(stanza)
            for item in await self.storage.roster.items(session.username):
                if item.subscription in _FROM:
                    told.add(item.jid)
                    send(fanOut.to(item.jid))
        for address in directed:
            if bareOf(address) not in told:
                send(fanOut.to(address))
        if wasAvailable and not others:
            await self.storage.last.set(session.username, time.time(),
                                        _childText(stanza, "status") or "")

    def _trackDirected(self, session, to, presenceType):
        """Section 4.6: remember who got directed presence, to tell them later."""
        jid = parseJID(to)
        address = jid.full() if jid is not None else to
        if presenceType is None:
            if not session.directed:
                session.directed = {address}
            else:
                session.directed.add(address)
        elif presenceType == "unavailable" and address in session.directed:
            session.directed.discard(address)

    def deliver(self, to, stanza):
        """
        Deliver an inbound presence: to the addressed resource if it is
        connected (8.5.3.1; otherwise dropped, 8.5.3.2.1), to every available
        resource for a bare JID (8.5.2.1.1).
        """
        if to.resource is not None:
            session = self.host.session(to.full())
            if session is not None:
                session.deliver(stanza)
            return
        for session in self.host.sessionsOf(to.userhost()):
            if session.available:
                session.deliver(stanza)

    def _notify(self, bare, stanza):
        """
        Deliver a subscription stanza to the user's clients: those that can
        act on it (available) and those that keep the roster (interested).
        """
        for session in self.host.sessionsOf(bare):
            if session.available or session.interested:
                session.deliver(stanza)

    def sendCurrentPresence(self, bare, contact):
        """Send the presence of every available resource of C{bare} to C{contact}."""
        send = self._senderFor(usernameOf(bare))
        for session in self.host.sessionsOf(bare):
            if session.available:
                send(fanOutOf(session.presence, session.full).to(contact))

    def sendUnavailable(self, bare, contact):
        """Send unavailable presence from every available resource of C{bare}."""
        for session in self.host.sessionsOf(bare):
            if session.available:
                self.send(_presence(session.full, contact, "unavailable"))

    # --- probes (section 4.3.2) ---

    async def answerProbe(self, bare, probe):
        """
        Answer a probe to local user C{bare}: their presence if the prober
        may see it, otherwise C{unsubscribed} (which also answers for an
        account that does not exist, section 8.5.1).
        """
        prober = parseJID(probe.getAttribute("from") or "")
        if prober is None:
            return
        send = self._senderFor(usernameOf(bare))
        if not await self._mayProbe(bare, prober):
            send(_presence(bare, prober.userhost(), "unsubscribed"))
            return
        replyTo = prober.full()
        available = [s for s in self.host.sessionsOf(bare) if s.available]
        for session in available:
            send(fanOutOf(session.presence, session.full).to(replyTo))
        if not available:
            send(_unavailableAnswer(bare, replyTo, await self.storage.last.get(usernameOf(bare))))

    def answerProbeNow(self, bare, probe):
        """
        Answer a probe as L{answerProbe} does, at once, when memory has all
        it needs: the prober's roster item (the user is pinned), and an
        available session or else the user's last logout (pinned too, and
        read: a user who bound a resource but sent no presence yet).
        Whether it answered; if not, L{answerProbe} must.  Fifty contacts
        logging in probe each other 2,500 times (section 4.3.2).
        """
        prober = parseJID(probe.getAttribute("from") or "")
        if prober is None:
            return True  # answerProbe ignores it too
        available = [s for s in self.host.sessionsOf(bare) if s.available]
        username = usernameOf(bare)
        last = _UNKNOWN
        if not available:
            peekLast = getattr(self.storage.last, "peek", None)
            last = peekLast(username, _UNKNOWN) if peekLast is not None else _UNKNOWN
            if last is _UNKNOWN:
                return False
        allowed = prober.userhost() == bare or (
            prober.user is None and self.host.isLocal(prober.host))
        if not allowed:
            table = rosterInMemory(self.storage.roster, username)
            if table is None:
                return False
            item = table.get(prober.userhost())
            allowed = item is not None and item.subscription in _FROM
        send = self._senderFor(username)
        if not allowed:
            send(_presence(bare, prober.userhost(), "unsubscribed"))
            return True
        replyTo = prober.full()
        for session in available:
            send(fanOutOf(session.presence, session.full).to(replyTo))
        if not available:
            send(_unavailableAnswer(bare, replyTo, last))
        return True

    async def _mayProbe(self, bare, prober):
        if prober.userhost() == bare:
            return True
        if prober.user is None and self.host.isLocal(prober.host):
            return True  # the server itself (section 4.3.2 allows trusted services)
        item = await self.storage.roster.item(usernameOf(bare), prober.userhost())
        return item is not None and item.subscription in _FROM

    # --- subscriptions: the user's side (outbound) ---

    async def outboundSubscription(self, session, stanza, presenceType):
        """
        A subscription stanza from a client: change the roster first (so a
        local contact's immediate answer finds the new state), then route it
        from the bare JID to the contact's bare JID (section 3.1.2).
        """
        target = parseJID(stanza.getAttribute("to"))
        if target is None:
            session.deliver(errorReply(stanza, "jid-malformed"))
            return
        contact = target.userhost()
        handler = handlerFor(self, presenceType, OUTBOUND)
        await self.roster.exclusive(session.bare, handler, session.bare, contact,
                                    _retarget(stanza, contact, session.bare))

    @handlesKey(OUTBOUND, "subscribe")
    async def _outSubscribe(self, bare, contact, stanza):
        """Section 3.1.2: the item asks (None/From + Pending Out)."""
        item = await self._item(bare, contact) or RosterItem(contact)
        if item.subscription not in _TO and not item.ask:
            item.ask = "subscribe"
            await self.roster.updateItem(bare, item)
        self.send(stanza)

    @handlesKey(OUTBOUND, "subscribed")
    async def _outSubscribed(self, bare, contact, stanza):
        """
        Section 3.1.5: approve a pending request (-> From/Both), send it and
        the user's presence; with nothing pending, pre-approve (section 3.4).
        Nothing is routed unless a request was pending.
        """
        pending = await self._pendingIn(bare, contact)
        item = await self._item(bare, contact)
        if pending:
            item = item or RosterItem(contact)
            item.subscription = "both" if item.subscription in _TO else "from"
            item.approved = False
            await self.storage.roster.removePending(usernameOf(bare), contact)
            await self.roster.updateItem(bare, item)
            self.send(stanza)
            self.sendCurrentPresence(bare, contact)
        elif self.preApproval and (item is None or item.subscription not in _FROM):
            item = item or RosterItem(contact)
            if not item.approved:
                item.approved = True
                await self.roster.updateItem(bare, item)

    @handlesKey(OUTBOUND, "unsubscribe")
    async def _outUnsubscribe(self, bare, contact, stanza):
        """Section 3.3.2: the user stops receiving the contact's presence."""
        item = await self._item(bare, contact)
        if item is not None and (item.subscription in _TO or item.ask):
            item.ask = ""
            item.subscription = "from" if item.subscription == "both" else (
                "none" if item.subscription == "to" else item.subscription)
            await self.roster.updateItem(bare, item)
        self.send(stanza)

    @handlesKey(OUTBOUND, "unsubscribed")
    async def _outUnsubscribed(self, bare, contact, stanza):
        """
        Section 3.2.2: deny a pending request or cancel the contact's
        subscription (and any pre-approval); a cancelled subscriber gets
        unavailable presence from every available resource.
        """
        if await self._pendingIn(bare, contact):
            await self.storage.roster.removePending(usernameOf(bare), contact)
        item = await self._item(bare, contact)
        hadFrom = item is not None and item.subscription in _FROM
        if item is not None and (hadFrom or item.approved):
            item.subscription = {"both": "to", "from": "none"}.get(
                item.subscription, item.subscription)
            item.approved = False
            await self.roster.updateItem(bare, item)
        self.send(stanza)
        if hadFrom:
            self.sendUnavailable(bare, contact)

    # --- subscriptions: the contact's side (inbound) ---

    async def inboundSubscription(self, bare, stanza, presenceType):
        """A subscription stanza for local user C{bare} from someone."""
        sender = parseJID(stanza.getAttribute("from") or "")
        if sender is None:
            return
        handler = handlerFor(self, presenceType, INBOUND)
        await self.roster.exclusive(bare, handler, bare, sender.userhost(), stanza)

    @handlesKey(INBOUND, "subscribe")
    async def _inSubscribe(self, bare, contact, stanza):
        """
        Section 3.1.3: auto-reply if already subscribed or pre-approved,
        otherwise keep the request and show it to the available resources.
        """
        username = usernameOf(bare)
        if not await self.storage.accounts.exists(username):
            self.send(_presence(bare, contact, "unsubscribed"))  # section 8.5.1
            return
        item = await self._item(bare, contact)
        if item is not None and item.subscription in _FROM:
            self.send(_presence(bare, contact, "subscribed"))
            return
        if item is not None and item.approved:
            item.subscription = "both" if item.subscription in _TO else "from"
            item.approved = False
            await self.roster.updateItem(bare, item)
            self.send(_presence(bare, contact, "subscribed"))
            self.sendCurrentPresence(bare, contact)
            return
        pending = await self.storage.roster.pending(username)
        if len(pending) >= self.maxPending and all(jid != contact for jid, _ in pending):
            self.log.warn("{user}: {count} subscription requests waiting; refusing {contact}'s",
                          user=bare, count=len(pending), contact=contact)
            self.send(errorReply(stanza, "resource-constraint", type="wait",
                                 text="too many subscription requests are waiting"))
            return
        request = subscriptionrequests.keptRequest(stanza, contact, bare, self.maxRequestText)
        await self.storage.roster.addPending(username, contact, request.toXml())
        for session in self.host.sessionsOf(bare):
            if session.available:
                session.deliver(stanza)

    @handlesKey(INBOUND, "subscribed")
    async def _inSubscribed(self, bare, contact, stanza):
        """Section 3.1.6: only an approval the user asked for counts."""
        item = await self._item(bare, contact)
        if item is None or not item.ask:
            return
        item.ask = ""
        item.subscription = "both" if item.subscription in _FROM else "to"
        await self.roster.updateItem(bare, item)
        self._notify(bare, stanza)

    @handlesKey(INBOUND, "unsubscribe")
    async def _inUnsubscribe(self, bare, contact, stanza):
        """
        Section 3.3.3: the contact no longer wants the user's presence (or
        withdraws its request); it gets unavailable from each resource.
        """
        pending = await self._pendingIn(bare, contact)
        if pending:
            await self.storage.roster.removePending(usernameOf(bare), contact)
        item = await self._item(bare, contact)
        hadFrom = item is not None and item.subscription in _FROM
        if hadFrom:
            item.subscription = "to" if item.subscription == "both" else "none"
            await self.roster.updateItem(bare, item)
        if pending or hadFrom:
            self._notify(bare, stanza)
        if hadFrom:
            self.sendUnavailable(bare, contact)

    @handlesKey(INBOUND, "unsubscribed")
    async def _inUnsubscribed(self, bare, contact, stanza):
        """Section 3.2.3: the contact denied or cancelled the user's subscription."""
        item = await self._item(bare, contact)
        if item is None or (item.subscription not in _TO and not item.ask):
            return
        item.ask = ""
        item.subscription = "from" if item.subscription == "both" else (
            "none" if item.subscription == "to" else item.subscription)
        await self.roster.updateItem(bare, item)
        self._notify(bare, stanza)

    def _item(self, bare, contact):
        return self.storage.roster.item(usernameOf(bare), contact)

    async def _pendingIn(self, bare, contact):
        pending = await self.storage.roster.pending(usernameOf(bare))
        return any(jid == contact for jid, _xml in pending)
