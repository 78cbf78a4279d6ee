# -*- test-case-name: tests.cluster.test_remote -*-
"""
A session bound on another node, as the session table of this node holds
it (RFC 6120 section 7, RFC 6121 section 8.5): full JID, priority and the
last available presence, so that bare-JID delivery, presence broadcast,
probes and roster pushes count it like a local resource.

What a handler hands it is sent to its node, which delivers it to the real
session (its C{onDeliver} hooks run there: CSI, stream management).  No
hook of this node ever runs for it: it is not bound here.
"""


from jabberd.jidutil import bareOf

__all__ = ["RemoteSession"]


class RemoteSession:
    """
    @ivar node: the name of the node holding the session.
    @ivar bound: when it was bound there (seconds since the epoch; a
        resource bound twice keeps the later, L{jabberd.cluster.directory}).
    @ivar cluster: the L{jabberd.cluster.node.ClusterNode} that sends for it.
    @ivar jid: the full L{JID}, prepared.
    """

    __slots__ = ("cluster", "node", "bound", "jid", "full", "bare", "username", "resource",
                 "presence", "priority", "interested", "directed", "active", "detached",
                 "management")

    remote = True

    def __init__(self, cluster, node, jid, bound):
        self.cluster = cluster
        self.node = node
        self.bound = bound
        self.jid = jid
        self.full = self.jid.full()
        self.bare = self.jid.userhost()
        self.username = self.jid.user
        self.resource = self.jid.resource
        self.presence = None
        self.priority = 0
        self.interested = False
        self.directed = set()
        self.active = True
        self.detached = False
        self.management = None

    @property
    def available(self):
        """Whether the session's node says it sent available presence."""
        return self.active and self.presence is not None

    @property
    def stream(self):
        """Writes go to the session's node, past the hooks, like L{write}."""
        return self

    def send(self, stanza):
        """The stream side of L{write}."""
        self.write(stanza)

    def deliver(self, stanza):
        """
        Hand C{stanza} to the session on its node, through that node's
        C{onDeliver} hooks.  A presence broadcast by one of the user's own
        resources (RFC 6121 section 4.2.2: no C{to}) is not sent: the
        directory carries it, and the session's node delivers it when the
        change reaches it (L{jabberd.cluster.directory}), so that two
        resources coming online on two nodes at once see each other once.
        """
        if not self.active:
            return
        if (stanza.name == "presence" and not stanza.getAttribute("to")
                and bareOf(stanza.getAttribute("from") or "") == self.bare):
            return
        self.cluster.toSession(self, "deliver", stanza)

    def write(self, stanza):
        """Write C{stanza} to the session on its node, past the hooks."""
        if self.active:
            self.cluster.toSession(self, "write", stanza)

    def close(self, condition="conflict", text=None):
        """End the session on its node with a stream error."""
        self.cluster.closeSession(self, condition, text)

    def closeWithError(self, condition, text=None):
        """The stream side of L{close}."""
        self.close(condition, text)

    def __repr__(self):
        return f"<RemoteSession {self.full} on {self.node}>"
