"""
Tests for L{jabberd.web.webchat}: the page's settings, how it is mounted and
served (at the root or below a path), its assets and headers.  The page's
behaviour in a browser is tested in C{tests/browser}.
"""

import os
import shutil
import subprocess

import pytest

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers

from jabberd.config import parse
from jabberd.web.site import HTTPService, HTTPSite
from jabberd.web.webchat import STATIC, mountWebChat, pageSettings, renderPage

CONFIG = """
[server]
domains = example.org other.example
[http]
bosh_path = bind
[component:rooms.example.org]
plugin = conference
[component:register.example.org]
plugin = register
trusted = yes
delegate = jabber:iq:register
open = yes
"""


def test_settingsFromConfig():
    """The page learns the first domain, the transport paths, the MUC service and registration."""
    settings = pageSettings(parse(CONFIG))
    assert settings == {"jabberd-domain": "example.org", "jabberd-websocket": "/xmpp-websocket",
                        "jabberd-bosh": "/bind", "jabberd-conference": "rooms.example.org",
                        "jabberd-register": "yes"}


def test_settingsDefaults():
    """Without a conference component the page offers conference.DOMAIN; registration is closed."""
    settings = pageSettings(parse("[http]\nwebsocket_path =\n"))
    assert settings["jabberd-conference"] == "conference.localhost"
    assert settings["jabberd-register"] == "no"
    assert settings["jabberd-websocket"] == ""


def test_renderedPageCarriesEscapedSettings():
    """The settings become <meta> tags, escaped."""
    page = renderPage({"jabberd-domain": "a\"b<c"}).decode("utf-8")
    assert '<meta name="jabberd-domain" content="a&quot;b&lt;c">' in page
    assert "<!-- settings -->" not in page
    assert 'src="webchat/app.js"' in page


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("name", ["app.js", "xmpp.js"])
def test_scriptsParse(name):
    """The page's scripts are valid JavaScript modules."""
    with open(os.path.join(STATIC, name), "rb") as f:
        result = subprocess.run(["node", "--input-type=module", "--check"], stdin=f,
                                capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode()


class ServedTests(unittest.TestCase):
    """The page on a loopback HTTP listener."""

    def serve(self, text=""):
        http = HTTPService(HTTPSite(), "localhost")
        mountWebChat(http, parse(text))
        http.listen("tcp:0:interface=127.0.0.1", "http")
        http.startService()
        self.addCleanup(http.stopService)
        self.base = "http://127.0.0.1:%d" % http.ports["http"]

    @defer.inlineCallbacks
    def get(self, path):
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        response = yield agent.request(b"GET", (self.base + path).encode(), Headers())
        content = yield readBody(response)
        return response, content

    @defer.inlineCallbacks
    def test_pageAtTheRoot(self):
        """By default the page is the site's root, with a restrictive CSP."""
        self.serve()
        response, content = yield self.get("/")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.headers.getRawHeaders(b"content-type"), [b"text/html; charset=utf-8"])
        policy = response.headers.getRawHeaders(b"content-security-policy")[0]
        self.assertIn(b"default-src 'self'", policy)
        self.assertIn(b'name="jabberd-domain" content="localhost"', content)

    @defer.inlineCallbacks
    def test_assetsServedWithTheirTypes(self):
        """Scripts and style sheet are served with JavaScript and CSS content types."""
        self.serve()
        response, content = yield self.get("/webchat/app.js")
        self.assertEqual(response.headers.getRawHeaders(b"content-type"),
                         [b"text/javascript; charset=utf-8"])
        self.assertIn(b"import", content)
        response, _ = yield self.get("/webchat/webchat.css")
        self.assertEqual(response.headers.getRawHeaders(b"content-type"), [b"text/css; charset=utf-8"])

    @defer.inlineCallbacks
    def test_noDirectoryListing(self):
        """The asset directory itself is not listed."""
        self.serve()
        response, _ = yield self.get("/webchat/")
        self.assertEqual(response.code, 404)

    @defer.inlineCallbacks
    def test_pageBelowAPath(self):
        """With webchat_path the page and assets live below it; the bare path redirects."""
        self.serve("[http]\nwebchat_path = chat\n")
        response, content = yield self.get("/chat/")
        self.assertEqual(response.code, 200)
        self.assertIn(b"jabberd-domain", content)
        response, _ = yield self.get("/chat/webchat/xmpp.js")
        self.assertEqual(response.code, 200)
        response, _ = yield self.get("/chat")
        self.assertEqual(response.code, 302)
        self.assertEqual(response.headers.getRawHeaders(b"location"), [b"/chat/"])
        response, _ = yield self.get("/")
        self.assertEqual(response.code, 404)
