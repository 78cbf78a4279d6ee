"""Tests for L{jabberd.listening}: the listener service and the no-delay socket option."""

from twisted.internet import error, protocol
from twisted.internet.testing import MemoryReactor

from jabberd.listening import ListenerService, setNoDelay


class RefusingReactor(MemoryReactor):
    """A memory reactor on which every TCP port is taken."""

    def listenTCP(self, port, factory, backlog=50, interface=""):
        raise error.CannotListenError(interface, port, OSError("in use"))


def test_listensAndReportsPort():
    """Starting the service listens on the endpoint and reports the bound port by name."""
    reactor = MemoryReactor()
    bound = []
    factory = protocol.ServerFactory()
    listener = ListenerService("tcp:5222:interface=127.0.0.1", factory, "c2s",
                               lambda *args: bound.append(args), reactor=reactor)
    listener.startService()
    [(port, listened, _, interface)] = reactor.tcpServers
    assert (port, listened, interface) == (5222, factory, "127.0.0.1")
    assert listener.name == "c2s" and len(bound) == 1 and bound[0][0] == "c2s"
    assert listener.port is not None


def test_stopStopsListening():
    """Stopping the service closes its port, and a second stop does nothing."""
    reactor = MemoryReactor()
    listener = ListenerService("tcp:0", protocol.ServerFactory(), "http", reactor=reactor)
    listener.startService()
    stopped = []
    listener.port.stopListening = lambda: stopped.append(True)
    listener.stopService()
    assert stopped == [True] and listener.port is None
    assert listener.stopService() is None


def test_failureStopsTheServer():
    """A port that cannot be opened stops the reactor once it runs (the server does not start)."""
    reactor = RefusingReactor()
    listener = ListenerService("tcp:5222", protocol.ServerFactory(), "c2s", reactor=reactor)
    listener.startService()
    assert listener.port is None
    assert reactor.whenRunningHooks == [(reactor.stop, (), {})]


def test_failureWhileRunningStopsNow():
    """A listener started on a running reactor stops it at once when its port is taken."""
    reactor = RefusingReactor()
    reactor.running = True
    stopped = []
    reactor.stop = lambda: stopped.append(True)
    ListenerService("tcp:5222", protocol.ServerFactory(), "c2s", reactor=reactor).startService()
    assert stopped == [True]


def test_setNoDelay():
    """setNoDelay turns Nagle's algorithm off on a TCP transport and ignores other transports."""

    class TCPTransport:
        noDelay = False

        def setTcpNoDelay(self, enabled):
            self.noDelay = enabled

    transport = TCPTransport()
    setNoDelay(transport)
    assert transport.noDelay is True
    setNoDelay(object())
    setNoDelay(None)
