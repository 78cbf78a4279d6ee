"""
Shared test fixtures for the c2s tests: a real L{SessionManager} on
L{MemoryStorage}, client streams over C{StringTransport}, a reader for
what the server wrote, and a client-side SCRAM (RFC 5802) to drive the
server's.
"""

import base64
import hashlib
import hmac
import os

from twisted.internet import task
from twisted.internet.testing import StringTransport
from twisted.words.xish import domish

from jabberd import config as configmod
from jabberd.auth.credentials import makeCredentials
from jabberd.c2s.listener import C2SFactory
from jabberd.sm.manager import SessionManager
from jabberd.storage.memory import MemoryStorage

HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
LEGACY_HEADER = ("<stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>")
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"


def makeConfig(**c2s):
    """
    A configuration for localhost with test-speed SCRAM, no timers (a test
    turns on the one it tests) and the given [c2s] keys.
    """
    lines = ["[server]", "domains = localhost example.org", "keepalive_interval = 0",
             "idle_timeout = 0", "max_stanza_size = 4096", "[connections]", "auth_timeout = 0",
             "[c2s]", "scram_iterations = 16"]
    lines += ["%s = %s" % item for item in c2s.items()]
    return configmod.parse("\n".join(lines))


class TLSTransport(StringTransport):
    """A StringTransport that records a switch to TLS instead of doing it."""

    tlsContext = None

    def startTLS(self, contextFactory):
        self.tlsContext = contextFactory


class RecordingFactory(C2SFactory):
    """A c2s factory whose TLS layer is only noted on the fake transport."""

    def startTLS(self, transport, stream):
        transport.startTLS(self.contextFactory)
        return transport


class Output:
    """
    Parses what the server wrote, document by document (a new XML
    declaration starts a new stream after a restart).

    @ivar headers: stream header elements, in order.
    @ivar elements: first-level elements, in order.
    @ivar closed: whether the closing tag was seen.
    """

    def __init__(self, transport):
        self.transport = transport
        self.headers = []
        self.elements = []
        self.closed = False
        self._parser = None

    def _newParser(self):
        parser = domish.elementStream()
        parser.DocumentStartEvent = self.headers.append
        parser.ElementEvent = self.elements.append
        parser.DocumentEndEvent = self._ended
        return parser

    def _ended(self):
        self.closed = True

    def read(self):
        """Parse the new output; return the first-level elements it held."""
        data = self.transport.value()
        self.transport.clear()
        before = len(self.elements)
        pieces = data.split(b"<?xml version='1.0'?>")
        if pieces[0].strip() and self._parser is not None:
            self._parser.parse(pieces[0])
        for piece in pieces[1:]:
            self._parser = self._newParser()
            self._parser.parse(piece)
        return self.elements[before:]


class Client:
    """One client connection to a C2SFactory over a fake transport."""

    def __init__(self, factory, transport=None):
        self.transport = transport if transport is not None else TLSTransport()
        self.stream = factory.buildProtocol(None)
        self.stream.makeConnection(self.transport)
        self.output = Output(self.transport)

    def send(self, data):
        """Feed C{data} to the server and return the elements it answered with."""
        self.stream.dataReceived(data.encode("utf-8") if isinstance(data, str) else data)
        return self.output.read()

    def lose(self):
        """The connection drops."""
        self.stream.connectionLost(None)

    @property
    def header(self):
        return self.output.headers[-1]


class Server:
    """The session manager, its storage and a c2s factory with a fake clock."""

    def __init__(self, directTLS=False, **c2s):
        self.config = makeConfig(**c2s)
        self.storage = MemoryStorage()
        self.sm = SessionManager(self.config.server.domains, self.storage)
        self.routed = []
        self.sm.output = self.routed.append
        self.clock = task.Clock()
        self.factory = RecordingFactory(self.config, self.sm, object(), directTLS=directTLS,
                                        clock=self.clock)

    def addUser(self, username, password, storePlaintext=False):
        creds = makeCredentials(password, iterations=16, storePlaintext=storePlaintext)
        self.storage.accounts.create(username, creds)

    def connect(self):
        return Client(self.factory)


def child(element, name, uri=None):
    """The first child element C{name} (optionally in C{uri}), or None."""
    for c in element.elements():
        if c.name == name and (uri is None or c.uri == uri):
            return c
    return None


def streamError(elements):
    """The condition name of the stream error among C{elements}, or None."""
    for element in elements:
        if element.uri == NS_STREAMS and element.name == "error":
            return next(c.name for c in element.elements()
                        if c.uri == "urn:ietf:params:xml:ns:xmpp-streams" and c.name != "text")
    return None


def b64(data):
    return base64.b64encode(data).decode("ascii")


class ScramClient:
    """The client side of SCRAM (RFC 5802 section 3), without channel binding."""

    def __init__(self, hashName, username, password, flag="n", authzid=""):
        self.hashName = hashName
        self.password = password
        self.gs2 = flag + "," + ("a=" + authzid if authzid else "") + ","
        self.nonce = b64(os.urandom(12))
        self.bare = "n=%s,r=%s" % (username.replace("=", "=3D").replace(",", "=2C"), self.nonce)

    def first(self):
        return (self.gs2 + self.bare).encode("utf-8")

    def final(self, serverFirst, nonce=None, proofTweak=False):
        serverFirst = serverFirst.decode("utf-8")
        attrs = dict(a.split("=", 1) for a in serverFirst.split(","))
        salted = hashlib.pbkdf2_hmac(self.hashName, self.password.encode("utf-8"),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        withoutProof = "c=%s,r=%s" % (b64(self.gs2.encode("utf-8")), nonce or attrs["r"])
        authMessage = ",".join((self.bare, serverFirst, withoutProof)).encode("utf-8")
        clientKey = hmac.new(salted, b"Client Key", self.hashName).digest()
        storedKey = hashlib.new(self.hashName, clientKey).digest()
        signature = hmac.new(storedKey, authMessage, self.hashName).digest()
        proof = bytes(a ^ b for a, b in zip(clientKey, signature))
        if proofTweak:
            proof = bytes([proof[0] ^ 1]) + proof[1:]
        serverKey = hmac.new(salted, b"Server Key", self.hashName).digest()
        self.expected = b"v=" + base64.b64encode(hmac.new(serverKey, authMessage,
                                                          self.hashName).digest())
        return (withoutProof + ",p=" + b64(proof)).encode("utf-8")


def plain(username, password, authzid=""):
    """A PLAIN <auth/> element's text (RFC 4616)."""
    message = ("%s\0%s\0%s" % (authzid, username, password)).encode("utf-8")
    return "<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, b64(message))


def bindIQ(resource=None, iqId="bind1"):
    inner = "<resource>%s</resource>" % resource if resource is not None else ""
    return ("<iq type='set' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>%s</bind></iq>"
            % (iqId, inner))


def login(server, username="alice", password="pw", resource="home"):
    """Connect securely, authenticate with PLAIN and bind C{resource}; return the client."""
    client = server.connect()
    client.stream.secure = True
    client.send(HEADER)
    client.send(plain(username, password))
    client.send(HEADER)
    client.send(bindIQ(resource))
    return client
