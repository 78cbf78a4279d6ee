"""Tests for L{components.upload}: options, makeHost, and a slot used end to end over HTTP."""

import os
import shutil
import tempfile
from io import BytesIO

import pytest
from twisted.internet import defer, reactor
from twisted.internet.task import Clock
from twisted.trial import unittest
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.words.xish import domish

import components.upload
from components.upload.options import UploadOptions, parseSize
from jabberd.config import ConfigError, parse
from jabberd.web.site import HTTPService, HTTPSite, mountHost
from jabberd.ns import NS_UPLOAD

SECTION = "[component:upload.localhost]\nplugin = upload\n"


def configWith(datadir, options=""):
    return parse(f"[server]\ndomains = localhost\ndatadir = {datadir}\n{SECTION}{options}")


def test_optionDefaults(tmp_path):
    """Without options: 10 MiB files, a 1 GiB quota, a week's retention, files under datadir."""
    config = configWith(tmp_path)
    options = UploadOptions.fromConfig(config, config.components["upload.localhost"])
    assert (options.maxFileSize, options.quotaPerUser) == (10 * 1024 ** 2, 1024 ** 3)
    assert options.expireAfter == 604800 and options.slotLifetime == 300
    assert options.directory == os.path.join(str(tmp_path), "uploads")
    assert options.httpPath == "upload" and options.publicURL == ""


def test_optionValues(tmp_path):
    """Sizes take K/M/G suffixes; public_url loses its trailing slash."""
    config = configWith(tmp_path, "max_file_size = 5M\nquota_per_user = 0\nexpire_after = 0\n"
                                  "public_url = https://files.example/up/\n")
    options = UploadOptions.fromConfig(config, config.components["upload.localhost"])
    assert options.maxFileSize == 5 * 1024 ** 2 and options.quotaPerUser == 0
    assert options.expireAfter == 0 and options.publicURL == "https://files.example/up"
    assert parseSize("512k") == 524288 and parseSize("2GB") == 2 * 1024 ** 3


@pytest.mark.parametrize("line, key", [
    ("max_file_size = lots", "max_file_size"),
    ("expire_after = -5", "expire_after"),
    ("public_url = ftp://x", "public_url"),
])
def test_optionErrorsNameKey(tmp_path, line, key):
    """A bad option is a ConfigError naming the component section and the key."""
    config = configWith(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as e:
        components.upload.makeHost(config, config.components["upload.localhost"], None)
    assert f"[component:upload.localhost] {key}" in str(e.value)


def test_makeHostOffersResourcesAndServices(tmp_path):
    """The host serves its domain and offers the upload resource and a sweeper service."""
    config = configWith(tmp_path, "max_file_size = 2K\n")
    host = components.upload.makeHost(config, config.components["upload.localhost"], None)
    assert host.domains == ["upload.localhost"]
    assert host.httpResources["upload"].maxBodySize == 2048
    [sweeper] = host.services
    assert sweeper.name == "upload-expiry:upload.localhost"


def test_sweeperExpiresFiles(tmp_path):
    """The sweeper service removes files once expire_after has passed."""
    config = configWith(tmp_path, "expire_after = 60\ncleanup_interval = 30\n")
    clock = Clock()
    host = components.upload.makeHost(config, config.components["upload.localhost"], None,
                                      clock=clock)
    files = host.httpResources["upload"]
    slot = files.slots.request("a@localhost", "f.txt", "2")
    files.slots.claim(slot.token)
    store = files.store
    store._run = lambda f, *a: defer.maybeDeferred(f, *a)  # no threads in this unit test
    store.add(slot, BytesIO(b"hi"))
    [sweeper] = host.services
    sweeper.startService()
    clock.advance(60)
    assert store.get(slot.token) is None and not os.path.exists(store.dataPath(slot.token))
    sweeper.stopService()


class InProcessUploadTests(unittest.TestCase):
    """The component as the server runs it: host on an iq pipe, resource on the shared site."""

    def setUp(self):
        datadir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, datadir, True)
        config = configWith(datadir)
        self.host = components.upload.makeHost(config, config.components["upload.localhost"],
                                               None)
        self.sent = []
        self.host.output = self.sent.append
        self.http = HTTPService(HTTPSite(), "127.0.0.1")
        mountHost(self.http, self.host)
        self.http.listen("tcp:0:interface=127.0.0.1", "http")
        self.http.startService()
        self.addCleanup(self.http.stopService)

    def requestSlot(self, size):
        iq = domish.Element((None, "iq"))
        iq["type"], iq["id"] = "get", "s1"
        iq["from"], iq["to"] = "juliet@localhost/balcony", "upload.localhost"
        request = iq.addElement((NS_UPLOAD, "request"))
        request["filename"], request["size"] = "note.txt", str(size)
        request["content-type"] = "text/plain"
        self.host.receive(iq)
        slot = next(self.sent[-1].elements(NS_UPLOAD, "slot"))
        return [next(slot.elements(NS_UPLOAD, n))["url"] for n in ("put", "get")]

    @defer.inlineCallbacks
    def test_slotThenUploadThenDownload(self):
        """The URLs of a granted slot accept the upload and then serve the file."""
        data = b"wherefore art thou"
        putURL, getURL = self.requestSlot(len(data))
        self.assertTrue(putURL.startswith(f"http://127.0.0.1:{self.http.ports['http']}/upload/"))
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        response = yield agent.request(b"PUT", putURL.encode(), None,
                                       FileBodyProducer(BytesIO(data)))
        yield readBody(response)
        self.assertEqual(response.code, 201)
        response = yield agent.request(b"GET", getURL.encode())
        body = yield readBody(response)
        self.assertEqual((response.code, body), (200, data))
