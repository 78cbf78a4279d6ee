"""
Tests for the limits a client stream has before it logs in
(L{jabberd.c2s.stream.ClientStream}): connections per address and in
total, the deadline to authenticate, and the smaller stanzas allowed
until then.
"""

from jabberd.ns import NS_SASL
from tests.c2s.helpers import HEADER, Server, plain, streamError


def loggedIn(server):
    server.addUser("alice", "pw")
    client = server.connect()
    client.stream.secure = True
    client.send(HEADER)
    [success] = client.send(plain("alice", "pw"))
    assert success.name == "success"
    client.send(HEADER)
    return client


def test_connectionsPerAddressRefused():
    """Past max_per_address a connection gets policy-violation before it sends anything."""
    server = Server()
    server.factory.limiter.maxPerAddress = 2
    first, second, third = server.connect(), server.connect(), server.connect()
    assert streamError(third.output.read()) == "policy-violation"
    assert third.transport.disconnecting and not second.transport.disconnecting
    assert streamError(first.send(HEADER)) is None


def test_closedConnectionsMakeRoom():
    """A connection that ended no longer counts; a refused one never did."""
    server = Server()
    server.factory.limiter.maxPerAddress = 1
    first = server.connect()
    refused = server.connect()
    refused.lose()
    first.lose()
    assert server.factory.limiter.total == 0
    assert streamError(server.connect().send(HEADER)) is None


def test_totalRefusedWithResourceConstraint():
    """Past max_total every address is refused with resource-constraint."""
    server = Server()
    server.factory.limiter.maxTotal = 1
    server.connect()
    assert streamError(server.connect().output.read()) == "resource-constraint"


def test_authDeadline():
    """A stream not authenticated within auth_timeout is closed, however busy it keeps."""
    server = Server()
    server.config.connections.authTimeout = 60
    client = server.connect()
    client.send(HEADER)
    for i in range(59):
        server.clock.advance(1)
        assert streamError(client.send(" ")) is None
    server.clock.advance(1)
    assert streamError(client.output.read()) == "connection-timeout"
    assert client.transport.disconnecting


def test_authenticatedStreamHasNoDeadline():
    """Authenticating in time cancels the deadline."""
    server = Server()
    server.config.connections.authTimeout = 60
    client = loggedIn(server)
    server.clock.advance(120)
    assert streamError(client.output.read()) is None
    assert not client.transport.disconnecting


def test_fewElementsBeforeAuth():
    """Before login a stanza may hold only max_elements_before_auth elements."""
    server = Server()
    server.factory.parserLimitsBeforeAuth.maxElements = 5
    client = server.connect()
    client.send(HEADER)
    elements = client.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                           % (NS_SASL, "<x/>" * 5))
    assert streamError(elements) == "policy-violation"


def test_smallStanzasBeforeAuth():
    """Before login a stanza over max_stanza_size_before_auth ends the stream."""
    server = Server()
    server.config.parser.maxStanzaSizeBeforeAuth = 1024
    client = server.connect()
    client.stream.secure = True
    client.send(HEADER)
    elements = client.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, "A" * 2000))
    assert streamError(elements) == "policy-violation"


def test_fullLimitsAfterAuth():
    """After login the stream takes the server's stanza size and element limits."""
    server = Server()
    client = loggedIn(server)
    stream = client.stream
    assert stream.maxStanzaSize == server.config.server.maxStanzaSize
    assert stream.parserLimits is server.factory.parserLimits
    assert stream.stream.limits is server.factory.parserLimits
