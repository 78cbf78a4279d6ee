"""
Property tests for XMPP over WebSocket (RFC 7395): the message parser and
the stream's C{<open/>}/C{<close/>} handling fed random text messages.

L{MessageParser} returns one element or None per message, or raises a
L{domish.ParserError} (section 3.3.3: a message is exactly one complete
element), never another exception.  A L{WebSocketStream} fed random
messages (framing elements, negotiation elements, stanzas, random and
mutated XML) answers each or ends with a stream error followed by
C{<close/>} (section 3.6), logging no failure.
"""

from hypothesis import given, strategies as st
from twisted.words.xish import domish

from jabberd.web.websocket import MessageParser
from jabberd.xmlparser import ParserLimits
from tests.c2s.helpers import plain
from tests.c2s.test_negotiation_fuzz import ELEMENTS
from tests.fuzzing import LoggedFailures, fuzzSettings, mutated
from tests.test_xmlparser_fuzz import TOKENS
from tests.web.test_websocket import CLOSE, OPEN, Connection, makeServer, streamError

FRAMING = st.sampled_from([
    OPEN, CLOSE,
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost'/>",
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='elsewhere' version='1.0'/>",
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' version='9.x' from='a@b/&amp;'/>",
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'>text</open>",
    "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='x'/>",
    "<open/>", "", " \n ", "</messages>", "<a/><b/>",
])
MESSAGES = st.one_of(FRAMING, ELEMENTS.filter(lambda e: not e.startswith("<?xml")), TOKENS)
TEXT_MESSAGES = st.one_of(MESSAGES.map(lambda m: m.encode("utf-8", "surrogatepass")),
                          mutated(MESSAGES))
LIMITS = st.builds(ParserLimits, maxElements=st.integers(1, 30), maxDepth=st.integers(1, 8),
                   maxAttributes=st.integers(0, 8))


@fuzzSettings(200)
@given(st.lists(TEXT_MESSAGES, max_size=15), LIMITS, st.integers(16, 2048))
def test_messageParserYieldsOneElementOrParserError(messages, limits, maxStanzaSize):
    """Each message is one element, or None, until a ParserError ends the parser's use."""
    parser = MessageParser(maxStanzaSize, limits)
    for data in messages:
        try:
            element = parser.parse(data)
        except domish.ParserError:
            return
        assert element is None or isinstance(element, domish.Element)


def check(messages, secure):
    """The property, for one WebSocket connection fed C{messages}."""
    with LoggedFailures() as logged:
        connection = Connection(makeServer(), secure=secure)
        answered = []
        for data in messages:
            if connection.socket.closeCode is not None:
                break
            connection.stream.messageReceived(data)
            answered += connection.take()
        if connection.socket.closeCode is None:
            connection.stream.connectionLost(None)
    logged.check()
    if connection.socket.closeCode is not None:
        assert answered[-1].name == "close", [e.toXml() for e in answered]
        assert streamError(answered) is not None or any(
            element.name == "close" for element in answered), answered


@fuzzSettings(150, deadline=4000)
@given(st.lists(TEXT_MESSAGES, max_size=12), st.booleans())
def test_streamAnswersOrClosesWithStreamError(messages, secure):
    """Random messages are answered, or the stream ends with an error and <close/>."""
    check(messages, secure)


def test_closeBeforeOpenIsAnsweredWithClose():
    """Found by the property: a <close/> before any <open/> gets <close/> (section 3.6.1)."""
    connection = Connection(makeServer())
    [close] = connection.send(CLOSE)
    assert close.name == "close"
    assert connection.socket.closeCode == 1000


def test_closeAfterRestartIsAnsweredWithClose():
    """A <close/> after authentication, before the new <open/>, gets <close/> too."""
    connection = Connection(makeServer())
    connection.send(OPEN)
    connection.send(plain("alice", "pw"))
    [close] = connection.send(CLOSE)
    assert close.name == "close"
    assert connection.socket.closeCode == 1000
