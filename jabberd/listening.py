# -*- test-case-name: tests.test_listening -*-
"""
Where connections come in: one listener service for every port the server
opens (c2s, s2s, components, HTTP), and the socket option every stream
sets on its connection.

Listeners are configured as Twisted endpoint strings (C{tcp:5222},
C{ssl:5223:...}, C{unix:...}); a configuration may ask for port 0, so the
bound port is reported to the owner (tests use ephemeral ports).
"""

from twisted.application import service
from twisted.internet import endpoints

from jabberd.logs import Logger

__all__ = ["ListenerService", "setNoDelay"]

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


class ListenerService(service.Service):
    """
    Listens on the endpoint string C{description} with C{factory} while the
    service runs.  A server that cannot open one of its ports is not
    started: the failure is logged and the reactor stopped.

    @ivar portBound: called with (name, port number) once listening, or None.
    @ivar port: the listening port, or None.
    """

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
        d = endpoints.serverFromString(self.reactor, self.description).listen(self.factory)
        d.addCallbacks(self._listening, self._failed)
        return d

    def _listening(self, port):
        self.port = port
        if self.portBound is not None:
            self.portBound(self.name, port.getHost().port)

    def _failed(self, failure):
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
