"""Tests for L{components.upload.resource}: real PUT and GET over loopback HTTP."""

import os
import shutil
import tempfile
from io import BytesIO

from twisted.internet import defer, reactor
from twisted.internet.task import Clock
from twisted.trial import unittest
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers

from jabberd.web.site import HTTPService, HTTPSite
from components.upload.resource import UploadResource, contentDisposition
from components.upload.slots import SlotManager
from components.upload.store import FileStore

MAX = 1000000


class UploadResourceTests(unittest.TestCase):
    """A live HTTP site with the upload resource attached at /upload."""

    def setUp(self):
        self.clock = Clock()
        base = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, base, True)
        self.spool = os.path.join(base, "spool")
        os.makedirs(self.spool)
        self.store = FileStore(os.path.join(base, "uploads"), 0, self.clock)
        self.store.load()
        self.slots = SlotManager(self.store, MAX, 0, 300, self.clock)
        self.files = UploadResource(self.slots, self.store)
        self.http = HTTPService(HTTPSite(spoolDirectory=self.spool), "127.0.0.1")
        self.http.attach("upload", self.files)
        self.http.listen("tcp:0:interface=127.0.0.1", "http")
        self.http.startService()
        self.addCleanup(self.http.stopService)
        self.pool = HTTPConnectionPool(reactor, persistent=False)

    @defer.inlineCallbacks
    def fetch(self, method, url, body=None, headers=None):
        """Make one request; return the response and its body."""
        producer = None if body is None else FileBodyProducer(BytesIO(body))
        agent = Agent(reactor, pool=self.pool)
        response = yield agent.request(method, url.encode("utf-8"),
                                       Headers(headers or {}), producer)
        content = yield readBody(response)
        return response, content

    def slotURL(self, size, filename="hello world.txt", contentType="text/plain"):
        slot = self.slots.request("a@localhost", filename, str(size), contentType)
        return self.files.urlFor(slot.token, slot.filename)

    @defer.inlineCallbacks
    def test_putThenGet(self):
        """An upload is stored (201) and served back byte for byte with its type."""
        data = os.urandom(5000)
        url = self.slotURL(len(data))
        self.assertTrue(url.startswith(f"http://127.0.0.1:{self.http.ports['http']}/upload/"))
        response, _ = yield self.fetch(b"PUT", url, data, {"Content-Type": ["text/plain"]})
        self.assertEqual(response.code, 201)
        response, content = yield self.fetch(b"GET", url)
        self.assertEqual((response.code, content), (200, data))
        headers = response.headers
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"text/plain"])
        self.assertEqual(headers.getRawHeaders(b"content-disposition")[0],
                         b"attachment; filename=\"hello world.txt\"; "
                         b"filename*=UTF-8''hello%20world.txt")
        self.assertEqual(headers.getRawHeaders(b"x-content-type-options"), [b"nosniff"])
        self.assertEqual(headers.getRawHeaders(b"access-control-allow-origin"), [b"*"])

    @defer.inlineCallbacks
    def test_largeBodyIsMovedNotKept(self):
        """A body large enough to be spooled ends up in the store; no spool file remains."""
        data = os.urandom(300000)
        url = self.slotURL(len(data), "big.bin", "application/octet-stream")
        response, _ = yield self.fetch(b"PUT", url, data)
        self.assertEqual(response.code, 201)
        self.assertEqual(os.listdir(self.spool), [])
        _, content = yield self.fetch(b"GET", url)
        self.assertEqual(content, data)

    @defer.inlineCallbacks
    def test_wrongSizeRejected(self):
        """A larger body gets 413, a smaller one 400; the slot stays usable."""
        url = self.slotURL(10)
        response, _ = yield self.fetch(b"PUT", url, b"x" * 11)
        self.assertEqual(response.code, 413)
        response, _ = yield self.fetch(b"PUT", url, b"x" * 9)
        self.assertEqual(response.code, 400)
        response, _ = yield self.fetch(b"PUT", url, b"x" * 10)
        self.assertEqual(response.code, 201)

    @defer.inlineCallbacks
    def test_slotReuseRejected(self):
        """A second PUT to a used slot is refused and the file is unchanged."""
        url = self.slotURL(5)
        yield self.fetch(b"PUT", url, b"first")
        response, _ = yield self.fetch(b"PUT", url, b"again")
        self.assertEqual(response.code, 409)
        _, content = yield self.fetch(b"GET", url)
        self.assertEqual(content, b"first")

    @defer.inlineCallbacks
    def test_contentTypeMismatch(self):
        """A PUT whose Content-Type differs from the slot's is refused with 400."""
        url = self.slotURL(5, contentType="image/png")
        response, _ = yield self.fetch(b"PUT", url, b"hello", {"Content-Type": ["text/html"]})
        self.assertEqual(response.code, 400)

    @defer.inlineCallbacks
    def test_unknownToken(self):
        """GET and PUT of an unknown token, or a known one under another name, are 404."""
        base = f"http://127.0.0.1:{self.http.ports['http']}/upload/"
        response, _ = yield self.fetch(b"GET", base + "nosuchtoken/file.txt")
        self.assertEqual(response.code, 404)
        response, _ = yield self.fetch(b"PUT", base + "nosuchtoken/file.txt", b"x")
        self.assertEqual(response.code, 404)
        url = self.slotURL(1)
        response, _ = yield self.fetch(b"PUT", url.rsplit("/", 1)[0] + "/other.txt", b"x")
        self.assertEqual(response.code, 404)

    @defer.inlineCallbacks
    def test_expiredSlot(self):
        """A PUT after the slot's lifetime is 404."""
        url = self.slotURL(1)
        self.clock.advance(301)
        response, _ = yield self.fetch(b"PUT", url, b"x")
        self.assertEqual(response.code, 404)

    @defer.inlineCallbacks
    def test_preflight(self):
        """OPTIONS answers the CORS preflight for PUT with Content-Type."""
        response, _ = yield self.fetch(b"OPTIONS", self.slotURL(1), headers={
            "Origin": ["https://chat.example"], "Access-Control-Request-Method": ["PUT"]})
        self.assertEqual(response.code, 204)
        headers = response.headers
        self.assertEqual(headers.getRawHeaders(b"access-control-allow-origin"), [b"*"])
        self.assertIn(b"PUT", headers.getRawHeaders(b"access-control-allow-methods")[0])
        self.assertIn(b"Content-Type", headers.getRawHeaders(b"access-control-allow-headers")[0])

    @defer.inlineCallbacks
    def test_overSiteLimit(self):
        """A body over every limit is refused with 413 before the resource sees it."""
        url = self.slotURL(10)
        response, _ = yield self.fetch(b"PUT", url, b"x" * (self.http.site.maxBodySize + 1))
        self.assertEqual(response.code, 413)
        self.assertEqual(os.listdir(self.spool), [])
        self.assertIsNotNone(self.slots.pending(url.split("/")[-2]))


def test_contentDispositionInlineForMedia():
    """Images are shown inline; non-ASCII names get an RFC 5987 filename*."""
    value = contentDisposition("caf\u00e9 \"1\".jpg", "image/jpeg")
    assert value == b"inline; filename=\"caf_ _1_.jpg\"; filename*=UTF-8''caf%C3%A9%20%221%22.jpg"
