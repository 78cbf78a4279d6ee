# -*- test-case-name: tests.sm.test_message -*-
"""
Delivery of messages and iqs to local users (RFC 6121 section 8.5).

 - A message to a full JID goes to that connected resource (8.5.3.1); if
   there is none, chat and normal messages are handled as if sent to the
   bare JID, groupchat bounces and headline or error is dropped (8.5.3.2.1).
 - A message to a bare JID goes to the available resources of the highest
   non-negative priority, headlines to every non-negative one, groupchat
   bounces, errors are dropped (8.5.2.1.1).  With no such resource, chat and
   normal messages are offered to the C{onUndeliverable} hooks (offline
   storage, XEP-0160) and otherwise bounce with C{service-unavailable} (8.5.2.2), as does anything
   for an account that does not exist (8.5.1).
 - An iq to a full JID goes to that session, or a get/set bounces with
   C{service-unavailable} (8.5.3.2.1).  Iqs to a bare JID or to the server
   are left to the iq handlers, which answer on the account's behalf.

This is the chat hot path: a recipient who is online costs dictionary
look-ups only; the store is asked whether an account exists only when none
of its resources is connected.

Messages for one account with no resource are looked up and stored one at
a time, in the order they came; those waiting their turn are bounded by
C{[server] offline_backlog} bytes per account, past which a message
bounces with C{resource-constraint} (RFC 6120 section 8.3.3.18, type
C{wait}), so a sender faster than storage cannot make the server hold its
messages without bound.
"""

from twisted.internet import defer
from twisted.words.xish import domish

from jabberd.logs import Logger

from jabberd.error import errorReply
from jabberd.handler import Handler
from jabberd.jidutil import parseJID

__all__ = ["MessageHandler", "recipients", "sessionOf", "resourcesOf"]


class MessageHandler(Handler):
    """Deliver messages and iqs addressed to local users' JIDs."""

    log = Logger()
    handlerName = "message"

    def __init__(self, offlineBacklog=1048576):
        self._offlineLocks = {}
        self._backlog = {}  # bare JID -> bytes of messages waiting for the lock
        self.offlineBacklog = offlineBacklog

    @classmethod
    def fromConfig(cls, config):
        """The handler with C{[server] offline_backlog}."""
        return cls(config.server.offlineBacklog)

    def onInbound(self, stanza):
        """Deliver messages to users and iqs to full JIDs; leave the rest."""
        name = stanza.name
        if name != "message" and name != "iq":
            return False
        to = stanza.getAttribute("to")
        if not to:
            return False
        slash = to.find("/")
        if to.find("@", 0, slash if slash >= 0 else len(to)) < 0:
            return False  # the server itself
        if name == "iq":
            if slash < 0:
                return False  # answered on the account's behalf by iq handlers
            self._iqToFull(stanza, to)
        elif slash < 0:
            self._messageToBare(stanza, to, _kind(stanza))
        else:
            self._messageToFull(stanza, to, slash)
        return True

    # --- iq ---

    def _iqToFull(self, iq, to):
        session = sessionOf(self.host, to)
        if session is not None:
            session.deliver(iq)
        elif iq.getAttribute("type") in ("get", "set"):
            self.send(errorReply(iq, "service-unavailable"))

    # --- message ---

    def _messageToFull(self, stanza, to, slash):
        session = sessionOf(self.host, to)
        if session is not None:
            session.deliver(stanza)
            return
        kind = _kind(stanza)
        if kind == "groupchat":
            self.send(errorReply(stanza, "service-unavailable"))
        elif kind in ("chat", "normal"):
            self._messageToBare(stanza, to[:slash], kind)
        # headline and error to a resource that is gone: dropped

    def _messageToBare(self, stanza, bare, kind):
        if kind == "error":
            return
        if kind == "groupchat":
            self.send(errorReply(stanza, "service-unavailable"))
            return
        resources = resourcesOf(self.host, bare)
        targets = _targets(resources, kind) if resources else ()
        for session in targets:
            session.deliver(stanza)
        if targets or kind == "headline":
            return
        if resources:
            self._offline(stanza)  # connected but not available: the account exists
        else:
            self._unknownOrOffline(stanza, bare)

    def _unknownOrOffline(self, stanza, bare):
        jid = parseJID(bare)
        if jid is None or jid.user is None:
            self._bounce(stanza)
            return
        # A storage pool with several threads may answer out of order:
        # messages to one recipient go through the look-up and the store
        # one at a time, so they are stored in the order they came.
        lock = self._offlineLocks.get(bare)
        if lock is None:
            lock = self._offlineLocks[bare] = defer.DeferredLock()
        size = 0
        if lock.locked and self.offlineBacklog:
            size = len(stanza.toXml())
            waiting = self._backlog.get(bare, 0)
            if waiting + size > self.offlineBacklog:
                self.send(errorReply(_envelope(stanza), "resource-constraint", type="wait"))
                return
            self._backlog[bare] = waiting + size
        d = lock.run(self._lookUpAndStore, stanza, jid.user, bare, size)
        d.addErrback(self._failed, stanza)
        d.addBoth(self._releaseLock, bare, lock)

    def _lookUpAndStore(self, stanza, username, bare, size):
        if size:
            left = self._backlog[bare] - size
            if left:
                self._backlog[bare] = left
            else:
                del self._backlog[bare]
        d = self.host.storage.accounts.exists(username)
        d.addCallback(lambda exists: self._offline(stanza) if exists else self._bounce(stanza))
        return d

    def _releaseLock(self, _, bare, lock):
        if not lock.locked and not lock.waiting and self._offlineLocks.get(bare) is lock:
            del self._offlineLocks[bare]

    def _offline(self, stanza):
        """
        A chat or normal message for an existing user with no available
        resource (RFC 6121 section 8.5.2.2): bounced with
        C{service-unavailable} unless an C{onUndeliverable} hook takes it.
        """
        d = self.host.undeliverable(stanza)
        d.addCallback(lambda taken: None if taken else self._refused(stanza))
        d.addErrback(self._failed, stanza)
        return d

    def _bounce(self, stanza):
        self.send(errorReply(stanza, "service-unavailable"))

    def _refused(self, stanza):
        # Not taken for an offline account (its spool full, or no store):
        # bounced without the payload, so a flood at a full spool is not
        # sent back to its sender message by message; the id says which.
        self.send(errorReply(_envelope(stanza), "service-unavailable"))

    def _failed(self, failure, stanza):
        self.log.failure("message delivery failed", failure)
        self.send(errorReply(stanza, "internal-server-error"))


def _envelope(stanza):
    """
    C{stanza} without its payload: a bounce for a flood need not echo each
    message back (RFC 6120 section 8.3.1 lets the payload be left out).
    Echoing it cost a copy of every refused message in the sender's output
    (300 messages of 200 KB to a full offline spool: 50 MB).
    """
    envelope = domish.Element((stanza.uri, stanza.name))
    envelope.attributes.update(stanza.attributes)
    return envelope


def recipients(host, stanza):
    """
    The sessions L{MessageHandler} delivers the message C{stanza} to, by
    the rules above, without delivering it: empty when it bounces, is
    dropped or is left to offline storage.  Message Carbons (XEP-0280
    section 7) copy to the resources not in it, so that no resource gets a
    message twice.
    """
    to = stanza.getAttribute("to") or ""
    kind = _kind(stanza)
    bare, slash, _ = to.partition("/")
    if slash:
        session = sessionOf(host, to)
        if session is not None:
            return [session]
        if kind != "chat" and kind != "normal":
            return []
    if kind == "error" or kind == "groupchat":
        return []
    resources = resourcesOf(host, bare)
    return _targets(resources, kind) if resources else []


# --- the session table, tolerant of unprepared addresses ---


def sessionOf(host, full):
    """The session of C{host} bound to the full JID C{full}, prepared or not, or None."""
    session = host.session(full)
    if session is None:
        jid = parseJID(full)
        if jid is not None and jid.full() != full:
            session = host.session(jid.full())
    return session


def resourcesOf(host, bare):
    """The {resource: session} of the account C{bare}, prepared or not, or None."""
    resources = host.sessions.get(bare)
    if resources is None:
        jid = parseJID(bare)
        if jid is not None and jid.userhost() != bare:
            resources = host.sessions.get(jid.userhost())
    return resources


def _kind(stanza):
    """The message type; absent or unknown means normal (RFC 6121 5.2.2)."""
    kind = stanza.getAttribute("type")
    return kind if kind in ("chat", "groupchat", "headline", "error") else "normal"


def _targets(resources, kind):
    """
    The sessions a bare-JID message goes to (8.5.2.1.1): never one of
    negative priority; a headline to all others, chat and normal to all of
    the highest priority.
    """
    chosen = []
    best = None
    for session in resources.values():
        if not session.available or session.priority < 0:
            continue
        if kind == "headline":
            chosen.append(session)
        elif best is None or session.priority > best:
            best, chosen = session.priority, [session]
        elif session.priority == best:
            chosen.append(session)
    return chosen
