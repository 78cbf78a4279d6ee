"""Tests for L{jabberd.web.site}: the shared site, body limits, spooling, CORS, URLs."""

import os
import shutil
import tempfile
from io import BytesIO

import pytest

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web import resource
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH

from jabberd.config import ComponentConfig, ConfigError, parse
from jabberd.web.site import (HTTPService, HTTPSite, makeComponentHTTPService, makeHTTPService,
                          mountHost, setCORSHeaders)


class Recorder(resource.Resource):
    """Records what each PUT saw of its body, and answers CORS-enabled."""

    isLeaf = True

    def __init__(self, maxBodySize=None):
        resource.Resource.__init__(self)
        self.seen = []
        self.urlOf = None
        if maxBodySize is not None:
            self.maxBodySize = maxBodySize

    def mounted(self, urlOf):
        self.urlOf = urlOf

    def render_PUT(self, request):
        path = request.contentPath
        self.seen.append((path, path is not None and os.path.exists(path),
                          request.content.read()))
        return b"ok"

    def render_GET(self, request):
        setCORSHeaders(request)
        return b"ok"

    def render_POST(self, request):
        self.seen.append((request.args, request.content.read()))
        return b"ok"


class UnknownLengthProducer(FileBodyProducer):
    """A body sent chunked, its length not declared."""

    def __init__(self, data):
        FileBodyProducer.__init__(self, BytesIO(data))
        self.length = UNKNOWN_LENGTH


class SiteTests(unittest.TestCase):
    """A live HTTPService on loopback with a recording resource at /rec."""

    def setUp(self):
        self.spool = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.spool, True)
        self.site = HTTPSite(maxBodySize=1000, spoolDirectory=self.spool)
        self.http = HTTPService(self.site, "example.test")
        self.recorder = Recorder()
        self.http.attach("rec", self.recorder)
        self.http.listen("tcp:0:interface=127.0.0.1", "http")
        self.http.startService()
        self.addCleanup(self.http.stopService)
        self.base = f"http://127.0.0.1:{self.http.ports['http']}"

    @defer.inlineCallbacks
    def fetch(self, method, path, producer=None, headers=None):
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        response = yield agent.request(method, (self.base + path).encode(),
                                       Headers(headers or {}), producer)
        body = yield readBody(response)
        return response, body

    def test_publicURLFromBoundPort(self):
        """Without a configured URL, the public URL names the host and the bound port."""
        self.assertEqual(self.http.publicURL(), f"http://example.test:{self.http.ports['http']}")
        self.assertEqual(self.recorder.urlOf(), self.http.publicURL() + "/rec")

    @defer.inlineCallbacks
    def test_smallBodyInMemory(self):
        """A small body reaches the resource in memory, not spooled."""
        response, _ = yield self.fetch(b"PUT", "/rec/x", FileBodyProducer(BytesIO(b"hi")))
        self.assertEqual(response.code, 200)
        self.assertEqual(self.recorder.seen, [(None, False, b"hi")])

    @defer.inlineCallbacks
    def test_largeBodySpooledToNamedFile(self):
        """A large body is in a named spool file during render and gone afterwards."""
        self.site.maxBodySize = None
        data = b"y" * 200000
        response, _ = yield self.fetch(b"PUT", "/rec/x", FileBodyProducer(BytesIO(data)))
        self.assertEqual(response.code, 200)
        [(path, existed, body)] = self.recorder.seen
        self.assertTrue(existed and path.startswith(self.spool))
        self.assertEqual(body, data)
        self.assertEqual(os.listdir(self.spool), [])

    @defer.inlineCallbacks
    def test_postBodyNotParsedAsAForm(self):
        """A form-encoded POST body reaches the resource as it came, not parsed into args."""
        response, _ = yield self.fetch(
            b"POST", "/rec/x", FileBodyProducer(BytesIO(b"a=1&b=2")),
            {b"Content-Type": [b"application/x-www-form-urlencoded"]})
        self.assertEqual(response.code, 200)
        self.assertEqual(self.recorder.seen, [({}, b"a=1&b=2")])

    @defer.inlineCallbacks
    def test_declaredBodyOverLimit(self):
        """A Content-Length over the site's limit gets 413 without reaching the resource."""
        response, _ = yield self.fetch(b"PUT", "/rec/x", FileBodyProducer(BytesIO(b"z" * 1001)))
        self.assertEqual(response.code, 413)
        self.assertEqual(self.recorder.seen, [])

    @defer.inlineCallbacks
    def test_chunkedBodyOverLimit(self):
        """A chunked body that grows over the limit gets 413 and leaves no spool file."""
        response, _ = yield self.fetch(b"PUT", "/rec/x", UnknownLengthProducer(b"z" * 5000))
        self.assertEqual(response.code, 413)
        self.assertEqual(self.recorder.seen, [])
        self.assertEqual(os.listdir(self.spool), [])

    @defer.inlineCallbacks
    def test_smallerLimitOfAResource(self):
        """A body under the site's limit but over its resource's own gets 413 there only."""
        self.http.attach("tiny", Recorder(maxBodySize=10))
        response, _ = yield self.fetch(b"PUT", "/tiny/x", FileBodyProducer(BytesIO(b"z" * 11)))
        self.assertEqual(response.code, 413)
        response, _ = yield self.fetch(b"PUT", "/rec/x", FileBodyProducer(BytesIO(b"z" * 11)))
        self.assertEqual(response.code, 200)

    @defer.inlineCallbacks
    def test_rootIsNotFound(self):
        """Paths nothing is attached to, the root included, are 404."""
        response, _ = yield self.fetch(b"GET", "/")
        self.assertEqual(response.code, 404)
        response, _ = yield self.fetch(b"GET", "/nothing")
        self.assertEqual(response.code, 404)

    @defer.inlineCallbacks
    def test_corsOriginList(self):
        """With listed origins, only a listed Origin is allowed, and echoed."""
        self.site.corsOrigins = ["https://chat.example"]
        response, _ = yield self.fetch(b"GET", "/rec/x",
                                       headers={"Origin": ["https://chat.example"]})
        self.assertEqual(response.headers.getRawHeaders(b"access-control-allow-origin"),
                         [b"https://chat.example"])
        self.assertEqual(response.headers.getRawHeaders(b"vary"), [b"Origin"])
        response, _ = yield self.fetch(b"GET", "/rec/x",
                                       headers={"Origin": ["https://evil.example"]})
        self.assertIsNone(response.headers.getRawHeaders(b"access-control-allow-origin"))


def test_attachSetsBodyLimitOfItsPathOnly():
    """A resource's maxBodySize holds under its own path; other paths keep the site's limit."""
    http = HTTPService(HTTPSite(maxBodySize=1000), "localhost")
    http.attach("small", Recorder(maxBodySize=10))
    http.attach("big", Recorder(maxBodySize=5000))
    http.attach("plain", Recorder())
    site = http.site
    assert site.maxBodySize == 1000
    assert site.bodyLimitFor(b"/small/x?y=1") == 10
    assert site.bodyLimitFor(b"/big") == 5000
    assert site.bodyLimitFor(b"/plain/x") == 1000
    assert site.bodyLimitFor(b"/bigger") == 1000


def test_configuredURLWins():
    """A configured public URL is used as is, trailing slash dropped; default ports are omitted."""
    http = HTTPService(HTTPSite(), "localhost", "https://files.example/xmpp/")
    http.ports["http"] = 5280
    assert http.publicURL() == "https://files.example/xmpp"
    plain = HTTPService(HTTPSite(), "localhost")
    assert plain.publicURL() is None
    plain.ports["http"] = 80
    assert plain.publicURL() == "http://localhost"


def test_makeHTTPServiceFromConfig(tmp_path):
    """[http] settings configure the site, its listener and the spool under datadir."""
    config = parse(f"[server]\ndomains = example.test\ndatadir = {tmp_path}\n"
                   "[http]\nlisten = tcp:0\ncors_origins = https://a.example https://b.example\n")
    recorder = Recorder()
    http = makeHTTPService(config, {"rec": recorder})
    assert http.site.corsOrigins == ["https://a.example", "https://b.example"]
    assert [s.name for s in http] == ["http"]
    assert os.path.isdir(http.site.spoolDirectory)
    assert http.site.spoolDirectory.startswith(str(tmp_path))
    assert recorder.urlOf is not None


def test_componentHTTPService(tmp_path):
    """A component gets its own HTTP service only when its section has http_listen."""
    config = parse(f"[server]\ndatadir = {tmp_path}\n")
    quiet = ComponentConfig("upload.localhost", options={})
    assert makeComponentHTTPService(config, quiet, {"rec": Recorder()}) is None
    listening = ComponentConfig("upload.localhost", options={"http_listen": "tcp:0"})
    assert [s.name for s in makeComponentHTTPService(config, listening, {"rec": Recorder()})] \
        == ["http"]


def test_mountHost():
    """mountHost attaches every resource a host offers in httpResources."""

    class FakeHost:
        httpResources = {"files": Recorder()}

    http = HTTPService(HTTPSite(), "localhost")
    mountHost(http, FakeHost())
    assert http.site.resource.children[b"files"] is FakeHost.httpResources["files"]


def test_publicURLMustBeHTTP():
    """An [http] public_url that is not an http(s) URL is a start-up error naming the key."""
    with pytest.raises(ConfigError) as e:
        parse("[http]\npublic_url = files.example\n")
    assert "[http] public_url" in str(e.value)
