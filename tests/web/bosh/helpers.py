"""
Test fixtures for BOSH: a L{BOSHResource} on the c2s test server (memory
storage, fake clock), fake HTTP requests, and a reader for the response
bodies.
"""

from io import BytesIO

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web.test.requesthelper import DummyRequest
from twisted.words.xish import domish

from jabberd.web.bosh import BOSHResource
from jabberd.sm.message import MessageHandler
from jabberd.sm.presence import PresenceHandler
from tests.c2s.helpers import Server, plain
from tests.sm.helpers import StubRouter

NS_HTTPBIND = "http://jabber.org/protocol/httpbind"
NS_XBOSH = "urn:xmpp:xbosh"
LOOPBACK = IPv4Address("TCP", "127.0.0.1", 40000)
REMOTE = IPv4Address("TCP", "192.0.2.7", 40000)


class Request(DummyRequest):
    """A POST with a body, from C{client}, over HTTPS when C{secure}."""

    method = b"POST"

    def __init__(self, data, client=LOOPBACK, secure=False, method=b"POST"):
        DummyRequest.__init__(self, [])
        self.method = method
        self.content = BytesIO(data.encode("utf-8") if isinstance(data, str) else data)
        self.client = client
        self.secure = secure

    def isSecure(self):
        return self.secure

    def lose(self):
        """The client's HTTP connection drops before the answer."""
        self.processingFailed(Failure(ConnectionLost()))

    @property
    def answered(self):
        return self.finished > 0

    def response(self):
        """The response's C{<body/>} element (the request must be answered)."""
        assert self.answered, "the request is still held"
        return parseXML(b"".join(self.written))


def parseXML(data):
    """Parse one XML document into its root element, children included."""
    found = []
    parser = domish.elementStream()
    parser.DocumentStartEvent = found.append
    parser.ElementEvent = lambda e: found[0].addChild(e)
    parser.DocumentEndEvent = lambda: None
    parser.parse(data)
    return found[0]


def body(children="", **attrs):
    """A request body with C{attrs} (C{xmpp_x} for C{xmpp:x}) around C{children}."""
    parts = ["<body xmlns='%s' xmlns:xmpp='%s'" % (NS_HTTPBIND, NS_XBOSH)]
    for name, value in attrs.items():
        parts.append(" %s='%s'" % (name.replace("xmpp_", "xmpp:"), value))
    return "".join(parts) + ">" + children + "</body>"


class Rig:
    """
    A BOSH resource on the c2s test server (with message and presence
    delivery) and the users alice and bob (password pw).
    """

    def __init__(self, **c2s):
        self.server = Server(**c2s)
        sm = self.server.sm
        sm.addHandler(MessageHandler())
        sm.addHandler(PresenceHandler())
        sm.output = StubRouter(sm)
        self.server.addUser("alice", "pw")
        self.server.addUser("bob", "pw")
        self.clock = self.server.clock
        self.resource = BOSHResource(self.server.factory)
        self.rid = 1000

    def post(self, data, **kw):
        request = Request(data, **kw)
        request.render(self.resource)
        return request

    def create(self, **attrs):
        """Create a session; return (sid, response body)."""
        attrs.setdefault("rid", self.rid)
        attrs.setdefault("to", "localhost")
        attrs.setdefault("wait", "30")
        attrs.setdefault("hold", "1")
        attrs.setdefault("xmpp_version", "1.0")
        request = self.post(body(**attrs))
        response = request.response()
        self.sid = response.getAttribute("sid")
        return self.sid, response

    def next(self, children="", sid=None, **attrs):
        """Send the next request of the session (rid + 1)."""
        self.rid += 1
        attrs.setdefault("rid", self.rid)
        return self.post(body(children, sid=sid or self.sid, **attrs))

    def login(self, username="alice", password="pw", resource="web"):
        """Create a session, authenticate with PLAIN, restart and bind; return the sid."""
        self.create()
        self.next(plain(username, password)).response()
        self.next(xmpp_restart="true", to="localhost").response()
        bind = ("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns="
                "'urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>"
                % resource)
        self.next(bind).response()
        return self.sid

    @property
    def session(self):
        return self.resource.sessions.get(self.sid)
