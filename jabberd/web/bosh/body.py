# -*- test-case-name: tests.web.bosh.test_body -*-
"""
The C{<body/>} wrapper of BOSH (XEP-0124 section 4) with the XMPP
attributes of XEP-0206: parsing a request's body into its attributes and
payloads, and writing response bodies.

A request body is parsed by the same hardened parser as a TCP stream
(L{jabberd.xmlparser.HardenedElementStream}): no DTDs, entities, comments
or processing instructions (XEP-0124 section 4 forbids them too), and each
payload is bounded by the stanza size limit.  The whole body is bounded
too, before any of it reaches the session: at most C{maxPayloads}
first-level elements and C{maxElements} elements in all, so one
unauthenticated request cannot make the parser build a huge tree
(XEP-0124 section 17.2, C{policy-violation}).  Responses are written as
text: the payloads were serialised when the stream sent them.
"""

from twisted.words.xish import domish

from jabberd.ns import NS_HTTPBIND, NS_STREAMS, NS_XBOSH
from jabberd.stanza import toClientNamespace
from jabberd.xmlparser import HardenedElementStream, StanzaTooLarge

__all__ = ["BodyError", "parseBody", "intAttribute", "ridAttribute", "responseBody",
           "terminateBody", "MAX_RID", "DEFAULT_MAX_PAYLOADS", "DEFAULT_MAX_ELEMENTS"]

DEFAULT_MAX_PAYLOADS = 100
"""First-level elements (stanzas, nonzas) one request body may carry."""

DEFAULT_MAX_ELEMENTS = 10000
"""Elements, at any depth, one request body may hold."""

MAX_RID = 2 ** 53 - 1
"""Largest request id a client may use (XEP-0124 section 14.1)."""

_OPEN = "<body xmlns='" + NS_HTTPBIND + "'"
_STREAM_PREFIX = " xmlns:stream='" + NS_STREAMS + "'"
_XBOSH_PREFIX = " xmlns:xmpp='" + NS_XBOSH + "'"


class BodyError(Exception):
    """
    A request cannot be processed; answered with the terminal binding
    C{condition} (XEP-0124 section 17.2).

    @ivar body: the request's C{<body/>} when it was read before the fault
        (its C{sid} names the session to end), else None.
    """

    def __init__(self, condition, body=None):
        Exception.__init__(self, condition)
        self.condition = condition
        self.body = body


class _TooMany(StanzaTooLarge):
    """A body held more payloads or elements than allowed."""


class _BodyParser(HardenedElementStream):
    """
    The hardened parser, counting what one body holds: expat is stopped
    at the first element over a limit, before the tree grows further.
    """

    def __init__(self, maxStanzaSize, maxPayloads, maxElements):
        HardenedElementStream.__init__(self, maxStanzaSize)
        self.maxPayloads = maxPayloads
        self.maxElements = maxElements
        self.bodyElements = 0  # the base class counts per payload in `elements`
        self.payloads = 0

    def _onStartElement(self, name, attrs):
        self.bodyElements += 1
        if self.bodyElements > self.maxElements:
            raise _TooMany("more than %d elements in one body" % (self.maxElements,))
        if self.currElem is None and self.documentStarted:
            self.payloads += 1
            if self.payloads > self.maxPayloads:
                raise _TooMany("more than %d payloads in one body" % (self.maxPayloads,))
        HardenedElementStream._onStartElement(self, name, attrs)


class _Reader:
    """Collects the root and the first-level elements of one request body."""

    def __init__(self):
        self.body = None
        self.payloads = []
        self.ended = False

    def start(self, root):
        self.body = root

    def end(self):
        self.ended = True


def parseBody(data, maxStanzaSize, maxPayloads=DEFAULT_MAX_PAYLOADS,
              maxElements=DEFAULT_MAX_ELEMENTS):
    """
    Parse the request C{data} (bytes) into its C{<body/>} element and its
    payloads, in order.

    @raise BodyError: C{bad-request} for XML that is not one well-formed,
        restricted C{<body/>} document, C{policy-violation} for a payload
        over C{maxStanzaSize} bytes, more than C{maxPayloads} payloads or
        more than C{maxElements} elements (the C{<body/>} included).
    """
    reader = _Reader()
    parser = _BodyParser(maxStanzaSize, maxPayloads, maxElements)
    parser.DocumentStartEvent = reader.start
    parser.ElementEvent = reader.payloads.append
    parser.DocumentEndEvent = reader.end
    try:
        parser.parse(data)
    except StanzaTooLarge:
        reader.payloads = None
        raise BodyError("policy-violation", reader.body) from None
    except domish.ParserError:
        raise BodyError("bad-request", reader.body) from None
    body = reader.body
    if not reader.ended or (body.uri, body.name) != (NS_HTTPBIND, "body"):
        raise BodyError("bad-request", body if reader.ended else None)
    for payload in reader.payloads:
        if payload.uri == NS_HTTPBIND:  # COMPAT: XEP-0206 section 2, stanzas without xmlns
            toClientNamespace(payload, (NS_HTTPBIND,))
    return body, reader.payloads


def intAttribute(body, name, default=None):
    """
    The non-negative integer attribute C{name}; C{default} when absent.
    Only ASCII digits count (XML Schema's integer lexical space, which
    XEP-0124 section 14 uses): C{str.isdigit} alone also admits '\u00b2'.
    """
    raw = body.getAttribute(name)
    if raw is None:
        return default
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 16:
        raise BodyError("bad-request", body)
    return int(raw)


def ridAttribute(body):
    """The request id (XEP-0124 section 14): required, positive, below 2**53."""
    rid = intAttribute(body, "rid")
    if rid is None or not 0 < rid <= MAX_RID:
        raise BodyError("bad-request", body)
    return rid


def responseBody(attributes=(), payloads=(), streamPrefix=False, xboshPrefix=False):
    """
    The bytes of a response C{<body/>} with C{attributes} (name, value
    pairs; names may use the C{xmpp:} prefix when C{xboshPrefix}) around
    the serialised C{payloads}.  C{streamPrefix} declares C{stream:} for
    stream features and errors (XEP-0206 sections 5 and 6).
    """
    parts = [_OPEN]
    if streamPrefix:
        parts.append(_STREAM_PREFIX)
    if xboshPrefix:
        parts.append(_XBOSH_PREFIX)
    for name, value in attributes:
        parts.append(" %s='%s'" % (name, domish.escapeToXml(str(value), 1)))
    if payloads:
        parts.append(">")
        parts.extend(payloads)
        parts.append("</body>")
    else:
        parts.append("/>")
    return "".join(parts).encode("utf-8")


def terminateBody(condition=None, payloads=(), streamPrefix=False):
    """A C{type='terminate'} body, with the binding C{condition} if any (section 17)."""
    attributes = [("type", "terminate")]
    if condition:
        attributes.append(("condition", condition))
    return responseBody(attributes, payloads, streamPrefix)
