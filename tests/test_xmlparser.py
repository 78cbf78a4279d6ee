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
