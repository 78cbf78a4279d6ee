# -*- test-case-name: tests.bosh.test_session -*-
"""
The client stream carried by a BOSH session (XEP-0206): the one
L{jabberd.c2s.stream.ClientStream}, with BOSH framing.

There is no byte stream to parse: the session hands the stream the
request bodies' payloads (L{ClientStream.onElement}) and, for the session
creation request and each C{xmpp:restart} request, the C{<body/>} itself
as the stream header (L{ClientStream.onDocumentStart}).  What the stream
sends is serialised at once and queued on the session, which answers a
held request with it; the stream header's attributes go into the session
creation response instead of a C{<stream:stream>} tag (XEP-0206 section 4).
"""

from zope.interface import implementer

from twisted.internet.interfaces import IAddress
from twisted.words.xish import domish

from jabberd.c2s.stream import ClientStream, parseVersion, toClientNamespace
from jabberd.jidutil import parseJID
from jabberd.ns import NS_CLIENT, NS_COMPONENT, NS_HTTPBIND, NS_SERVER, NS_STREAMS, NS_XBOSH

__all__ = ["BOSHStream", "SessionTransport", "serializeForWrapper"]

_FOREIGN = (NS_SERVER, NS_COMPONENT)
_STREAM_PREFIXES = {NS_STREAMS: "stream"}
_IN_SCOPE = ["stream"]


def serializeForWrapper(element, streamPrefix=False):
    """
    Serialise a first-level C{element} for a wrapper whose default namespace
    is not C{jabber:client} (a BOSH body, a WebSocket message): stanzas get
    an explicit C{xmlns='jabber:client'}.  Stanzas built without a namespace
    (they inherit it from a TCP stream) are moved to C{jabber:client} in
    place, as L{toClientNamespace} moves server stanzas.
    """
    uri = element.uri
    if uri in _FOREIGN:
        toClientNamespace(element)
    elif not uri and element.name in ("message", "presence", "iq"):
        element.uri = element.defaultUri = NS_CLIENT
    elif uri == NS_STREAMS and streamPrefix:
        return element.toXml(prefixes=_STREAM_PREFIXES, prefixesInScope=_IN_SCOPE)
    return element.toXml()


@implementer(IAddress)
class _NoAddress:
    """The local end of a session whose HTTP request did not say."""

    host, port = "", 0


class SessionTransport:
    """
    What a framing stream has as its C{transport}: the addresses of the
    HTTP client and of the site, and nothing to write to or start TLS on
    (so STARTTLS is never offered; the framing's C{send} does the writing).
    """

    def __init__(self, peer, host=None):
        self.peer = peer
        self.host = host if host is not None else _NoAddress()
        self.disconnecting = False

    def getPeer(self):
        return self.peer

    def getHost(self):
        return self.host

    def loseConnection(self):
        self.disconnecting = True


class BOSHStream(ClientStream):
    """
    A client stream whose framing is a L{jabberd.bosh.session.BOSHSession}.

    @ivar boshSession: the session that carries this stream.
    """

    boshSession = None

    def _initializeStream(self):
        self.stream = None  # no byte parser: the session hands over parsed elements

    def checkHeader(self, body):
        """
        Validate the session creation or restart C{<body/>} as a stream
        header: C{to} names a local domain, C{xmpp:version} (XEP-0206
        section 3) the stream version; a restart keeps both.
        """
        if (body.uri, body.name) != (NS_HTTPBIND, "body"):
            return "invalid-namespace"
        raw = body.getAttribute((NS_XBOSH, "version"))
        if raw is None and self.domain is not None:
            version = self.version  # a restart request carries no version
        else:
            version = parseVersion(raw)
        self.version = min(version, (1, 0))
        if version[0] > 1:
            return "unsupported-version"
        if self.peer is None and body.getAttribute("from"):
            self.peer = parseJID(body.getAttribute("from"))
        return self.checkDomain(body.getAttribute("to") or self.domain)

    def sendHeader(self):
        # The header's id and from go into the session creation response.
        self._headerSent = True

    def sendFooter(self):
        """Nothing to write: the session answers with a terminate body."""

    def reset(self):
        # A restart (RFC 6120 section 4.3.3) waits for an xmpp:restart body.
        self._headerSent = False

    def send(self, obj):
        if self.closing:
            return
        if isinstance(obj, domish.Element):
            streamLevel = obj.uri == NS_STREAMS
            data = serializeForWrapper(obj, streamPrefix=True)
        else:
            streamLevel, data = False, obj
        if self.rawDataOutFn:
            self.rawDataOutFn(data)
        if streamLevel and obj.name == "error":
            self.boshSession.streamError(obj, data)
        else:
            self.boshSession.push(data, streamLevel)
        self.liveness.noteOutput()

    def sendKeepalive(self):
        """BOSH answers held requests after C{wait}: no whitespace needed."""

    def dropConnection(self):
        self.boshSession.streamEnded()
