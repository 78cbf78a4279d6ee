# -*- test-case-name: tests.c2s.test_listener -*-
"""
The client listener (RFC 6120, XEP-0368): a Twisted server factory making
one L{ClientStream} per TCP connection.  The same factory, with
C{directTLS=True}, serves the direct TLS port: each stream puts the TLS
layer (L{jabberd.tls.transport}) on its TCP connection as soon as it is
made, and starts out secure.

The factory also holds what streams share: the negotiator classes (the
extension point for new stream features), the credential source and the
clock for keepalives and timeouts.
"""

from twisted.internet import protocol, reactor

from jabberd.tls import transport as tlstransport
from jabberd.c2s.bind import BindNegotiator, SessionNegotiator
from jabberd.c2s.legacyauth import LegacyAuthNegotiator
from jabberd.c2s.mechanisms import CredentialSource
from jabberd.c2s.register import RegisterNegotiator, registrationComponent, registrationOpen
from jabberd.c2s.resumption import ResumptionNegotiator
from jabberd.c2s.sasl import SASLNegotiator
from jabberd.c2s.starttls import StartTLSNegotiator
from jabberd.c2s.stream import ClientStream

__all__ = ["C2SFactory", "defaultNegotiators"]


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
    @ivar streams: the connected L{ClientStream}s.
    @ivar featuresCache: serialised stream features per negotiation phase
        (L{ClientStream.sendFeatures}).
    """

    protocol = ClientStream

    def __init__(self, config, sm, contextFactory, directTLS=False, clock=None):
        self.config = config
        self.sm = sm
        self.contextFactory = contextFactory
        self.directTLS = directTLS
        self.clock = clock if clock is not None else reactor
        self.negotiators = defaultNegotiators(config)
        self.credentials = CredentialSource(sm.storage.accounts, config.c2s.scramIterations)
        self.streams = set()
        self.featuresCache = {}

    def startTLS(self, transport, stream):
        """Put the server TLS layer on C{transport}; return it, C{stream}'s new transport."""
        return tlstransport.startTLS(transport, self.contextFactory, stream, self.clock)

    def buildProtocol(self, addr):
        return self.protocol(self)

    def closeAll(self, condition="system-shutdown", text=None):
        """End every stream with a stream error (e.g. at shutdown)."""
        for stream in list(self.streams):
            stream.closeWithError(condition, text)
