# -*- test-case-name: tests.cluster.test_directory -*-
"""
The cluster-wide session directory: which node holds which full JID, with
its priority and presence (RFC 6121 sections 4.7.2.3 and 8.5), kept in the
session table of every node as L{RemoteSession}s.

Each node is the authority for its own sessions and announces every change
on the directory subject; every other node applies it.  A node that starts
asks the others for their sessions (C{hello}), and they answer it directly.

A resource bound on two nodes at once (RFC 6120 section 7.7.2.2) is
resolved the same way on every node: the later bind wins, by its time and
then by node name, and the node holding the earlier one ends it with
C{conflict}.

After a partition (a node cut off NATS, then back), each side has dropped
the other's sessions and told its own users they went.  When the nodes hear
each other again they answer as to a C{hello}: the answer is a snapshot of
the sessions, and each node delivers the presence of every session it
learns from a snapshot to that user's contacts connected to it (RFC 6121
section 4.2.2, as the broadcast they missed), so contacts see them come
back without a restart.
"""

from twisted.internet import defer

from jabberd.cluster.remote import RemoteSession
from jabberd.cluster.wire import WireError, stanzaOf
from jabberd.jidutil import parseJID
from jabberd.logs import Logger
from twisted.words.xish import domish

__all__ = ["SessionDirectory", "unavailable"]


def unavailable(full):
    """The unavailable presence of the session C{full} (RFC 6121 section 4.5)."""
    presence = domish.Element((None, "presence"))
    presence["from"] = full
    presence["type"] = "unavailable"
    return presence


def _sessionJID(full):
    """The prepared full JID of a directory entry; L{WireError} if it is not one."""
    jid = parseJID(full) if isinstance(full, str) else None
    if jid is None or jid.user is None or jid.resource is None:
        raise WireError(f"not a full JID: {full!r}")
    return jid


def _addressed(presence, to):
    """A copy of C{presence} addressed to C{to} (children shared, never changed)."""
    clone = domish.Element((presence.uri, presence.name), presence.defaultUri,
                           dict(presence.attributes), dict(presence.localPrefixes))
    clone.children = list(presence.children)
    clone["to"] = to
    return clone


class SessionDirectory:
    """
    The remote sessions in this node's session table.

    @ivar sm: the L{jabberd.sm.manager.SessionManager}.
    @ivar node: this node's name.
    @ivar byNode: node name -> {full JID: L{RemoteSession}}.
    @ivar boundAt: full JID -> bind time of this node's own sessions.
    @ivar quiet: full JIDs of own sessions being handed to another node
        (L{jabberd.cluster.handover}), whose end is not announced.
    """

    log = Logger()

    def __init__(self, cluster, sm, node):
        self.cluster = cluster
        self.sm = sm
        self.node = node
        self.byNode = {}
        self.boundAt = {}
        self.quiet = set()

    def sessionCount(self, node):
        """How many sessions C{node} holds, as this node knows."""
        return sum(1 for s in self.byNode.get(node, {}).values() if self._current(s))

    def bound(self, message):
        """A session was bound on another node (or is there, in answer to C{hello})."""
        jid = _sessionJID(message.get("full"))
        node, at = message["node"], float(message.get("at", 0))
        current = self.sm.session(jid.full())
        if current is not None and not self._laterThan(node, at, current):
            return  # ours (or a known one) is the later bind: its node ends the other
        if current is not None:
            self._replace(current)
        session = RemoteSession(self.cluster, node, jid, at)
        self._apply(session, message)
        self.byNode.setdefault(node, {})[session.full] = session
        self.sm.addRemote(session)

    def _laterThan(self, node, at, current):
        """Whether a bind at C{at} on C{node} is later than C{current}'s."""
        currentNode = getattr(current, "node", self.node)
        currentAt = current.bound if current.remote else self.boundAt.get(current.full, 0)
        if currentNode == node:
            return at >= currentAt
        return (at, node) > (currentAt, currentNode)

    def _replace(self, current):
        """The session C{current} lost its resource to a later bind elsewhere."""
        if current.remote:
            self._forget(current)
        else:
            # As a single server replaces a session (RFC 6120 section
            # 7.7.2.2): it ends here, hooks and all, before its stream closes.
            self.sm.unbindSession(current)
            current.close("conflict", "Replaced by new connection")

    def updated(self, message):
        """A remote session's presence, priority or roster interest changed."""
        session = self.byNode.get(message["node"], {}).get(message.get("full"))
        if session is not None:
            self._apply(session, message)

    def _apply(self, session, message):
        if "presence" in message:
            wasAvailable = session.available
            session.presence = stanzaOf(message["presence"])
            session.priority = int(message.get("priority", 0))
            if session.presence is not None and not message.get("resumed"):
                self.toOwnResources(session, session.presence)
                if message.get("snapshot") and not wasAvailable:
                    self.toLocalContacts(session)
            elif wasAvailable:
                self.toOwnResources(session, unavailable(session.full))
        if "interested" in message:
            session.interested = bool(message["interested"])
        if "carbons" in message:
            self._carbons(session, bool(message["carbons"]))

    def _carbons(self, session, enabled):
        """
        A remote session's carbons state (XEP-0280): in this node's carbons
        handler, so that what this node routes is copied to it too (a copy
        is made once, by the node that routes the message).
        """
        carbons = self.sm.handler("carbons")
        if carbons is None:
            return
        resources = carbons.enabled.get(session.bare)
        if enabled:
            carbons.enabled.setdefault(session.bare, {})[session.resource] = session
        elif resources is not None and resources.get(session.resource) is session:
            del resources[session.resource]
            if not resources:
                del carbons.enabled[session.bare]

    def toOwnResources(self, session, presence):
        """
        Deliver a remote C{session}'s presence broadcast to the user's
        available resources on this node (RFC 6121 sections 4.2.2, 4.4.2
        and 4.5.2: a user's resources see each other's presence).
        """
        for local in self.sm.sessionsOf(session.bare):
            if not local.remote and local.available:
                local.deliver(presence)

    def toLocalContacts(self, session):
        """
        Deliver a remote C{session}'s presence to the user's contacts (their
        roster item has C{from} or C{both}) with resources on this node; the
        first node alive also sends it to contacts on other servers, as it
        told them when the session's node was lost.
        """
        d = defer.ensureDeferred(self._toLocalContacts(session))
        d.addErrback(lambda f: self.log.failure("presence of a rejoined session failed", f))
        return d

    async def _toLocalContacts(self, session):
        reaper = self.cluster.membership.isReaper()
        for item in await self.sm.storage.roster.items(session.username):
            if item.subscription not in ("from", "both") or session.presence is None:
                continue
            contact = parseJID(item.jid)
            if contact is None:
                continue
            if not self.sm.isLocal(contact.host):
                if reaper:
                    self.sm.send(_addressed(session.presence, item.jid))
                continue
            for local in self.sm.sessionsOf(contact.userhost()):
                if not local.remote and local.available:
                    local.deliver(_addressed(session.presence, local.full))

    def ended(self, message):
        """A session of another node ended."""
        session = self.byNode.get(message["node"], {}).get(message.get("full"))
        if session is not None:
            wasAvailable = session.available and self._current(session)
            self._forget(session)
            if wasAvailable:
                self.toOwnResources(session, unavailable(session.full))

    def _current(self, session):
        """Whether C{session} is still the table's (a local bind may have replaced it)."""
        return self.sm.session(session.full) is session

    def _forget(self, session):
        self.byNode.get(session.node, {}).pop(session.full, None)
        self.sm.unbindSession(session)
        self._carbons(session, False)
        session.active = False

    def dropNode(self, node):
        """
        Forget every session of C{node} (it stopped or died): the sessions
        that were available, for their unavailable presence.
        """
        sessions = [s for s in self.byNode.pop(node, {}).values() if self._current(s)]
        available = [s for s in sessions if s.available]
        for session in sessions:
            self.sm.unbindSession(session)
            self._carbons(session, False)
        return available
