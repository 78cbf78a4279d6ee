"""
Tests for L{jabberd.web.websocketmount}: the WebSocket path costs no
autobahn until a request reaches it, and then serves RFC 7395 as before.
"""

import os
import subprocess
import sys
import textwrap

from twisted.trial import unittest
from twisted.web.resource import IResource

from jabberd.web.websocketmount import WebSocketMount
from tests.web import test_websocket

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_MOUNT = textwrap.dedent("""
    import sys
    from jabberd.web.site import HTTPService, HTTPSite
    from jabberd.web.websocketmount import WebSocketMount
    http = HTTPService(HTTPSite(), "localhost")
    http.attach("xmpp-websocket", WebSocketMount(object()))
    print(sorted(m for m in ("autobahn", "cffi", "jabberd.web.websocket") if m in sys.modules))
""")


class MountTests(unittest.TestCase):
    """The resource before and at its first request."""

    def test_isResource(self):
        """The mount is a leaf resource, as autobahn's WebSocketResource is."""
        mount = WebSocketMount(test_websocket.makeServer().factory)
        self.assertTrue(IResource.providedBy(mount))
        self.assertTrue(mount.isLeaf)

    def test_notLoadedWhenMounted(self):
        """Mounting the path imports neither autobahn nor the WebSocket stream module."""
        out = subprocess.run([sys.executable, "-c", _MOUNT], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "[]")

    def test_madeOnce(self):
        """The WebSocket resource is made at the first request and kept for the next."""
        mount = WebSocketMount(test_websocket.makeServer().factory)
        self.assertFalse(mount.loaded)
        first = mount.resource()
        self.assertTrue(mount.loaded)
        self.assertIs(mount.resource(), first)
        self.assertIs(first._factory.c2s, mount.c2s)


class MountedLiveTests(test_websocket.LiveTests):
    """The live WebSocket tests, with the resource behind the mount as the server attaches it."""

    def setUp(self):
        self.server = test_websocket.makeServer()
        self.http = test_websocket.HTTPService(test_websocket.HTTPSite(), "localhost")
        self.http.attach("xmpp-websocket", WebSocketMount(self.server.factory))
        self.http.listen("tcp:0:interface=127.0.0.1", "http")
        self.http.startService()
        self.addCleanup(self.http.stopService)
        self.url = "ws://127.0.0.1:%d/xmpp-websocket" % self.http.ports["http"]
