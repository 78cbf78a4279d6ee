# -*- test-case-name: tests.test_component -*-
"""
XEP-0114 (Jabber Component Protocol), the component end: runs a
L{jabberd.host.Host} out of process, connected to the router over TCP.

The host is the same object a plugin's C{makeHost} returns for the server
to run in process; only where its output goes changes.  The connection is
kept up by a L{ClientService}, which reconnects with back-off; a
connection that closes before the handshake succeeds (a wrong secret, say)
counts as a failed attempt, so a misconfigured component backs off too.
While disconnected, what the host sends is dropped.
"""

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer, endpoints, protocol
from jabberd.logs import Logger
from twisted.words.protocols.jabber import xmlstream
from twisted.words.protocols.jabber.component import ConnectComponentAuthenticator
from twisted.words.xish.xmlstream import BootstrapMixin

from jabberd.component.stream import ComponentStream
from jabberd.stanza import STANZAS

__all__ = ["ComponentClientFactory", "ExternalComponentService"]


class ComponentClientFactory(BootstrapMixin, protocol.Factory):
    """Makes component streams that authenticate as C{domain} with C{secret}."""

    protocol = ComponentStream

    def __init__(self, domain, secret):
        BootstrapMixin.__init__(self)
        self.domain = domain
        self.secret = secret

    def buildProtocol(self, addr):
        xs = self.protocol(ConnectComponentAuthenticator(self.domain, self.secret))
        xs.factory = self
        self.installBootstraps(xs)
        return xs


class ExternalComponentService(ClientService):
    """
    Keeps C{host} connected to the router at C{endpointDescription} (a
    Twisted client endpoint string) as the component C{domain}.

    @ivar factory: the L{ComponentClientFactory} (add bootstraps there).
    @ivar xmlstream: the authenticated stream, or None while disconnected.
    @ivar dropped: stanzas dropped while disconnected, since the last
        connection.
    """

    log = Logger()

    def __init__(self, host, domain, secret, endpointDescription,
                 reactor=None, retryPolicy=None):
        if reactor is None:
            from twisted.internet import reactor
        self.host = host
        self.domain = domain
        self.xmlstream = None
        self.dropped = 0
        self._failedHandshakes = 0
        self._backoff = retryPolicy or backoffPolicy()
        self._waiting = []
        self.factory = factory = ComponentClientFactory(domain, secret)
        factory.addBootstrap(xmlstream.STREAM_CONNECTED_EVENT, self._connected)
        factory.addBootstrap(xmlstream.STREAM_AUTHD_EVENT, self._authenticated)
        factory.addBootstrap(xmlstream.STREAM_ERROR_EVENT, self._streamError)
        endpoint = endpoints.clientFromString(reactor, endpointDescription)
        super().__init__(endpoint, factory, retryPolicy=self._retryDelay, clock=reactor)
        host.output = self._drop

    def whenAuthenticated(self):
        """A Deferred firing with the stream once the router accepted us."""
        if self.xmlstream is not None:
            return defer.succeed(self.xmlstream)
        d = defer.Deferred()
        self._waiting.append(d)
        return d

    def stopService(self):
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.cancel()
        return super().stopService()

    def _retryDelay(self, attempt):
        # ClientService counts only TCP failures; add refused handshakes.
        return self._backoff(attempt + self._failedHandshakes)

    def _connected(self, xs):
        xs.addObserver(xmlstream.STREAM_END_EVENT, self._lost, xs=xs)

    def _authenticated(self, xs):
        self._failedHandshakes = 0
        self.xmlstream = xs
        xs.stanzaReceived = self._received
        self.host.output = xs.send
        self.log.info("component {domain} connected to the router ({dropped} stanzas "
                      "dropped meanwhile)", domain=self.domain, dropped=self.dropped)
        self.dropped = 0
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(xs)

    def _received(self, element):
        if element.name in STANZAS:
            self.host.receive(element)

    def _streamError(self, failure):
        self.log.error("router closed the stream of {domain}: {error}",
                       domain=self.domain, error=failure.getErrorMessage())

    def _lost(self, reason, xs):
        if xs is not self.xmlstream:
            self._failedHandshakes += 1
            return
        self.xmlstream = None
        self.host.output = self._drop
        self.log.warn("component {domain} lost its router connection", domain=self.domain)

    def _drop(self, stanza):
        if not self.dropped:
            self.log.warn("component {domain} not connected: dropping stanzas",
                          domain=self.domain)
        self.dropped += 1
