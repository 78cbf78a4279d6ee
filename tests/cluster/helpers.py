"""
Cluster nodes without NATS: an in-memory bus that carries what one node's
link publishes to the nodes subscribed to that subject, when L{FakeBus.flush}
is called (so a test chooses what is in flight).
"""

from twisted.internet.task import Clock

from jabberd.cluster.node import ClusterNode
from jabberd.config import ClusterConfig
from tests.sm.helpers import Harness


class FakeBus:
    """Subjects to subscribers; published messages wait in L{queue}."""

    def __init__(self):
        self.subscribers = {}
        self.queue = []
        self.clocks = []

    def flush(self):
        """
        Deliver everything published, including what delivering publishes;
        first the nodes' reactor turns end (their clocks run what is due
        now), so what they queued for the turn is published.
        """
        while True:
            for clock in self.clocks:
                clock.advance(0)
            if not self.queue:
                return
            subject, data = self.queue.pop(0)
            for callback in list(self.subscribers.get(subject, ())):
                callback(subject, data)

    def drop(self):
        """Lose what is in flight (a node died before it left)."""
        self.queue.clear()


class FakeLink:
    """A L{jabberd.cluster.link.NATSLink} on a L{FakeBus}."""

    def __init__(self, bus):
        self.bus = bus
        self.closed = False
        self.cut = False
        self.mine = []

    def subscribe(self, subject, callback):
        def heard(subject, data):
            if not self.cut:
                callback(subject, data)

        self.bus.subscribers.setdefault(subject, []).append(heard)
        self.mine.append((subject, heard))

    def publish(self, subject, data):
        """Queued on the bus; lost while the link is L{cut} off (a partition)."""
        if not self.closed and not self.cut:
            self.bus.queue.append((subject, data))

    def unsubscribeAll(self):
        """Hear nothing more (the process is gone)."""
        for subject, callback in self.mine:
            self.bus.subscribers[subject].remove(callback)
        self.mine = []

    def close(self):
        self.closed = True
        self.unsubscribeAll()


def makeNode(name, bus, clock=None, storage=None):
    """
    A started node C{name} on C{bus}: a session manager harness
    (L{tests.sm.helpers.Harness}) with its L{ClusterNode} as C{harness.node};
    nodes given the same C{storage} share it (accounts alice and bob).
    """
    if storage is None:
        harness = Harness()
    else:
        harness = Harness(users=(), storage=storage)
    clock = clock or Clock()
    if clock not in bus.clocks:
        bus.clocks.append(clock)
    config = ClusterConfig(node=name, name="test", heartbeat=1.0, deadAfter=3.0,
                           secret="a test cluster's secret")
    node = ClusterNode(config, harness.sm, FakeLink(bus), reactor=clock)
    node.join()
    node.startService()
    harness.node = node
    harness.clock = clock
    return harness


def makeCluster(*names):
    """Started nodes on one bus and one clock, sharing storage, that have heard each other."""
    bus = FakeBus()
    clock = Clock()
    first = makeNode(names[0], bus, clock)
    nodes = [first] + [makeNode(n, bus, clock, storage=first.storage) for n in names[1:]]
    bus.flush()
    return bus, clock, nodes
