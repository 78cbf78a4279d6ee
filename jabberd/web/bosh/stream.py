# -*- test-case-name: tests.web.bosh.test_session -*-
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

from twisted.words.xish import domish

from jabberd.c2s.stream import ClientStream, parseVersion
from jabberd.jidutil import parseJID
from jabberd.ns import NS_HTTPBIND, NS_STREAMS, NS_XBOSH
from jabberd.web.framing import serializeForWrapper

__all__ = ["BOSHStream"]


class BOSHStream(ClientStream):
    """
    A client stream whose framing is a L{jabberd.web.bosh.session.BOSHSession}.

    @ivar boshSession: the session that carries this stream.
    """

    cacheFeatures = False  # elements are serialised for the wrapper by send
    # XEP-0198 acks yes, resumption no: a BOSH session already outlives its
    # connections (XEP-0124 section 10), and its end is always final here.
    resumable = False

    boshSession = None

    @property
    def restartPending(self):
        """Whether the stream was reset (SASL succeeded) and awaits an C{xmpp:restart}."""
        return not self._headerSent and self.domain is not None

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
