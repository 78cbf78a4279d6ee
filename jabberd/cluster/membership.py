# -*- test-case-name: tests.cluster.test_membership -*-
"""
Which nodes are alive: every node sends a heartbeat each C{[cluster]
heartbeat_ms}, and a node silent for C{dead_after_ms} is dead.  A node's
heartbeat carries the id of its process (C{instance}); a new id under a
known name is a restart, and the sessions of the old process are gone.

The node that acts for a dead one (its sessions' unavailable presence,
RFC 6121 section 4.5.2) is the first alive node by name, so exactly one
does.
"""

__all__ = ["Membership"]


class Member:
    """One other node as last heard."""

    __slots__ = ("name", "instance", "lastHeard", "started")

    def __init__(self, name, instance, now):
        self.name = name
        self.instance = instance
        self.lastHeard = now
        self.started = now


class Membership:
    """
    @ivar node: this node's name.
    @ivar deadAfter: seconds of silence after which a node is dead.
    @ivar members: name -> L{Member}, the other nodes alive.
    @ivar onDeath: called with a name when a node is found dead or restarted.
    """

    def __init__(self, node, deadAfter, onDeath, clock):
        self.node = node
        self.deadAfter = deadAfter
        self.onDeath = onDeath
        self.clock = clock
        self.members = {}

    def heard(self, name, instance):
        """A message from C{name}'s process C{instance}: whether it is new (joined or restarted)."""
        if name == self.node:
            return False
        now = self.clock.seconds()
        member = self.members.get(name)
        if member is not None and member.instance == instance:
            member.lastHeard = now
            return False
        if member is not None:
            self.onDeath(name)  # the process we knew is gone: it restarted
        self.members[name] = Member(name, instance, now)
        return True

    def left(self, name, instance):
        """C{name} said it stops (its sessions already ended)."""
        member = self.members.get(name)
        if member is not None and member.instance == instance:
            del self.members[name]

    def check(self):
        """Declare dead every node silent for longer than C{deadAfter}."""
        limit = self.clock.seconds() - self.deadAfter
        for name in [m.name for m in self.members.values() if m.lastHeard < limit]:
            del self.members[name]
            self.onDeath(name)

    def alive(self):
        """The names of the nodes alive, this one included, sorted."""
        return sorted([self.node, *self.members])

    def isReaper(self):
        """Whether this node acts for the dead: the first alive node by name."""
        return self.alive()[0] == self.node
