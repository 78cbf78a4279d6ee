"""
Tests for L{jabberd.listening}: the listener service, the no-delay socket option and sending
queued bytes at once.
"""

import socket

from twisted.internet import defer, endpoints, error, protocol, reactor
from twisted.internet.testing import MemoryReactor
from twisted.trial import unittest

from jabberd.listening import ListenerService, sendQueued, setNoDelay


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


class QueuingTransport:
    """The parts of a Twisted TCP transport that sendQueued reads, recording doWrite calls."""

    connected = True
    disconnecting = False

    def __init__(self, queued=b""):
        self.dataBuffer, self.offset, self._tempDataLen = queued, 0, 0
        self.writes = 0

    def doWrite(self):
        self.writes += 1
        self.offset = len(self.dataBuffer)


def test_sendQueuedSendsWhatIsQueued():
    """sendQueued sends a TCP transport's queued bytes now, whether buffered or in its list."""
    transport = QueuingTransport(b"HTTP/1.1 200 OK")
    sendQueued(transport)
    assert transport.writes == 1
    listed = QueuingTransport()
    listed._tempDataLen = 10
    sendQueued(listed)
    assert listed.writes == 1


def test_sendQueuedLeavesOthersAlone():
    """Nothing queued, a closing or closed connection, or no send queue: nothing is called."""
    empty = QueuingTransport()
    sendQueued(empty)
    closing = QueuingTransport(b"x")
    closing.disconnecting = True
    sendQueued(closing)
    closed = QueuingTransport(b"x")
    closed.connected = False
    sendQueued(closed)
    assert (empty.writes, closing.writes, closed.writes) == (0, 0, 0)
    sendQueued(object())
    sendQueued(None)


class SendQueuedLiveTests(unittest.TestCase):
    """sendQueued on a real loopback TCP connection."""

    @defer.inlineCallbacks
    def test_bytesAreInTheKernelBeforeTheReactorPolls(self):
        """What a transport queued is readable by the peer before the reactor runs again."""
        server = socket.socket()
        self.addCleanup(server.close)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", server.getsockname()[1])
        client = yield endpoint.connect(protocol.Factory.forProtocol(protocol.Protocol))
        self.addCleanup(client.transport.loseConnection)
        server.settimeout(5)
        accepted, _ = server.accept()
        self.addCleanup(accepted.close)
        client.transport.write(b"answer")
        sendQueued(client.transport)
        accepted.settimeout(1)
        self.assertEqual(accepted.recv(100), b"answer")
