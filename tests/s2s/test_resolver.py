"""Tests for L{jabberd.s2s.resolver}: where a remote domain's server is."""

from twisted.internet.protocol import ClientFactory
from twisted.internet.testing import MemoryReactorClock

from jabberd.s2s.resolver import connectServer


def test_staticHost():
    """A domain in [s2s] hosts is connected to the address given, with the connect timeout."""
    reactor = MemoryReactorClock()
    factory = ClientFactory()
    connectServer(reactor, "b.test", factory, {"b.test": ("127.0.0.2", 5270)}, 7)
    assert reactor.tcpClients == [("127.0.0.2", 5270, factory, 7, None)]

