# -*- test-case-name: tests.web.test_websocket -*-
"""
XMPP over WebSocket (RFC 7395), mounted on the shared HTTP site at
C{[http] websocket_path} (default C{/xmpp-websocket}) with autobahn's
Twisted WebSocket support.

The handshake must offer the C{xmpp} subprotocol (section 3.1); others are
refused, and so are pages from origins C{[http] cors_origins} does not
allow.  Each text message is one complete element (section 3.3.3): the
stream is opened and restarted with C{<open/>} and ended with C{<close/>}
of the C{urn:ietf:params:xml:ns:xmpp-framing} namespace (sections 3.4 and
3.6), everything else is the L{jabberd.c2s.stream.ClientStream} of the TCP
listener (SASL, binding, stanzas), framing methods overridden.  Messages are
parsed by the hardened parser of every stream, so restricted XML and the
stanza size limit hold here too.  Keepalives are WebSocket pings.

Flow control is the TCP listener's (L{jabberd.c2s.flow}), on the connection
the WebSocket took over from the HTTP site: the C{[c2s]} input byte and
stanza rates shape what a client sends, reading stops while the
connection's write buffer is over its high-water mark (a client that does
not read what it asked for), and past C{[c2s] max_output_buffer} bytes
written meanwhile the connection is dropped.
"""

import secrets
from urllib.parse import urlsplit

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny

from twisted.internet import error
from twisted.internet.interfaces import ISSLTransport
from twisted.python import failure
from twisted.words.xish import domish

from jabberd.c2s.flow import FlowControl
from jabberd.c2s.stream import ClientStream, parseVersion
from jabberd.jidutil import parseJID
from jabberd.ns import NS_FRAMING, NS_XML
from jabberd.stanza import STANZAS, toClientNamespace
from jabberd.web.framing import SessionTransport, countsAsSecure, serializeForWrapper
from jabberd.xmlparser import DEFAULT_LIMITS, HardenedElementStream

__all__ = ["SUBPROTOCOL", "originAllowed", "MessageParser", "WebSocketStream",
           "XMPPWebSocketProtocol", "XMPPWebSocketFactory", "makeWebSocketResource"]

SUBPROTOCOL = "xmpp"


class NotOneElement(domish.ParserError):
    """A message held a partial element or more than one (RFC 7395 section 3.3.3)."""


def _ignore(*args):
    """The wrapper's start: not an element of the stream."""


class MessageParser:
    """
    Parses each WebSocket message as one complete element.  One expat
    parser serves the whole connection: messages are fed as the children of
    a wrapper document, so a message that leaves an element open, closes
    the wrapper or holds two elements is detected, and no parser is built
    per message.
    """

    def __init__(self, maxStanzaSize, limits=DEFAULT_LIMITS):
        self.elements = []
        self.ended = False
        self.parser = HardenedElementStream(maxStanzaSize, limits)
        self.parser.DocumentStartEvent = _ignore
        self.parser.ElementEvent = self.elements.append
        self.parser.DocumentEndEvent = self._end
        self.parser.parse(b"<messages>")

    def _end(self):
        self.ended = True

    def parse(self, data):
        """
        The element in message C{data}, or None for a message of only
        whitespace.

        @raise domish.ParserError: not well-formed or restricted XML, too
            large, or not exactly one complete element.
        """
        elements = self.elements
        self.parser.parse(data)
        if self.ended or self.parser.currElem is not None or len(elements) > 1:
            raise NotOneElement("a message must be one complete element")
        element = elements[0] if elements else None
        del elements[:]
        return element


class WebSocketStream(ClientStream):
    """
    A client stream framed in WebSocket messages.

    @ivar socket: the L{XMPPWebSocketProtocol} carrying it.
    """

    cacheFeatures = False  # elements are serialised for the wrapper by send

    def __init__(self, factory, socket):
        ClientStream.__init__(self, factory)
        self.socket = socket

    def _initializeStream(self):
        self.stream = MessageParser(self.maxStanzaSize, self.parserLimits)

    def applyParserLimits(self):
        """The one parser of the connection takes the new limits (see L{MessageParser})."""
        if self.stream is not None:
            self.stream.parser.limits = self.parserLimits
            self.stream.parser.maxStanzaSize = self.maxStanzaSize

    def attachFlow(self, connection):
        """
        Flow control on C{connection}, the TCP or TLS connection of the
        WebSocket; the HTTP channel that had it registered as its producer
        is gone.
        """
        unregister = getattr(connection, "unregisterProducer", None)
        if unregister is not None:
            unregister()
        self.flow = FlowControl.attach(self, connection, socket=connection)

    def messageReceived(self, data):
        """One text message arrived."""
        self.liveness.noteInput()
        if self.closing:
            return
        flow = self.flow
        if flow is not None:
            flow.noteInput(len(data))
        if self.rawDataInFn:
            self.rawDataInFn(data)
        try:
            element = self.stream.parse(data)
        except domish.ParserError as e:
            self.onParserError(e)
            return
        if element is not None:
            self.onMessage(element)

    def onMessage(self, element):
        """Section 3.4: C{<open/>} (re)starts the stream, C{<close/>} ends it."""
        if element.uri == NS_FRAMING and element.name == "open":
            if self._headerSent:
                self.closeWithError("bad-format", "the stream is already open")
            else:
                self.onDocumentStart(element)
        elif element.uri == NS_FRAMING and element.name == "close":
            # Section 3.6.1: a <close/> is answered with <close/>, also one
            # sent before the first <open/> or after a restart, when no
            # stream is open that closeStream would end with its footer.
            if not self._headerSent and not self.closing:
                self.sendFooter()
            self.closeStream()
        elif not self._headerSent:
            self.closeWithError("bad-format", "<open/> expected")
        else:
            if not element.uri and element.name in STANZAS:
                toClientNamespace(element, (None, ""))  # COMPAT: clients omitting xmlns='jabber:client'
            self.onElement(element)

    def checkHeader(self, root):
        """Section 3.4: an C{<open/>} to a local domain, version 1.0."""
        if (root.uri, root.name) != (NS_FRAMING, "open"):
            return "invalid-namespace"
        version = parseVersion(root.getAttribute("version"))
        self.version = min(version, (1, 0))
        if version[0] > 1:
            return "unsupported-version"
        if root.getAttribute("from"):
            self.peer = parseJID(root.getAttribute("from"))
        return self.checkDomain(root.getAttribute("to"))

    def sendHeader(self):
        if self.sid is None:
            self.sid = secrets.token_hex(8)
        header = domish.Element((NS_FRAMING, "open"))
        header["from"] = self.domain or self.config.server.domains[0]
        if self.peer is not None:
            header["to"] = self.peer.full()
        header["id"] = self.sid
        if self.version >= (1, 0):
            header["version"] = "1.0"
        header[(NS_XML, "lang")] = "en"
        self.send(header)
        self._headerSent = True

    def sendFooter(self):
        self.send(domish.Element((NS_FRAMING, "close")))

    def reset(self):
        # The same parser reads on: a restart is the client's next <open/>.
        self._headerSent = False

    def send(self, obj):
        if self.closing:
            return
        if isinstance(obj, domish.Element):
            obj = serializeForWrapper(obj)
        data = obj.encode("utf-8")
        if self.rawDataOutFn:
            self.rawDataOutFn(data)
        flow = self.flow
        if flow is not None and flow.blocked:
            flow.noteOutput(len(data))  # only while the client is not reading
        self.socket.sendMessage(data, isBinary=False)
        self.liveness.noteOutput()

    def sendKeepalive(self):
        """A WebSocket ping (RFC 6455 section 5.5.2) instead of whitespace."""
        if self._headerSent and not self.closing:
            self.socket.sendPing()

    def dropConnection(self):
        """Section 3.6: the server starts the WebSocket closing handshake."""
        self.socket.sendClose(1000)


def originAllowed(origins, origin, host):
    """
    Whether a page from C{origin} may connect (RFC 6455 section 10.2): the
    C{[http] cors_origins} rule of the rest of the site, and pages of this
    site itself (the web chat).  Clients other than browsers send no origin.
    """
    if not origin or "*" in origins or origin in origins:
        return True
    return (urlsplit(origin).hostname or "") == (host or "").lower()


class XMPPWebSocketProtocol(WebSocketServerProtocol):
    """
    One WebSocket connection carrying one L{WebSocketStream}.

    @ivar xmppStream: the stream, from the opening handshake until the
        connection closes.
    """

    xmppStream = None

    def onConnect(self, request):
        if SUBPROTOCOL not in request.protocols:
            raise ConnectionDeny(ConnectionDeny.BAD_REQUEST,
                                 "the xmpp WebSocket subprotocol (RFC 7395) is required")
        if not originAllowed(self.factory.c2s.config.http.corsOrigins, request.origin,
                             request.host):
            raise ConnectionDeny(ConnectionDeny.FORBIDDEN, "origin not allowed")
        return SUBPROTOCOL

    def onOpen(self):
        c2s = self.factory.c2s
        stream = WebSocketStream(c2s, self)
        peer = self.transport.getPeer()
        stream.makeConnection(SessionTransport(peer, self.transport.getHost()))
        if not stream.closing:
            stream.attachFlow(self.transport)
        stream.secure = countsAsSecure(c2s.config.http, ISSLTransport.providedBy(self.transport),
                                       peer)
        self.xmppStream = stream

    def onMessage(self, payload, isBinary):
        stream = self.xmppStream
        if stream is None:
            return
        if isBinary:
            stream.closeWithError("bad-format", "XMPP is sent in text messages")
        else:
            stream.messageReceived(payload)

    def onPong(self, payload):
        if self.xmppStream is not None:
            self.xmppStream.noteInput()

    def onClose(self, wasClean, code, reason):
        stream, self.xmppStream = self.xmppStream, None
        if stream is not None:
            stream.connectionLost(failure.Failure(error.ConnectionDone(reason)))


MESSAGE_SLACK = 16384
"""Bytes a WebSocket message may exceed the stanza size limit by."""


class XMPPWebSocketFactory(WebSocketServerFactory):
    """
    @ivar c2s: the L{jabberd.c2s.listener.C2SFactory} the streams belong to.
    """

    protocol = XMPPWebSocketProtocol

    def __init__(self, c2s):
        WebSocketServerFactory.__init__(self, protocols=[SUBPROTOCOL])
        self.c2s = c2s
        config = c2s.config
        # Room for a stanza at the limit and a little more: the parser answers
        # a slightly oversized one with policy-violation; anything larger is
        # cut off by autobahn as soon as a frame header announces it (close
        # code 1009), before it is buffered.
        limit = config.http.websocketMaxMessage or config.server.maxStanzaSize + MESSAGE_SLACK
        # failByDrop off: a refused message is answered with a close frame
        # naming why (1009), within autobahn's close handshake timeout.
        self.setProtocolOptions(maxMessagePayloadSize=limit, maxFramePayloadSize=limit,
                                autoPingInterval=0, failByDrop=False)


def makeWebSocketResource(c2s):
    """The resource to attach at C{[http] websocket_path}."""
    return WebSocketResource(XMPPWebSocketFactory(c2s))
