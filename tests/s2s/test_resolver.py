"""Tests for L{jabberd.s2s.resolver}: where a remote domain's server is, and whether we may go."""

from twisted.internet import defer
from twisted.internet.protocol import ClientFactory
from twisted.internet.testing import MemoryReactorClock

from jabberd.s2s.addresses import AddressPolicy
from jabberd.s2s.resolver import AddressRefused, connectServer

LOOPBACK = AddressPolicy(allowedNetworks=AddressPolicy.networks(["127.0.0.0/8"]))


class Failing(ClientFactory):
    """Records why its connection attempt failed."""

    def __init__(self):
        self.reasons = []

    def clientConnectionFailed(self, connector, reason):
        self.reasons.append(reason)


class Resolving(MemoryReactorClock):
    """A memory reactor whose names resolve from a table."""

    def __init__(self, names):
        super().__init__()
        self.names = names

    def resolve(self, name, timeout=(1,)):
        return defer.succeed(self.names[name])


def test_staticHost():
    """A domain in [s2s] hosts is connected to the address given, with the connect timeout."""
    reactor = MemoryReactorClock()
    factory = ClientFactory()
    connectServer(reactor, "b.test", factory, {"b.test": ("127.0.0.2", 5270)}, 7, LOOPBACK)
    assert reactor.tcpClients == [("127.0.0.2", 5270, factory, 7, None)]


def test_loopbackRefusedByDefault():
    """Without an allowance a loopback address is not connected to; the attempt fails later."""
    reactor = MemoryReactorClock()
    factory = Failing()
    connectServer(reactor, "b.test", factory, {"b.test": ("127.0.0.2", 5270)}, 7)
    assert factory.reasons == []  # never within the caller's own call
    reactor.advance(0)
    assert reactor.tcpClients == []
    [reason] = factory.reasons
    assert reason.check(AddressRefused)


def test_nameResolvedThenChecked():
    """A host name is resolved first; a private answer is refused before any connection."""
    reactor = Resolving({"xmpp.b.test": "10.0.0.5"})
    factory = Failing()
    connectServer(reactor, "b.test", factory, {"b.test": ("xmpp.b.test", 5269)}, 7)
    reactor.advance(0)
    assert reactor.tcpClients == []
    assert factory.reasons[0].check(AddressRefused)


def test_publicNameConnected():
    """A name that resolves to a public address is connected to, by that address."""
    reactor = Resolving({"xmpp.b.test": "192.0.32.10"})
    factory = Failing()
    connectServer(reactor, "b.test", factory, {"b.test": ("xmpp.b.test", 5269)}, 7)
    assert [client[:2] for client in reactor.tcpClients] == [("192.0.32.10", 5269)]


def test_ipLiteralDomainRefused():
    """A domain that is an IP literal is refused without a DNS query or a connection."""
    reactor = MemoryReactorClock()
    factory = Failing()
    connectServer(reactor, "10.0.0.5", factory, {}, 7)
    reactor.advance(0)
    assert reactor.tcpClients == []
    assert factory.reasons[0].check(AddressRefused)
