# -*- test-case-name: tests.sm.test_session -*-
"""
A bound client session (RFC 6120 section 7): one resource of a local user.

The session knows its full JID, its presence and the stream it writes to;
the stream is anything with C{send(element)} and C{closeWithError(condition)}
(TCP, BOSH and WebSocket streams alike).
"""

__all__ = ["Session", "NO_DIRECTED"]

#: The empty set of directed presence every session starts with: one
#: object, since CPython (3.10 on) makes a new 216-byte C{frozenset()} at
#: each call.
NO_DIRECTED = frozenset()


class Session:
    """
    @ivar jid: the bound full L{JID}.
    @ivar presence: the last broadcast available presence element, or None
        while the session has not sent initial presence (RFC 6121 section
        4.2: not yet "available").
    @ivar priority: the priority of that presence (section 4.7.2.3).
    @ivar interested: whether the session requested the roster (section
        2.1.6: roster pushes go to interested resources).
    @ivar directed: full JIDs this session sent directed presence to
        (section 4.6); they get unavailable presence when it ends.
    @ivar deliverHooks: the session manager's C{onDeliver} hooks, set when
        the session is bound.
    @ivar management: the stream management state (XEP-0198,
        L{jabberd.sm.acks.AckState}) once the client enabled it, else None:
        then every stanza written is counted and kept until acknowledged.
    @ivar detached: whether the session lost its connection and waits to
        be resumed (XEP-0198 section 5); it stays bound and available.
    """

    #: Bound here (a cluster's L{jabberd.cluster.remote.RemoteSession} is not).
    remote = False

    # One per connection: no instance dict.
    __slots__ = ("stream", "jid", "full", "bare", "username", "resource", "presence", "priority",
                 "interested", "directed", "active", "deliverHooks", "management", "detached")

    def __init__(self, stream, jid):
        self.stream = stream
        self.jid = jid
        self.full = jid.full()
        self.bare = jid.userhost()
        self.username = jid.user
        self.resource = jid.resource
        self.presence = None
        self.priority = 0
        self.interested = False
        # The one empty frozenset until directed presence is sent (a set then).
        self.directed = NO_DIRECTED
        self.active = True
        self.deliverHooks = ()
        self.management = None
        self.detached = False

    @property
    def available(self):
        """Whether initial presence was sent and the session is still open."""
        return self.active and self.presence is not None

    def deliver(self, stanza):
        """
        Hand C{stanza} to the client: offered first to the session
        manager's C{onDeliver} hooks (L{jabberd.handler.HOOKS}), which may
        take it, then written.
        """
        if self.active:
            for hook in self.deliverHooks:
                if hook(self, stanza):
                    return
            if self.management is None:
                self.stream.send(stanza)
            else:
                self.management.send(stanza)

    def write(self, stanza):
        """
        Write C{stanza} to the client now, past the C{onDeliver} hooks;
        with stream management it is counted and kept until acknowledged
        (XEP-0198 section 4), and only kept while the session is detached.
        """
        if self.active:
            if self.management is None:
                self.stream.send(stanza)
            else:
                self.management.send(stanza)

    def close(self, condition="conflict", text=None):
        """End the stream with a stream error (e.g. replaced by a new login)."""
        self.stream.closeWithError(condition, text)

    def __repr__(self):
        return f"<Session {self.full}>"
