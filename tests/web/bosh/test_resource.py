"""
Tests for L{jabberd.web.bosh.resource} over real HTTP on loopback: session
creation, CORS (with its preflight), and how L{jabberd.tap.mountWebClients}
attaches BOSH, WebSocket and the web chat page per C{[http]}.
"""

from io import BytesIO

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers

from jabberd.web.bosh import BOSHResource
from jabberd.config import parse
from jabberd.web.site import HTTPService, HTTPSite
from jabberd.tap import mountWebClients
from tests.web.bosh.helpers import Rig, body, parseXML


class LiveTests(unittest.TestCase):
    """A BOSH resource on a loopback HTTP listener."""

    def setUp(self):
        self.rig = Rig()
        self.site = HTTPSite(corsOrigins=["https://chat.example"])
        self.http = HTTPService(self.site, "localhost")
        self.http.attach("http-bind", self.rig.resource)
        self.http.listen("tcp:0:interface=127.0.0.1", "http")
        self.http.startService()
        self.addCleanup(self.http.stopService)
        self.url = b"http://127.0.0.1:%d/http-bind" % self.http.ports["http"]

    @defer.inlineCallbacks
    def fetch(self, method, data=None, headers=None):
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        producer = FileBodyProducer(BytesIO(data)) if data is not None else None
        response = yield agent.request(method, self.url, Headers(headers or {}), producer)
        content = yield readBody(response)
        return response, content

    @defer.inlineCallbacks
    def test_sessionCreatedOverHTTP(self):
        """A POSTed creation body is answered 200 text/xml with a session and its features."""
        response, content = yield self.fetch(
            b"POST", body(rid="10", to="localhost", xmpp_version="1.0").encode(),
            {b"content-type": [b"text/xml; charset=utf-8"], b"origin": [b"https://chat.example"]})
        self.assertEqual(response.code, 200)
        self.assertEqual(response.headers.getRawHeaders(b"content-type"), [b"text/xml; charset=utf-8"])
        self.assertEqual(response.headers.getRawHeaders(b"access-control-allow-origin"),
                         [b"https://chat.example"])
        root = parseXML(content)
        self.assertIn(root["sid"], self.rig.resource.sessions)
        self.assertEqual([e.name for e in root.elements()], ["features"])

    @defer.inlineCallbacks
    def test_preflight(self):
        """An OPTIONS preflight from an allowed origin allows POST with a Content-Type."""
        response, _ = yield self.fetch(b"OPTIONS", headers={
            b"origin": [b"https://chat.example"], b"access-control-request-method": [b"POST"]})
        self.assertEqual(response.code, 200)
        self.assertIn(b"POST", response.headers.getRawHeaders(b"access-control-allow-methods")[0])
        allowed = response.headers.getRawHeaders(b"access-control-allow-headers")[0]
        self.assertIn(b"Content-Type", allowed)
        self.assertEqual(response.headers.getRawHeaders(b"access-control-allow-origin"),
                         [b"https://chat.example"])

    @defer.inlineCallbacks
    def test_otherOriginGetsNoCORSHeaders(self):
        """An origin not listed in cors_origins is not allowed to read the response."""
        response, _ = yield self.fetch(b"POST", body(rid="10", to="localhost").encode(),
                                       {b"origin": [b"https://evil.example"]})
        self.assertIsNone(response.headers.getRawHeaders(b"access-control-allow-origin"))

    @defer.inlineCallbacks
    def test_getDescribesTheEndpoint(self):
        """A GET (a person trying the URL) gets a short HTML page."""
        response, content = yield self.fetch(b"GET")
        self.assertEqual(response.code, 200)
        self.assertIn(b"BOSH", content)

    @defer.inlineCallbacks
    def test_garbageIsBadRequest(self):
        """A body that is not XML is answered 200 with a bad-request terminate body (section 17)."""
        response, content = yield self.fetch(b"POST", b"hello")
        self.assertEqual(response.code, 200)
        root = parseXML(content)
        self.assertEqual((root["type"], root["condition"]), ("terminate", "bad-request"))


class _HTTP:
    """Records what is attached, by path."""

    def __init__(self):
        self.attached = {}

    def attach(self, path, child):
        self.attached[path] = child


def test_mountWebClientsDefaults():
    """By default BOSH, WebSocket and the web chat (at the root) are attached."""
    http = _HTTP()
    rig = Rig()
    mountWebClients(http, parse(""), rig.server.factory)
    assert set(http.attached) == {"http-bind", "xmpp-websocket", "", "webchat"}
    assert isinstance(http.attached["http-bind"], BOSHResource)
    assert http.attached["http-bind"].factory is rig.server.factory


def test_mountWebClientsTurnedOff():
    """Empty paths and webchat = no attach nothing."""
    http = _HTTP()
    config = parse("[http]\nbosh_path =\nwebsocket_path =\nwebchat = no\n")
    mountWebClients(http, config, Rig().server.factory)
    assert http.attached == {}


def test_mountWebClientsCustomPaths():
    """Configured paths are used; the web chat below its own path keeps its assets there."""
    http = _HTTP()
    config = parse("[http]\nbosh_path = bind\nwebsocket_path = ws\nwebchat_path = chat\n")
    mountWebClients(http, config, Rig().server.factory)
    assert set(http.attached) == {"bind", "ws", "chat"}
