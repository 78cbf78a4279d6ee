# -*- test-case-name: tests.web.test_websocketmount -*-
"""
The resource at C{[http] websocket_path}: XMPP over WebSocket (RFC 7395,
L{jabberd.web.websocket}) made on the first request to the path.

autobahn, with the C compiler front end behind its NVX accelerators
(cffi, pycparser), is some 10 MB of resident memory; a server whose
configuration offers WebSocket but that no web client has reached yet
does not need it.  The first upgrade request pays the import once (a
fraction of a second); every later one goes straight to autobahn's
resource.
"""

from twisted.web.resource import IResource
from zope.interface import implementer

__all__ = ["WebSocketMount"]


@implementer(IResource)
class WebSocketMount:
    """
    Stands at the WebSocket path for autobahn's C{WebSocketResource}, which
    it makes on first use (RFC 7395 section 3.3: the opening handshake is an
    HTTP request to this resource).

    @ivar c2s: the L{jabberd.c2s.listener.C2SFactory} the streams belong to.
    """

    isLeaf = True

    def __init__(self, c2s):
        self.c2s = c2s
        self._resource = None

    @property
    def loaded(self):
        """Whether the WebSocket resource (and autobahn) has been made."""
        return self._resource is not None

    def resource(self):
        """The WebSocket resource, made (and autobahn imported) on the first call."""
        if self._resource is None:
            from jabberd.web.websocket import makeWebSocketResource
            self._resource = makeWebSocketResource(self.c2s)
        return self._resource

    def getChildWithDefault(self, name, request):
        return self.resource().getChildWithDefault(name, request)

    def putChild(self, path, child):
        self.resource().putChild(path, child)

    def render(self, request):
        """Hand the request (a handshake, or a plain GET it refuses) to the WebSocket resource."""
        return self.resource().render(request)
