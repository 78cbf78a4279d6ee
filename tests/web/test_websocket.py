"""
Tests for L{jabberd.web.websocket}: XMPP over WebSocket (RFC 7395).  The
stream is driven message by message with a recording socket; the last
tests run the real resource on loopback with autobahn's client.
"""

import types

import pytest

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from autobahn.websocket.types import ConnectionDeny
from twisted.internet import defer, endpoints, reactor
from twisted.internet.address import IPv4Address
from twisted.trial import unittest
from twisted.words.xish import domish

from jabberd.config import parse
from jabberd.web.site import HTTPService, HTTPSite
from jabberd.ns import NS_FRAMING
from jabberd.web.framing import SessionTransport
from jabberd.web.websocket import (MessageParser, WebSocketStream, XMPPWebSocketFactory,
                               XMPPWebSocketProtocol, makeWebSocketResource, originAllowed)
from jabberd.sm.message import MessageHandler
from tests.c2s.helpers import Server, bindIQ, child, login, plain
from tests.sm.helpers import StubRouter

NS_STREAMS = "http://etherx.jabber.org/streams"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>"
CLOSE = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"
LOOPBACK = IPv4Address("TCP", "127.0.0.1", 40000)


def parseOne(data):
    found = []
    parser = domish.elementStream()
    parser.DocumentStartEvent = found.append
    parser.ElementEvent = lambda e: found[0].addChild(e)
    parser.DocumentEndEvent = lambda: None
    parser.parse(data)
    return found[0]


class RecordingSocket:
    """Stands in for the WebSocket protocol: records messages, pings and the close."""

    def __init__(self):
        self.messages = []
        self.closeCode = None
        self.pings = 0

    def sendMessage(self, data, isBinary=False):
        assert not isBinary and isinstance(data, bytes)
        self.messages.append(data)

    def sendClose(self, code=None, reason=None):
        self.closeCode = code

    def sendPing(self):
        self.pings += 1


class Connection:
    """One WebSocket stream to a c2s test server, fed message by message."""

    def __init__(self, server, secure=True):
        self.socket = RecordingSocket()
        self.stream = WebSocketStream(server.factory, self.socket)
        self.stream.makeConnection(SessionTransport(LOOPBACK))
        self.stream.secure = secure
        self.read = 0

    def send(self, text):
        """Send one message; return the messages the server answered, parsed."""
        self.stream.messageReceived(text.encode("utf-8"))
        return self.take()

    def take(self):
        new = self.socket.messages[self.read:]
        self.read = len(self.socket.messages)
        return [parseOne(m) for m in new]

    def login(self, user="alice", resource="ws"):
        self.send(OPEN)
        self.send(plain(user, "pw"))
        self.send(OPEN)
        return self.send(bindIQ(resource).replace("<iq ", "<iq xmlns='jabber:client' ", 1))


def makeServer():
    server = Server()
    server.addUser("alice", "pw")
    server.addUser("bob", "pw")
    server.sm.addHandler(MessageHandler())
    server.sm.output = StubRouter(server.sm)
    return server


def streamError(elements):
    for element in elements:
        if (element.uri, element.name) == (NS_STREAMS, "error"):
            return next(c.name for c in element.elements() if c.name != "text")
    return None


def test_openIsAnsweredWithOpenAndFeatures():
    """An <open/> gets our <open/> (from, id, version, xml:lang) and then the features."""
    header, features = Connection(makeServer()).send(OPEN)
    assert (header.uri, header.name) == (NS_FRAMING, "open")
    assert header["from"] == "localhost" and header["version"] == "1.0"
    assert len(header["id"]) >= 16
    assert header[("http://www.w3.org/XML/1998/namespace", "lang")] == "en"
    assert (features.uri, features.name) == (NS_STREAMS, "features")
    assert child(features, "mechanisms", NS_SASL) is not None


def test_featuresCarryTheirOwnNamespace():
    """Features are sent as <features xmlns='http://etherx.jabber.org/streams'> (section 3.4)."""
    connection = Connection(makeServer())
    connection.send(OPEN)
    assert connection.socket.messages[1].startswith(
        b"<features xmlns='http://etherx.jabber.org/streams'>")


def test_loginRestartBindAndChat():
    """SASL, a restart with a new <open/>, binding, then stanzas both ways in jabber:client."""
    server = makeServer()
    connection = Connection(server)
    [result] = connection.login()
    assert (result.uri, result["type"]) == ("jabber:client", "result")
    assert server.sm.session("alice@localhost/ws") is not None
    bob = login(server, "bob", "pw", "tcp")
    bob.output.read()
    assert connection.send("<message xmlns='jabber:client' to='bob@localhost/tcp'><body>hi</body>"
                           "</message>") == []
    [received] = [e for e in bob.output.read() if e.name == "message"]
    assert received["from"] == "alice@localhost/ws"
    bob.send("<message to='alice@localhost/ws'><body>back</body></message>")
    [back] = connection.take()
    assert (back.uri, back.name, str(child(back, "body"))) == ("jabber:client", "message", "back")


def test_restartOpenGetsFreshHeader():
    """After SASL success the client's new <open/> is answered with a new header and bind features."""
    connection = Connection(makeServer())
    connection.send(OPEN)
    [success] = connection.send(plain("alice", "pw"))
    assert success.name == "success"
    header, features = connection.send(OPEN)
    assert header.name == "open"
    assert child(features, "bind", "urn:ietf:params:xml:ns:xmpp-bind") is not None


def test_clientCloseIsAnsweredAndConnectionClosed():
    """A <close/> from the client is answered with <close/> and the WebSocket is closed."""
    server = makeServer()
    connection = Connection(server)
    connection.login()
    [close] = connection.send(CLOSE)
    assert (close.uri, close.name) == (NS_FRAMING, "close")
    assert connection.socket.closeCode == 1000
    connection.stream.connectionLost(None)
    assert server.sm.session("alice@localhost/ws") is None


def test_serverCloseSendsCloseThenClosesSocket():
    """Closing the stream sends <close/> and starts the WebSocket closing handshake (section 3.6)."""
    connection = Connection(makeServer())
    connection.send(OPEN)
    connection.stream.closeStream()
    [close] = connection.take()
    assert close.name == "close"
    assert connection.socket.closeCode == 1000


@pytest.mark.parametrize("message, condition", [
    ("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='localhost'/>", "bad-format"),
    ("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='elsewhere.example' version='1.0'/>",
     "host-unknown"),
    ("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='2.0'/>",
     "unsupported-version"),
    ("<message xmlns='jabber:client' to='bob@localhost'/>", "bad-format"),
    ("<a/><b/>", "not-well-formed"),
    ("<message xmlns='jabber:client'>", "not-well-formed"),
    ("<!-- hello -->", "restricted-xml"),
    ("<message xmlns='jabber:client'><body>%s</body></message>" % ("x" * 5000), "policy-violation"),
])
def test_badFirstMessagesEndTheStream(message, condition):
    """A bad first message gets our <open/>, the stream error, <close/> and a closed socket."""
    connection = Connection(makeServer())
    answered = connection.send(message)
    assert answered[0].name == "open"
    assert streamError(answered) == condition
    assert answered[-1].name == "close"
    assert connection.socket.closeCode == 1000


def test_streamErrorCarriesItsOwnNamespace():
    """A stream error is sent as <error xmlns='http://etherx.jabber.org/streams'> (section 3.6.2)."""
    connection = Connection(makeServer())
    connection.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='nowhere.example'/>")
    assert connection.socket.messages[1].startswith(
        b"<error xmlns='http://etherx.jabber.org/streams'><host-unknown ")


def test_stanzaWithoutNamespaceIsClient():
    """COMPAT: a stanza sent without xmlns is taken as jabber:client."""
    server = makeServer()
    connection = Connection(server)
    connection.send(OPEN)
    connection.send(plain("alice", "pw"))
    connection.send(OPEN)
    [result] = connection.send("<iq type='set' id='b'>"
                               "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert (result.uri, result["type"]) == ("jabber:client", "result")


def test_secondOpenIsBadFormat():
    """An <open/> on an open stream (no restart pending) ends the stream."""
    connection = Connection(makeServer())
    connection.send(OPEN)
    assert streamError(connection.send(OPEN)) == "bad-format"


def test_stanzaBeforeAuthenticationIsNotAuthorized():
    """The c2s rules hold: a stanza before binding ends the stream with not-authorized."""
    connection = Connection(makeServer())
    connection.send(OPEN)
    assert streamError(connection.send("<message xmlns='jabber:client' to='bob@localhost'/>")) == \
        "not-authorized"


def test_plainNotOfferedWhenInsecure():
    """On an insecure connection nothing is offered while TLS is required."""
    connection = Connection(makeServer(), secure=False)
    _, features = connection.send(OPEN)
    assert child(features, "mechanisms", NS_SASL) is None
    assert child(features, "starttls") is None  # no STARTTLS inside WebSocket


def test_whitespaceMessageIsIgnored():
    """A message of only whitespace changes nothing."""
    connection = Connection(makeServer())
    connection.send(OPEN)
    assert connection.send("  \n") == []
    assert not connection.stream.closing


def test_keepaliveIsPing():
    """Keepalives are WebSocket pings, not whitespace."""
    connection = Connection(makeServer())
    connection.send(OPEN)
    connection.stream.sendKeepalive()
    assert connection.socket.pings == 1
    assert connection.take() == []


def test_messageParserOneElementEach():
    """The parser returns one element per message and survives many messages."""
    parser = MessageParser(4096)
    for i in range(3):
        element = parser.parse(b"<iq xmlns='jabber:client' id='%d'/>" % i)
        assert (element.name, element["id"]) == ("iq", str(i))
    assert parser.parse(b" ") is None


def handshake(protocols, origin="", host="localhost"):
    return types.SimpleNamespace(protocols=protocols, origin=origin, host=host)


def makeProtocol(config=""):
    server = Server()
    if config:
        server.factory.config = parse(config)
    protocol = XMPPWebSocketProtocol()
    protocol.factory = XMPPWebSocketFactory(server.factory)
    return protocol


def test_subprotocolXMPPIsRequired():
    """The handshake must offer the xmpp subprotocol (section 3.1); it is the one chosen."""
    protocol = makeProtocol()
    assert protocol.onConnect(handshake(["chat", "xmpp"])) == "xmpp"
    with pytest.raises(ConnectionDeny):
        protocol.onConnect(handshake(["chat"]))


def test_originsFollowCORSOrigins():
    """Listed cors_origins refuse other pages; this site's pages and non-browsers may connect."""
    protocol = makeProtocol("[http]\ncors_origins = https://app.example\n")
    assert protocol.onConnect(handshake(["xmpp"], "https://app.example")) == "xmpp"
    assert protocol.onConnect(handshake(["xmpp"], "http://localhost:5280")) == "xmpp"
    assert protocol.onConnect(handshake(["xmpp"])) == "xmpp"
    with pytest.raises(ConnectionDeny):
        protocol.onConnect(handshake(["xmpp"], "https://evil.example"))


def test_anyOriginByDefault():
    """With cors_origins = * any page may connect."""
    assert originAllowed(["*"], "https://evil.example", "localhost")


def test_binaryMessageIsBadFormat():
    """XMPP travels in text messages; a binary one ends the stream."""
    server = makeServer()
    protocol = XMPPWebSocketProtocol()
    protocol.factory = XMPPWebSocketFactory(server.factory)
    connection = Connection(server)
    connection.send(OPEN)
    protocol.xmppStream = connection.stream
    protocol.onMessage(b"\x00\x01", True)
    assert streamError(connection.take()) == "bad-format"


class _Client(WebSocketClientProtocol):
    """Records what the server sends; C{factory.done} fires when the connection closes."""

    def onConnect(self, response):
        self.factory.protocolChosen = response.protocol

    def onOpen(self):
        self.factory.received = []
        self.sendMessage(OPEN.encode())

    def onMessage(self, payload, isBinary):
        self.factory.received.append(payload)
        if len(self.factory.received) == 2:
            self.sendMessage(CLOSE.encode())

    def onClose(self, wasClean, code, reason):
        self.factory.closed = (wasClean, code)
        if not self.factory.done.called:
            self.factory.done.callback(None)


class LiveTests(unittest.TestCase):
    """The resource on a loopback HTTP listener, spoken to by autobahn's client."""

    def setUp(self):
        self.server = makeServer()
        self.http = HTTPService(HTTPSite(), "localhost")
        self.http.attach("xmpp-websocket", makeWebSocketResource(self.server.factory))
        self.http.listen("tcp:0:interface=127.0.0.1", "http")
        self.http.startService()
        self.addCleanup(self.http.stopService)
        self.url = "ws://127.0.0.1:%d/xmpp-websocket" % self.http.ports["http"]

    @defer.inlineCallbacks
    def talk(self, protocols):
        factory = WebSocketClientFactory(self.url, protocols=protocols)
        factory.protocol = _Client
        factory.done = defer.Deferred()
        factory.received = []
        factory.protocolChosen = None
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", self.http.ports["http"])
        yield endpoint.connect(factory)
        yield factory.done
        return factory

    @defer.inlineCallbacks
    def test_openFeaturesAndCloseOverTheWire(self):
        """Over a real connection: xmpp subprotocol, <open/>, features, <close/>, clean close."""
        factory = yield self.talk(["xmpp"])
        self.assertEqual(factory.protocolChosen, "xmpp")
        header, features = [parseOne(m) for m in factory.received[:2]]
        self.assertEqual((header.uri, header.name), (NS_FRAMING, "open"))
        self.assertEqual(features.name, "features")
        self.assertEqual(parseOne(factory.received[-1]).name, "close")
        self.assertTrue(factory.closed[0])
        self.assertEqual(self.server.factory.streams, set())

    @defer.inlineCallbacks
    def test_otherSubprotocolRefused(self):
        """A handshake without the xmpp subprotocol is refused; no stream is made."""
        factory = yield self.talk(["chat"])
        self.assertEqual(factory.received, [])
        self.assertFalse(factory.closed[0])
        self.assertEqual(self.server.factory.streams, set())


def test_csiNonzasOverWebSocket():
    """<inactive/> and <active/> in their own WebSocket messages hold and then flush presence."""
    from jabberd.sm.csi import CSIHandler
    from jabberd.sm.presence import PresenceHandler
    from jabberd.sm.roster import RosterHandler

    server = makeServer()
    server.sm.addHandler(PresenceHandler())
    server.sm.addHandler(RosterHandler())
    csi = server.sm.addHandler(CSIHandler())
    connection = Connection(server)
    connection.login()
    assert connection.send("<inactive xmlns='urn:xmpp:csi:0'/>") == []
    assert csi.isInactive(server.sm.session("alice@localhost/ws"))
    bob = login(server, "bob", "pw", "tcp")
    bob.send("<presence to='alice@localhost/ws'><show>away</show></presence>")
    assert connection.take() == []
    [presence] = connection.send("<active xmlns='urn:xmpp:csi:0'/>")
    assert (presence.name, presence["from"]) == ("presence", "bob@localhost/tcp")


def test_beforeAuthLimitsThenFullOnes():
    """The connection's one parser holds a client to the before-auth limits, then lifts them."""
    server = makeServer()
    server.factory.parserLimitsBeforeAuth.maxElements = 3
    early = Connection(server)
    early.send(OPEN)
    assert streamError(early.send("<x xmlns='urn:x'><a/><b/><c/></x>")) == "policy-violation"
    connection = Connection(server)
    connection.login()
    parser = connection.stream.stream.parser
    assert parser.limits is server.factory.parserLimits
    assert parser.maxStanzaSize == server.config.server.maxStanzaSize
