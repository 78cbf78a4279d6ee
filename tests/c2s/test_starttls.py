"""
Tests for L{jabberd.c2s.starttls} and the TLS policy of the features
(RFC 6120 section 5, XEP-0368).
"""

from twisted.internet.testing import StringTransport

from jabberd.ns import NS_AUTH_FEATURE, NS_SASL, NS_TLS
from tests.c2s.helpers import HEADER, Client, Server, child

STARTTLS = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"


def features(client):
    return client.send(HEADER)[0]


def mechanisms(featuresElement):
    element = child(featuresElement, "mechanisms", NS_SASL)
    return [str(m) for m in element.elements()] if element is not None else []


def test_beforeTLSOnlyStartTLSRequired():
    """With require_tls, a cleartext stream offers only <starttls><required/></starttls>."""
    offered = features(Server().connect())
    starttls = child(offered, "starttls", NS_TLS)
    assert starttls is not None and child(starttls, "required") is not None
    assert child(offered, "mechanisms", NS_SASL) is None
    assert child(offered, "auth", NS_AUTH_FEATURE) is None


def test_optionalTLSOffersScramButNotPlain():
    """Without require_tls, SCRAM is offered before TLS but PLAIN is not."""
    offered = features(Server(require_tls="no").connect())
    starttls = child(offered, "starttls", NS_TLS)
    assert starttls is not None and child(starttls, "required") is None
    assert mechanisms(offered) == ["SCRAM-SHA-256", "SCRAM-SHA-1"]
    assert child(offered, "auth", NS_AUTH_FEATURE) is not None


def test_proceedStartsTLSAndRestarts():
    """<starttls/> is answered with <proceed/>, TLS starts and a new header is expected."""
    server = Server()
    client = server.connect()
    client.send(HEADER)
    elements = client.send(STARTTLS)
    assert [(e.uri, e.name) for e in elements] == [(NS_TLS, "proceed")]
    assert client.transport.tlsContext is server.factory.contextFactory
    assert client.stream.secure
    firstId = client.header["id"]
    offered = features(client)
    assert client.header["id"] != firstId
    assert child(offered, "starttls", NS_TLS) is None
    assert mechanisms(offered) == ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
    assert child(offered, "auth", NS_AUTH_FEATURE) is not None


def test_mechanismsFromConfig():
    """The mechanisms and their order come from [c2s] mechanisms."""
    client = Server(mechanisms="PLAIN SCRAM-SHA-1").connect()
    client.stream.secure = True
    assert mechanisms(features(client)) == ["PLAIN", "SCRAM-SHA-1"]


def test_starttlsWhenSecureFails():
    """<starttls/> on an encrypted stream gets <failure/> and the stream closes."""
    server = Server(directTLS=True)
    client = server.connect()
    assert client.transport.tlsContext is not None  # TLS from the first byte
    client.transport.tlsContext = None
    offered = features(client)
    assert child(offered, "starttls", NS_TLS) is None
    elements = client.send(STARTTLS)
    assert [(e.uri, e.name) for e in elements] == [(NS_TLS, "failure")]
    assert client.output.closed
    assert client.transport.tlsContext is None


def test_directTLSCountsAsTLS():
    """A direct TLS stream (XEP-0368) offers SASL with PLAIN straight away."""
    client = Server(directTLS=True).connect()
    assert client.stream.secure
    assert "PLAIN" in mechanisms(features(client))


def test_noStartTLSWithoutTLSTransport():
    """A framing that cannot switch to TLS is not offered STARTTLS."""
    server = Server(require_tls="no")
    client = Client(server.factory, StringTransport())
    assert child(features(client), "starttls", NS_TLS) is None


def test_noStartTLSWithoutContext():
    """Without a TLS context the server does not offer STARTTLS."""
    server = Server(require_tls="no")
    server.factory.contextFactory = None
    assert child(features(server.connect()), "starttls", NS_TLS) is None
