"""
Tests for L{jabberd.xmlparser}: the hardened parser and stream base class
(RFC 6120 sections 4.9 and 11.1).
"""

from twisted.internet.testing import StringTransport
from twisted.words.xish import domish

from jabberd.xmlparser import HardenedElementStream, HardenedXmlStream, StanzaTooLarge

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


def connect(maxStanzaSize=1024):
    stream = RecordingStream()
    stream.maxStanzaSize = maxStanzaSize
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


def test_hibernateKeepsTheHeaderAsReceived():
    """The kept header is the root start tag byte for byte, without the XML declaration."""
    stream, _ = connect()
    stream.dataReceived(PREFIXED[:50])
    stream.dataReceived(PREFIXED[50:] + b"<message/>")
    assert stream.stream.header == PREFIXED[len(b"<?xml version='1.0'?>"):]


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
