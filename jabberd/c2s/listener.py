# -*- test-case-name: tests.c2s.test_listener -*-
"""
The client listener (RFC 6120, XEP-0368): a Twisted server factory making
one L{ClientStream} per TCP connection.  The same factory, with
C{directTLS=True}, serves the direct TLS port: each stream puts the TLS
layer (L{jabberd.tls.transport}) on its TCP connection as soon as it is
made, and starts out secure.

The factory also holds what streams share: the negotiator classes (the
extension point for new stream features), the credential source, the
authentication throttle and the clock for keepalives and timeouts.  The
server's listeners share one credential source and one throttle
(L{makeAuthentication}): the same stand-in salts, the same thread pool for
PBKDF2 and the same failure counts on every port.
"""

from twisted.internet import protocol, reactor

from jabberd.admission import ConnectionLimiter
from jabberd.auth.hashing import PasswordHashing
from jabberd.auth.secret import serverSecret
from jabberd.c2s.throttle import AuthThrottle
from jabberd.tls import transport as tlstransport
from jabberd.c2s.bind import BindNegotiator, SessionNegotiator
from jabberd.c2s.legacyauth import LegacyAuthNegotiator
from jabberd.c2s.mechanisms import CredentialSource
from jabberd.c2s.register import RegisterNegotiator, registrationComponent, registrationOpen
from jabberd.c2s.resumption import ResumptionNegotiator
from jabberd.c2s.sasl import SASLNegotiator
from jabberd.c2s.starttls import StartTLSNegotiator
from jabberd.c2s.stream import ClientStream
from jabberd.xmlparser import ParserLimits

__all__ = ["C2SFactory", "defaultNegotiators", "makeAuthentication"]


def makeAuthentication(config, accounts, clock=reactor):
    """
    The server's (credential source, throttle): stand-in salts keyed by
    the persistent secret in C{[server] datadir}, PBKDF2 in C{[c2s]
    auth_threads} threads (stop them with C{source.hashing.stop()}), and
    the C{[c2s] auth_fail_*} throttle.
    """
    c2s = config.c2s
    throttle = AuthThrottle.fromConfig(c2s, clock)
    hashing = PasswordHashing(clock, c2s.authThreads, c2s.authMaxPending)
    if config.cluster is not None:
        from jabberd.cluster.secrets import derivedKey

        secret = derivedKey(config.cluster.secret, "server-secret")
    else:
        secret = serverSecret(config.server.datadir)
    source = CredentialSource(accounts, c2s.scramIterations, secret,
                              hashing, throttle)
    return source, throttle


def defaultNegotiators(config):
    """The negotiator classes, in the order their features are advertised."""
    negotiators = [StartTLSNegotiator, SASLNegotiator]
    if config.c2s.legacyAuth:
        negotiators.append(LegacyAuthNegotiator)
    if registrationComponent(config) is not None:
        registrationOpen(config)  # a bad open = ... is a start-up error, not one per stream
        negotiators.append(RegisterNegotiator)  # XEP-0077 before authentication
    negotiators.extend([BindNegotiator, SessionNegotiator])
    negotiators.append(ResumptionNegotiator)  # XEP-0198 <resume/> instead of binding
    return negotiators


class C2SFactory(protocol.ServerFactory):
    """
    @ivar contextFactory: TLS context for STARTTLS, or None for no TLS.
    @ivar directTLS: whether connections arrive already encrypted.
    @ivar negotiators: L{jabberd.c2s.negotiation.Negotiator} classes; add
        one (e.g. in-band registration) to offer another feature.
    @ivar credentials: the L{CredentialSource} for SASL and XEP-0078.
    @ivar throttle: the L{AuthThrottle} of failed authentications, or None.
    @ivar streams: the connected L{ClientStream}s.
    @ivar featuresCache: serialised stream features per negotiation phase
        (L{ClientStream.sendFeatures}).
    @ivar limiter: the L{ConnectionLimiter} admitting client connections;
        the listeners of one server share it, so TCP, direct TLS, BOSH and
        WebSocket connections count together.
    @ivar parserLimits: the L{ParserLimits} of authenticated streams.
    @ivar parserLimitsBeforeAuth: the L{ParserLimits} until then.
    """

    protocol = ClientStream

    def __init__(self, config, sm, contextFactory, directTLS=False, clock=None, limiter=None,
                 authentication=None):
        self.config = config
        self.sm = sm
        self.contextFactory = contextFactory
        self.directTLS = directTLS
        self.clock = clock if clock is not None else reactor
        self.negotiators = defaultNegotiators(config)
        if authentication is None:
            credentials = CredentialSource(sm.storage.accounts, config.c2s.scramIterations)
            authentication = (credentials, AuthThrottle.fromConfig(config.c2s, self.clock))
        self.credentials, self.throttle = authentication
        self.streams = set()
        self.featuresCache = {}
        self.limiter = limiter if limiter is not None else ConnectionLimiter.fromConfig(
            config.connections)
        self.parserLimits = ParserLimits.fromConfig(config.parser)
        self.parserLimitsBeforeAuth = ParserLimits.fromConfig(
            config.parser, config.parser.maxElementsBeforeAuth)

    def startTLS(self, transport, stream):
        """Put the server TLS layer on C{transport}; return it, C{stream}'s new transport."""
        return tlstransport.startTLS(transport, self.contextFactory, stream, self.clock)

    def buildProtocol(self, addr):
        return self.protocol(self)

    def closeAll(self, condition="system-shutdown", text=None):
        """End every stream with a stream error (e.g. at shutdown)."""
        for stream in list(self.streams):
            stream.closeWithError(condition, text)
