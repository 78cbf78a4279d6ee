"""
Tests for L{jabberd.c2s.listener}: the client listener factory.
"""

from jabberd.c2s.bind import BindNegotiator, SessionNegotiator
from jabberd.c2s.legacyauth import LegacyAuthNegotiator
from jabberd.c2s.listener import C2SFactory, defaultNegotiators
from jabberd.c2s.resumption import ResumptionNegotiator
from jabberd.c2s.sasl import SASLNegotiator
from jabberd.c2s.starttls import StartTLSNegotiator
from jabberd.c2s.stream import ClientStream
from tests.c2s.helpers import HEADER, Server, makeConfig, streamError


def test_defaultNegotiatorsInFeatureOrder():
    """Negotiators are STARTTLS, SASL, legacy auth, bind, session and resumption, in that order."""
    assert defaultNegotiators(makeConfig()) == [StartTLSNegotiator, SASLNegotiator,
                                                LegacyAuthNegotiator, BindNegotiator,
                                                SessionNegotiator, ResumptionNegotiator]


def test_legacyAuthOff():
    """With legacy_auth off there is no XEP-0078 negotiator."""
    assert LegacyAuthNegotiator not in defaultNegotiators(makeConfig(legacy_auth="no"))


def test_buildProtocol():
    """The factory makes client streams configured from the config."""
    server = Server()
    stream = server.factory.buildProtocol(None)
    assert isinstance(stream, ClientStream)
    assert stream.factory is server.factory
    assert stream.maxStanzaSize == server.config.server.maxStanzaSize
    assert not stream.secure


def test_directTLSStreamsAreSecure():
    """Streams of a direct TLS factory start out secure."""
    server = Server()
    factory = C2SFactory(server.config, server.sm, None, directTLS=True, clock=server.clock)
    assert factory.buildProtocol(None).secure


def test_streamsTrackedAndClosed():
    """closeAll ends every connected stream with a stream error."""
    server = Server()
    first, second = server.connect(), server.connect()
    first.send(HEADER)
    assert server.factory.streams == {first.stream, second.stream}
    server.factory.closeAll()
    assert streamError(first.output.read()) == "system-shutdown"
    assert streamError(second.output.read()) == "system-shutdown"
    first.lose()
    assert server.factory.streams == {second.stream}
