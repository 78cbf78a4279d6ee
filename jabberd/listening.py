# -*- test-case-name: tests.test_listening -*-
"""
Where connections come in: one listener service for every port the server
opens (c2s, s2s, components, HTTP), and the socket option every stream
sets on its connection.

Listeners are configured as Twisted endpoint strings (C{tcp:5222},
C{ssl:5223:...}, C{unix:...}); a configuration may ask for port 0, so the
bound port is reported to the owner (tests use ephemeral ports).
"""

import socket

from twisted.application import service
from twisted.internet import endpoints

from jabberd.logs import Logger

__all__ = ["ListenerService", "setNoDelay", "hasQueuedOutput", "sendQueued", "listenReusable",
           "withPort"]

log = Logger()


def setNoDelay(transport):
    """
    Turn Nagle's algorithm off on C{transport} when it has a TCP socket:
    stanzas and HTTP answers are small and wait for nothing, and with Nagle
    a reply written while the previous segment is unacknowledged waits for
    the peer's delayed ACK.
    """
    setTcpNoDelay = getattr(transport, "setTcpNoDelay", None)
    if setTcpNoDelay is not None:
        setTcpNoDelay(True)


def hasQueuedOutput(transport):
    """
    Whether the Twisted TCP transport C{transport} holds data it has not
    sent yet (its write buffer, or writes not yet joined to it).  A
    transport that is not one (no C{_tempDataLen}) counts as holding some,
    so its own C{write} is used.
    """
    return bool(getattr(transport, "_tempDataLen", 1)
                or transport.offset != len(transport.dataBuffer))


def sendQueued(transport):
    """
    Send what C{transport} (a Twisted TCP transport) has queued now, not at
    the next poll round.  Twisted only queues a write and sends it when the
    reactor next finds the socket writable, after the other connections
    that poll round reports have been read and handled: an answer written
    at the end of one request's handling (a BOSH response) would wait for
    all of them.  A transport without a send queue of its own (a TLS layer)
    is left alone; a failed send is left for the reactor, which still
    watches the socket and closes it.
    """
    doWrite = getattr(transport, "doWrite", None)
    if (doWrite is None or not getattr(transport, "connected", False)
            or transport.disconnecting):
        return
    if hasQueuedOutput(transport):
        doWrite()


class ListenerService(service.Service):
    """
    Listens on the endpoint string C{description} with C{factory} while the
    service runs.  A server that cannot open one of its ports is not
    started: the failure is logged and the reactor stopped.

    @ivar portBound: called with (name, port number) once listening, or None.
    @ivar port: the listening port, or None.
    @ivar reusePort: listen on C{tcp:} endpoints with C{SO_REUSEPORT}, so
        that the worker processes of one host share each port (the kernel
        spreads connections over them); set by C{[cluster] workers}.
    """

    reusePort = False

    def __init__(self, description, factory, name, portBound=None, reactor=None):
        self.description = description
        self.factory = factory
        self.portBound = portBound
        self.setName(name)
        self.port = None
        self._reactor = reactor

    @property
    def reactor(self):
        if self._reactor is None:
            from twisted.internet import reactor
            self._reactor = reactor
        return self._reactor

    def startService(self):
        service.Service.startService(self)
        if self.reusePort and self.description.startswith("tcp:"):
            try:
                self._listening(listenReusable(self.reactor, self.description, self.factory))
            except (OSError, ValueError) as e:
                log.error("cannot listen on {desc}: {error}", desc=self.description, error=e)
                self._failed(None)
            return None
        d = endpoints.serverFromString(self.reactor, self.description).listen(self.factory)
        d.addCallbacks(self._listening, self._failed)
        return d

    def _listening(self, port):
        self.port = port
        if self.portBound is not None:
            self.portBound(self.name, port.getHost().port)

    def _failed(self, failure):
        if failure is not None:
            log.failure("cannot listen on {desc}", failure, desc=self.description)
        if self.reactor.running:
            self.reactor.stop()
        else:
            self.reactor.callWhenRunning(self.reactor.stop)

    def stopService(self):
        service.Service.stopService(self)
        if self.port is not None:
            port, self.port = self.port, None
            return port.stopListening()


def _tcpParts(description):
    """The port and the C{key=value} options of a C{tcp:PORT:...} endpoint string."""
    fields = description.split(":")[1:]
    options = dict(f.split("=", 1) for f in fields if "=" in f)
    positional = [f for f in fields if "=" not in f]
    port = int(options.pop("port", positional[0] if positional else "0"))
    return port, options


def withPort(description, port):
    """The C{tcp:} endpoint string C{description} on C{port} instead of its own."""
    _, options = _tcpParts(description)
    return ":".join(["tcp", str(port)] + [f"{k}={v}" for k, v in options.items()])


def listenReusable(reactor, description, factory):
    """
    Listen on the C{tcp:} endpoint C{description} with C{SO_REUSEPORT} set
    (Linux 3.9, BSD): several processes bind the same port and the kernel
    spreads incoming connections over them.  Returns the Twisted port.
    """
    port, options = _tcpParts(description)
    interface = options.get("interface", "")
    family = socket.AF_INET6 if ":" in interface else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((interface, port))
        sock.listen(int(options.get("backlog", 50)))
        sock.setblocking(False)
        return reactor.adoptStreamPort(sock.fileno(), family, factory)
    finally:
        sock.close()  # the reactor holds its own copy of the descriptor
