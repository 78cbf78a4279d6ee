"""
Tests for L{jabberd.web.service}: the HTTP service makes its site at the
first connection, with what was attached and set before.
"""

from twisted.internet import address, error
from twisted.python import failure
from twisted.test.proto_helpers import StringTransport
from twisted.trial import unittest
from twisted.web import resource

from jabberd.web.service import HTTPService, SiteOnDemand
from jabberd.web.site import HTTPSite


class Hello(resource.Resource):
    """Answers every GET with its greeting; declares a body limit."""

    isLeaf = True
    maxBodySize = 10

    def render_GET(self, request):
        return b"hello"


PEER = address.IPv4Address("TCP", "127.0.0.1", 40000)


def connect(site, opened):
    """A channel of C{site} on a string transport, noted in C{opened} to be closed."""
    channel = site.buildProtocol(PEER)
    transport = StringTransport(peerAddress=PEER)
    channel.makeConnection(transport)
    opened.append(channel)
    return channel, transport


class SiteOnDemandTests(unittest.TestCase):
    """The factory before and at its first connection."""

    def setUp(self):
        self.factory = SiteOnDemand(maxBodySize=1000, corsOrigins=["https://a.example"])
        self.http = HTTPService(self.factory, "localhost")
        self.http.attach("hello", Hello())
        self.opened = []

    def tearDown(self):
        for channel in self.opened:
            channel.connectionLost(failure.Failure(error.ConnectionDone()))

    def test_noSiteBeforeFirstConnection(self):
        """Attaching and reading settings makes no site."""
        self.assertEqual(self.factory.bodyLimitFor(b"/hello/x?y"), 10)
        self.assertEqual(self.factory.bodyLimitFor(b"/other"), 1000)
        self.assertEqual(self.factory.corsOrigins, ["https://a.example"])
        self.assertIsNone(self.factory._site)

    def test_firstConnectionMakesSite(self):
        """The first channel belongs to an HTTPSite with the root, limits and settings given."""
        channel, _ = connect(self.factory, self.opened)
        site = channel.site
        self.assertIsInstance(site, HTTPSite)
        self.assertIs(site.resource, self.factory.resource)
        self.assertEqual((site.maxBodySize, site.corsOrigins), (1000, ["https://a.example"]))
        self.assertEqual(site.bodyLimitFor(b"/hello"), 10)
        self.assertIs(connect(self.factory, self.opened)[0].site, site)

    def test_requestAnswered(self):
        """A request on the first connection reaches the attached resource."""
        channel, transport = connect(self.factory, self.opened)
        channel.dataReceived(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertIn(b"hello", transport.value())

    def test_laterAttachAndSettingsReachSite(self):
        """What is attached or set after the site exists is the site's too."""
        site = connect(self.factory, self.opened)[0].site
        self.http.attach("more", Hello())
        self.factory.maxBodySize = 5
        self.assertEqual(site.bodyLimits[b"more"], 10)
        self.assertEqual(site.maxBodySize, 5)

    def test_startedPortsStartTheSite(self):
        """A site made while ports listen is started once per port, and stopped with them."""
        self.factory.doStart()
        self.factory.doStart()
        site = connect(self.factory, self.opened)[0].site
        self.assertEqual(site.numPorts, 2)
        self.factory.doStop()
        self.factory.doStop()
        self.assertEqual(site.numPorts, 0)

    def test_logPrefix(self):
        """Listeners log as the site's, as before."""
        self.assertEqual(self.factory.logPrefix(), "HTTPSite")
