# -*- test-case-name: tests.web.bosh.test_resource -*-
"""
The BOSH connection manager as a C{twisted.web} resource (XEP-0124 with
XEP-0206), mounted on the shared HTTP site at C{[http] bosh_path}.

Each C{POST} carries one C{<body/>}: without a C{sid} it creates a session
(a new L{jabberd.web.bosh.stream.BOSHStream} of the client listener's factory,
so SASL, binding and everything after are the TCP listener's own code),
otherwise it goes to its L{jabberd.web.bosh.session.BOSHSession}.  Browsers on
other origins are answered with CORS headers (the C{OPTIONS} preflight
included).  Terminal errors are C{200 OK} responses with a C{type='terminate'}
body (section 17: the HTTP error codes are deprecated).

Request bodies are bounded before they cost anything: L{maxBodySize} (the
site refuses a larger body with HTTP 413 while it arrives, keeping none of
it), then the payload and element counts of L{jabberd.web.bosh.body}, all
checked before the session is looked up.
"""

import secrets

from jabberd.logs import Logger
from twisted.web import resource

from jabberd.web.bosh.body import BodyError, intAttribute, parseBody, ridAttribute, terminateBody
from jabberd.web.bosh.session import BOSH_VERSION, BOSHSession
from jabberd.web.bosh.stream import BOSHStream
from jabberd.web.cors import setCORSHeaders
from jabberd.listening import setNoDelay
from jabberd.web.framing import SessionTransport, countsAsSecure

__all__ = ["BOSHResource", "parseBOSHVersion"]

_CORS = dict(methods=b"POST, OPTIONS", headers=b"Content-Type")
_INFO = (b"<!DOCTYPE html><html><head><title>BOSH</title></head><body>"
         b"<p>XMPP over BOSH (XEP-0206) is served here: POST a &lt;body/&gt;.</p>"
         b"</body></html>")


def parseBOSHVersion(value):
    """C{ver} (section 7.1) as (major, minor), ours when absent or unreadable."""
    major, dot, minor = (value or "").partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        return BOSH_VERSION
    return min((int(major), int(minor)), BOSH_VERSION)


BOSH_FRAMING = 16384
"""Bytes allowed for the C{<body/>} wrapper around one full-size stanza."""


def maxBodyOf(config):
    """The BOSH body limit: C{[http] bosh_max_body}, or a stanza plus framing."""
    return config.http.boshMaxBody or config.server.maxStanzaSize + BOSH_FRAMING


_CONTENT_TYPES = frozenset(("text/xml", "application/xml", "text/plain"))


def _contentType(body):
    """
    The response Content-Type a client asked for (section 7.1).  Only XML
    and plain text are granted: a response rendered as HTML by a browser
    sent there by another site could run script in this site's origin.
    """
    wanted = body.getAttribute("content") or ""
    mediaType = wanted.split(";", 1)[0].strip().lower()
    if mediaType in _CONTENT_TYPES and all(" " <= ch <= "~" for ch in wanted):
        return wanted.encode("ascii")
    return b"text/xml; charset=utf-8"


class BOSHResource(resource.Resource):
    """
    @ivar factory: the L{jabberd.c2s.listener.C2SFactory} whose negotiators,
        credentials and stream set the sessions' streams share.
    @ivar sessions: session id to L{BOSHSession}.
    @ivar maxBodySize: largest request body, in bytes; the HTTP site
        applies it to this resource's path only.
    """

    isLeaf = True
    log = Logger()

    def __init__(self, factory, clock=None):
        resource.Resource.__init__(self)
        self.factory = factory
        self.config = factory.config
        self.clock = clock if clock is not None else factory.clock
        self.sessions = {}
        self.maxBodySize = maxBodyOf(self.config)
        self._touched = []
        self._handling = False

    def render_OPTIONS(self, request):
        """The CORS preflight of a browser on another origin."""
        setCORSHeaders(request, **_CORS)
        request.setHeader(b"access-control-max-age", b"86400")
        return b""

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return _INFO

    def render_POST(self, request):
        setCORSHeaders(request, **_CORS)
        request.setHeader(b"x-content-type-options", b"nosniff")
        setNoDelay(getattr(getattr(request, "channel", None), "transport", None))  # answers go at once
        self._handling = True
        try:
            self._dispatch(request)
        except BodyError as e:
            self._refuse(request, e)
        finally:
            self._handling = False
            self._flushTouched()
        from twisted.web.server import NOT_DONE_YET  # loaded by the request's site

        return NOT_DONE_YET

    def _dispatch(self, request):
        h = self.config.http
        data = request.content.read()
        body, payloads = parseBody(data, self.config.server.maxStanzaSize,
                                   h.boshMaxPayloads, h.boshMaxElements)
        rid = ridAttribute(body)
        sid = body.getAttribute("sid")
        if sid is None:
            self.createSession(request, rid, body)
            return
        session = self.sessions.get(sid)
        if session is None:
            self._write(request, terminateBody("item-not-found"))
            return
        request.notifyFinish().addErrback(lambda _: session.requestLost(request))
        session.receive(request, rid, body, payloads, len(data))

    def _noteOutput(self, session):
        """Output waits in C{session}: kept for L{_flushTouched} while a request is handled."""
        if self._handling:
            self._touched.append(session)

    def _flushTouched(self):
        """
        The sessions this request sent stanzas to answer their held requests
        now: a message from one BOSH client to another leaves before the
        other requests of this poll round are read.
        """
        while self._touched:
            touched, self._touched = self._touched, []
            for session in touched:
                session.flushNow()

    def _refuse(self, request, exc):
        """A bad request ends its session when it named one (section 17.2)."""
        sid = exc.body.getAttribute("sid") if exc.body is not None else None
        session = self.sessions.get(sid) if sid else None
        if session is not None:
            session.fail(request, exc.condition)
        else:
            self._write(request, terminateBody(exc.condition))

    @staticmethod
    def _write(request, data):
        request.setHeader(b"content-type", b"text/xml; charset=utf-8")
        request.setHeader(b"content-length", b"%d" % len(data))
        request.write(data)
        request.finish()

    def createSession(self, request, rid, body):
        """Section 7 and XEP-0206 section 4: a new session and its stream."""
        h = self.config.http
        wait = min(intAttribute(body, "wait", h.boshMaxWait), h.boshMaxWait)
        hold = min(intAttribute(body, "hold", 1), h.boshMaxHold)
        stream = BOSHStream(self.factory)
        sid = secrets.token_urlsafe(18)
        c2s = self.config.c2s
        session = BOSHSession(sid, stream, self.clock, wait, hold, h.boshInactivity,
                              polling=h.boshPolling, maxPause=h.boshMaxPause,
                              version=parseBOSHVersion(body.getAttribute("ver")),
                              contentType=_contentType(body), onEnd=self._ended,
                              maxOutput=h.boshMaxOutput, byteRate=c2s.inputRate,
                              byteBurst=c2s.inputBurst, stanzaRate=c2s.stanzaRate,
                              stanzaBurst=c2s.stanzaBurst, onOutput=self._noteOutput,
                              onHandled=self._flushTouched)
        peer = request.getClientAddress()
        stream.makeConnection(SessionTransport(peer, request.getHost()))
        stream.secure = countsAsSecure(h, request.isSecure(), peer)
        self.sessions[sid] = session
        session.start(request, rid, body)

    def _ended(self, session):
        self.sessions.pop(session.sid, None)
