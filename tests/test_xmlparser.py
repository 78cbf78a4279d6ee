"""
Tests for L{jabberd.xmlparser}: the hardened parser and stream base class
(RFC 6120 sections 4.9 and 11.1).
"""

from twisted.internet.testing import StringTransport
from twisted.words.xish import domish

from jabberd.xmlparser import (HardenedElementStream, HardenedXmlStream, HeaderTooLarge,
                               ParserLimits, StanzaTooLarge, TooManyElements)

HEADER = (b"<stream:stream xmlns='jabber:component:accept' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='c.localhost'>")


class RecordingStream(HardenedXmlStream):
    """A receiving stream that records the elements it parses."""

    namespace = "jabber:component:accept"
    initiating = False

    def __init__(self):
        HardenedXmlStream.__init__(self)
        self.received = []
        self.addObserver("/*", self.received.append)


def connect(maxStanzaSize=1024, limits=None):
    stream = RecordingStream()
    stream.maxStanzaSize = maxStanzaSize
    if limits is not None:
        stream.parserLimits = limits
    transport = StringTransport()
    stream.makeConnection(transport)
    return stream, transport


def test_elementsAndWhitespaceKeepalives():
    """Well-formed stanzas are dispatched and whitespace between them is accepted."""
    stream, transport = connect()
    stream.dataReceived(HEADER + b"<message><body>a</body></message>  \n <presence/>")
    assert [e.name for e in stream.received] == ["message", "presence"]
    assert not transport.disconnecting


def test_doctypeIsRestrictedXML():
    """A DOCTYPE before the header gets a header, restricted-xml and the closing tag."""
    stream, transport = connect()
    stream.dataReceived(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>" + HEADER)
    out = transport.value()
    assert out.startswith(b"<stream:stream")
    assert b"<restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in out
    assert out.endswith(b"</stream:stream>")
    assert transport.disconnecting


def test_processingInstructionIsRestrictedXML():
    """A processing instruction inside the stream ends it with restricted-xml."""
    stream, transport = connect()
    stream.dataReceived(HEADER + b"<?evil instruction?>")
    assert b"restricted-xml" in transport.value()


def test_commentIsRestrictedXML():
    """A comment inside a stanza ends the stream with restricted-xml."""
    stream, transport = connect()
    stream.dataReceived(HEADER + b"<message><!-- hi --></message>")
    assert b"restricted-xml" in transport.value()
    assert stream.received == []


def test_malformedIsNotWellFormed():
    """Mismatched tags end the stream with not-well-formed and drop the connection."""
    stream, transport = connect()
    stream.dataReceived(HEADER + b"<message><body>x</mess>")
    out = transport.value()
    assert b"<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in out
    assert out.endswith(b"</stream:stream>")
    assert transport.disconnecting


def test_undeclaredEntityIsNotWellFormed():
    """An entity reference that is not predefined is an XML error."""
    stream, transport = connect()
    stream.dataReceived(HEADER + b"<message>&ouml;</message>")
    assert b"not-well-formed" in transport.value()


def test_oversizedStanzaIsPolicyViolation():
    """A stanza larger than maxStanzaSize ends the stream with policy-violation."""
    stream, transport = connect(maxStanzaSize=1024)
    stream.dataReceived(HEADER + b"<message><body>" + b"x" * 2000 + b"</body></message>")
    assert b"<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in transport.value()
    assert stream.received == []


def test_sizeCountsPerStanza():
    """Many small stanzas, together far over the limit, are all accepted."""
    stream, transport = connect(maxStanzaSize=256)
    stream.dataReceived(HEADER)
    for i in range(40):
        stream.dataReceived(b"<message><body>" + b"y" * 100 + b"</body></message>")
    assert len(stream.received) == 40
    assert not transport.disconnecting


def test_oversizedInputIsNotBufferedWhole():
    """One huge chunk is refused after at most one slice past the limit."""
    parser = HardenedElementStream(maxStanzaSize=1024)
    parser.DocumentStartEvent = lambda root: None
    parser.ElementEvent = lambda element: None
    parser.parse(HEADER)
    try:
        parser.parse(b"<message><body>" + b"z" * (10 * 1024 * 1024))
    except StanzaTooLarge:
        pass
    else:
        raise AssertionError("no StanzaTooLarge")
    assert parser.pending <= 1024 + parser.chunkSize


def test_closeWithErrorOnce():
    """closeWithError writes one error and one closing tag, however often called."""
    stream, transport = connect()
    stream.dataReceived(HEADER)
    stream.closeWithError("conflict", "replaced")
    stream.closeWithError("system-shutdown")
    out = transport.value()
    assert out.count(b"<stream:error>") == 1
    assert b"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>replaced</text>" in out
    assert out.count(b"</stream:stream>") == 1


def test_resetIgnoresRestOfOldParse():
    """After a restart decided mid-parse, the old parser's later events are dropped."""
    stream, transport = connect()
    stream.dataReceived(HEADER)
    stream.addOnetimeObserver("/restart", lambda _: stream.reset())
    stream.dataReceived(b"<restart/><message/>")
    assert [e.name for e in stream.received] == ["restart"]
    assert isinstance(stream.stream, HardenedElementStream)
    assert not transport.disconnecting


def test_peerClosingTagClosesStream():
    """The peer's closing tag is answered with ours and the connection is dropped."""
    stream, transport = connect()
    stream.dataReceived(HEADER)
    stream.sendHeader()
    stream.dataReceived(b"</stream:stream>")
    assert transport.value().endswith(b"</stream:stream>")
    assert transport.disconnecting


def test_elementStreamIsExpatBased():
    """The hardened parser is a Twisted expat element stream."""
    assert issubclass(HardenedElementStream, domish.ExpatElementStream)


# Parser hibernation: a resting stream drops its expat parser.

PREFIXED = (b"<?xml version='1.0'?><s:stream xmlns:s='http://etherx.jabber.org/streams' "
            b"xmlns='jabber:component:accept' xmlns:x='urn:example:x' to='a>b'>")


def test_hibernateBetweenStanzasKeepsNamespaces():
    """After hibernating, a new parser resolves the header's default namespace and prefixes."""
    stream, transport = connect()
    stream.dataReceived(PREFIXED + b"<message/> \n")
    assert stream.hibernate() and stream.stream.parser is None
    stream.dataReceived(b"<x:query><x:item/></x:query><s:features/>")
    query, features = stream.received[1:]
    assert (query.uri, query.defaultUri) == ("urn:example:x", "jabber:component:accept")
    assert query.firstChildElement().uri == "urn:example:x"
    assert (features.uri, features.name) == ("http://etherx.jabber.org/streams", "features")
    assert not transport.disconnecting


def test_whitespaceKeepsHibernating():
    """Whitespace keepalives on a hibernated stream make no parser; the next stanza still parses."""
    stream, transport = connect()
    stream.dataReceived(PREFIXED + b"<message/>")
    assert stream.hibernate()
    stream.dataReceived(b" ")
    stream.dataReceived(b"\r\n\t ")
    assert stream.stream.parser is None
    stream.dataReceived(b" <iq type='get'/>")
    assert [e.name for e in stream.received[1:]] == ["iq"]
    assert stream.stream.parser is not None and not transport.disconnecting


def test_hibernateKeepsAMinimalHeader():
    """The kept header has the root's name and namespace declarations only, whatever else it had."""
    stream, _ = connect()
    stream.dataReceived(PREFIXED[:50])
    stream.dataReceived(PREFIXED[50:] + b"<message/>")
    assert stream.stream.header == (b"<s:stream xmlns:s='http://etherx.jabber.org/streams' "
                                    b"xmlns='jabber:component:accept' xmlns:x='urn:example:x'>")


def test_keptHeaderEscapesNamespaces():
    """A namespace with quotes, ampersands or line breaks resolves the same after waking."""
    stream, transport = connect()
    stream.dataReceived(b"<stream:stream xmlns='jabber:component:accept' xmlns:stream="
                        b"'http://etherx.jabber.org/streams' xmlns:q=\"urn:a'b&amp;c&#10;d\">")
    assert stream.hibernate()
    stream.dataReceived(b"<q:x/>")
    assert stream.received[0].uri == "urn:a'b&c\nd"
    assert not transport.disconnecting


def test_noHibernationInsideAStanza():
    """A stanza in progress, or an unparsed partial tag, keeps the parser."""
    stream, _ = connect()
    stream.dataReceived(HEADER + b"<message><body>half")
    assert not stream.hibernate()
    stream.dataReceived(b"</body></message><pres")
    assert not stream.hibernate()
    stream.dataReceived(b"ence/>")
    assert stream.hibernate()
    assert [e.name for e in stream.received] == ["message", "presence"]


def test_noHibernationBeforeTheHeaderOrAfterTheEnd():
    """Without an open root (no header yet, or the peer closed it) the parser is kept."""
    stream, _ = connect()
    assert not stream.hibernate()
    stream.dataReceived(HEADER)
    assert stream.hibernate()
    stream.dataReceived(b"</stream:stream>")
    assert stream.closing and not stream.hibernate()


def test_closingTagAfterHibernation():
    """The peer's closing tag after a hibernation matches the replayed header."""
    stream, transport = connect()
    stream.dataReceived(HEADER)
    stream.sendHeader()
    assert stream.hibernate()
    stream.dataReceived(b"</stream:stream>")
    assert transport.value().endswith(b"</stream:stream>")
    assert b"stream:error" not in transport.value()


def test_rulesHoldAfterHibernation():
    """A woken parser still refuses restricted XML and bad XML, and bounds stanzas."""
    for data, condition in ((b"<!-- hi -->", b"restricted-xml"),
                            (b"<message></presence>", b"not-well-formed"),
                            (b"<message>" + b"x" * 2000 + b"</message>", b"policy-violation")):
        stream, transport = connect(maxStanzaSize=1024)
        stream.dataReceived(HEADER + b"<presence/>")
        assert stream.hibernate()
        stream.dataReceived(data)
        assert condition in transport.value()
        assert transport.disconnecting


def test_hibernateRepeatedly():
    """Stanzas keep flowing across any number of hibernations."""
    stream, _ = connect(maxStanzaSize=256)
    stream.dataReceived(HEADER)
    for i in range(5):
        assert stream.hibernate()
        stream.dataReceived(b"<message><body>" + b"y" * 100 + b"</body></message>")
    assert len(stream.received) == 5


def test_restartFreesTheOldParser():
    """A parser abandoned by a restart inside its own parse is dropped once that parse returns."""
    stream, _ = connect()
    stream.dataReceived(HEADER)
    old = stream.stream
    stream.addOnetimeObserver("/restart", lambda _: stream.reset())
    stream.dataReceived(b"<restart/><message/>")
    assert old.parser is None and stream.stream is not old
    stream.dataReceived(HEADER + b"<presence/>")
    assert [e.name for e in stream.received] == ["restart", "presence"]


def test_hibernateLeavesOtherParsersAlone():
    """A framing with its own parser (WebSocket) or none (BOSH) has nothing to hibernate."""
    stream, _ = connect()
    stream.stream = object()
    assert not stream.hibernate()
    stream.stream = None
    assert not stream.hibernate()


# Limits on what one stanza or the header may make the parser build.

def elementStream(limits, maxStanzaSize=1 << 20):
    parser = HardenedElementStream(maxStanzaSize, limits)
    received = []
    parser.DocumentStartEvent = lambda root: None
    parser.ElementEvent = received.append
    parser.DocumentEndEvent = lambda: None
    return parser, received


def test_elementCountIsPolicyViolation():
    """A stanza with more elements than maxElements ends the stream with policy-violation."""
    stream, transport = connect(1 << 20, ParserLimits(maxElements=10))
    stream.dataReceived(HEADER + b"<message>" + b"<a/>" * 10 + b"</message>")
    out = transport.value()
    assert b"<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in out
    assert b"more than 10 elements" in out
    assert stream.received == [] and transport.disconnecting


def test_elementCountIsPerStanza():
    """The count starts again with each first-level element; the stanza itself counts."""
    parser, received = elementStream(ParserLimits(maxElements=10))
    parser.parse(HEADER)
    for i in range(30):
        parser.parse(b"<message>" + b"<a/>" * 9 + b"</message>")
    assert len(received) == 30


def test_halfSentStanzaStopsAtTheLimit():
    """An unclosed stanza is refused as its elements start, holding no more than the limit."""
    parser, _ = elementStream(ParserLimits(maxElements=100, maxDepth=10000))
    parser.parse(HEADER + b"<x>")
    try:
        for i in range(1000):
            parser.parse(b"<a>")
    except TooManyElements:
        pass
    assert parser.elements == 101 and i == 99


def test_depthIsPolicyViolation():
    """Elements nested deeper than maxDepth end the stream with policy-violation."""
    stream, transport = connect(1 << 20, ParserLimits(maxDepth=5))
    stream.dataReceived(HEADER + b"<a><b><c><d><e/></d></c></b></a>")
    assert len(stream.received) == 1
    stream.dataReceived(b"<a><b><c><d><e><f/></e></d></c></b></a>")
    assert b"nested deeper than 5" in transport.value()
    assert len(stream.received) == 1 and transport.disconnecting


def test_attributesArePolicyViolation():
    """An element with more attributes than maxAttributes (declarations included) is refused."""
    limits = ParserLimits(maxAttributes=3)
    parser, received = elementStream(limits)
    parser.parse(HEADER + b"<m a='1' b='2' xmlns='urn:x'/>")
    assert len(received) == 1
    try:
        parser.parse(b"<m a='1' b='2' xmlns:p='urn:p' c='3'/>")
    except StanzaTooLarge as e:
        assert "more than 3 attributes" in str(e)
    else:
        raise AssertionError("no StanzaTooLarge")


def test_headerAttributesAreLimited():
    """A stream header with thousands of attributes is refused before it is kept."""
    stream, transport = connect(1 << 20, ParserLimits(maxHeaderSize=1 << 20))
    attributes = b"".join(b" a%d='x'" % i for i in range(2000))
    stream.dataReceived(HEADER[:-1] + attributes + b">")
    assert b"policy-violation" in transport.value() and transport.disconnecting


def test_headerSizeIsLimited():
    """Bytes before the stream header completes are bounded; expat never gets more."""
    parser, _ = elementStream(ParserLimits(maxHeaderSize=512))
    try:
        parser.parse(HEADER[:-1] + b" to='" + b"x" * 100000)
    except HeaderTooLarge:
        pass
    else:
        raise AssertionError("no HeaderTooLarge")
    assert parser.fed == 512


def test_headerAtTheSizeLimit():
    """A header of exactly maxHeaderSize bytes, sent with a stanza, is accepted."""
    header = HEADER[:-1] + b" x='" + b"y" * (600 - len(HEADER) - 5) + b"'>"
    parser, received = elementStream(ParserLimits(maxHeaderSize=600))
    assert len(header) == 600
    parser.parse(header + b"<message/>")
    assert [e.name for e in received] == ["message"]


def test_setParserLimitsAppliesToTheLiveParser():
    """Raising the limits on a live stream (after authentication) applies to the next stanza."""
    stream, transport = connect(1 << 20, ParserLimits(maxElements=5))
    stream.dataReceived(HEADER + b"<message><a/><a/></message>")
    stream.setParserLimits(ParserLimits(maxElements=50), 1 << 20)
    stream.dataReceived(b"<message>" + b"<a/>" * 20 + b"</message>")
    assert len(stream.received) == 2 and not transport.disconnecting


def test_textArrivesInRuns():
    """Newlines and entity references reach the element as one string, not one per line."""
    parser, received = elementStream(ParserLimits())
    parser.parse(HEADER)
    body = b"\n" * 50000 + b"&amp;&lt;" * 1000 + b"x"
    parser.parse(b"<message><body>" + body + b"</body></message>")
    element = received[0].firstChildElement()
    assert element.children == ["\n" * 50000 + "&<" * 1000 + "x"]


def test_mixedContentKeepsOrder():
    """Text before, between and after child elements stays in place."""
    parser, received = elementStream(ParserLimits())
    parser.parse(HEADER + b"<m>a\nb<x/>c&amp;<y>in</y>\nd</m>")
    children = received[0].children
    assert children[0] == "a\nb" and children[2] == "c&" and children[4] == "\nd"
    assert children[3].children == ["in"]


def test_emptyDefaultNamespaceInTheHeader():
    """A header undeclaring the default namespace (xmlns='') is kept and woken alike."""
    stream, transport = connect()
    stream.dataReceived(b"<stream:stream xmlns='' xmlns:stream='http://etherx.jabber.org/streams'>")
    assert stream.hibernate()
    stream.dataReceived(b"<presence/>")
    assert stream.received[0].uri in ("", None) and not transport.disconnecting


def test_headerIsNotCountedInTheFirstStanza():
    """The header's bytes and whitespace between stanzas do not count toward a stanza's size."""
    parser, received = elementStream(ParserLimits(maxHeaderSize=1 << 20), maxStanzaSize=100)
    parser.parse(HEADER + b" " * 80 + b"<message/>")
    parser.parse(b" " * 150)
    parser.parse(b"<presence>" + b"p" * 70 + b"</presence>")
    assert [e.name for e in received] == ["message", "presence"]
