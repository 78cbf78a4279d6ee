"""
Property tests for L{jabberd.xmlparser.HardenedElementStream}: random and
mutated XML streams, fed whole or cut at random byte boundaries with the
parser hibernated at the cuts, under random small limits.

The parser must either dispatch elements or raise one of its documented
errors (L{domish.ParserError} and its subclasses: not-well-formed,
restricted XML, the limits), never another exception; and cutting the
input and hibernating between the pieces must not change what it
dispatches nor which error ends the stream.

The settings here are small for CI; C{bench/fuzz_parser.py} runs the same
property for as long as one likes.
"""

import string

from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.words.xish import domish

from jabberd.xmlparser import HardenedElementStream, ParserLimits, StanzaTooLarge
from tests.fuzzing import mutated

NAMES = st.sampled_from(["message", "body", "a", "x:y", "s:features", "q", "presence", "iq"])
TEXT = st.text(alphabet=string.ascii_letters + " \n\t<>&'\"" + "\u00e9\u4e2d\U0001f600",
               max_size=40)
ATTRIBUTE = st.tuples(st.sampled_from(["to", "id", "type", "xmlns", "xmlns:x", "x:t", "a"]),
                      st.text(alphabet=string.ascii_letters + "&<'\"\n", max_size=12))


def quote(value):
    return "'" + value.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;") + "'"


@st.composite
def startTags(draw, attribute=ATTRIBUTE):
    attributes = draw(st.lists(attribute, max_size=6, unique_by=lambda a: a[0]))
    name = draw(NAMES)
    close = draw(st.sampled_from(["", "/"]))
    return "<%s%s%s>" % (name, "".join(" %s=%s" % (k, quote(v)) for k, v in attributes), close)


TOKENS = st.one_of(
    startTags(),
    NAMES.map(lambda name: "</%s>" % name),
    TEXT.map(lambda text: text.replace("&", "&amp;").replace("<", "&lt;")),
    TEXT,  # raw, possibly not well-formed
    st.sampled_from(["&amp;", "&lt;", "&#10;", "&#x1F600;", "&bogus;", "<![CDATA[c]]>",
                     "<!-- c -->", "<?pi x?>", "<!DOCTYPE d>", "\n" * 20, " ",
                     "</stream:stream>", "<stream:stream>", "\x00", "\udcff"]),
)

HEADERS = st.sampled_from([
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
    "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:server' "
    "xmlns:x='urn:x' to='a>b'>",
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns:x=\"u'r&amp;n\">",
    "<body xmlns='http://jabber.org/protocol/httpbind' rid='1'>",
    "",
])


def streams():
    """A stream: a header, tokens, then a few byte-level mutations."""
    return mutated(st.builds(lambda header, tokens: header + "".join(tokens),
                             HEADERS, st.lists(TOKENS, max_size=40)))


LIMITS = st.builds(ParserLimits, maxElements=st.integers(1, 30), maxDepth=st.integers(1, 8),
                   maxAttributes=st.integers(0, 8), maxHeaderSize=st.integers(16, 400))


def feed(data, cuts, limits, maxStanzaSize):
    """
    Parse C{data} in the pieces C{cuts} makes, hibernating between them;
    return (serialised elements dispatched, name of the error or None).
    Any exception that is not a L{domish.ParserError} propagates.
    """
    parser = HardenedElementStream(maxStanzaSize, limits)
    received = []
    parser.DocumentStartEvent = lambda root: None
    parser.ElementEvent = lambda element: received.append(element.toXml())
    parser.DocumentEndEvent = lambda: None
    edges = sorted({0, len(data), *(c for c in cuts if 0 < c < len(data))})
    try:
        for start, end in zip(edges, edges[1:]):
            parser.parse(data[start:end])
            parser.hibernate()
    except domish.ParserError as e:
        return received, _errorKind(e)
    return received, None


def _errorKind(error):
    """The stream error an exception maps to: what must not depend on where input was cut."""
    if isinstance(error, StanzaTooLarge):
        return "policy-violation"
    return type(error).__name__


def check(data, cuts, limits, maxStanzaSize):
    """The property: only documented errors, and cuts plus hibernation change nothing."""
    whole = feed(data, [], limits, maxStanzaSize)
    pieces = feed(data, cuts, limits, maxStanzaSize)
    if "policy-violation" in (whole[1], pieces[1]):
        # An unfinished stanza is measured after each piece, so a cut may
        # end it a little earlier than the whole input does (by its size,
        # or by a later error inside the same stanza): the elements before
        # agree, and both end in an error.
        assert whole[1] is not None and pieces[1] is not None, (whole, pieces)
        shorter = min(len(whole[0]), len(pieces[0]))
        assert pieces[0][:shorter] == whole[0][:shorter]
    else:
        assert pieces == whole


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.lists(st.integers(0, 2000), max_size=12), LIMITS, st.integers(32, 2048))
def test_parserOnlyRaisesDocumentedErrors(data, cuts, limits, maxStanzaSize):
    """Any input yields elements or a documented error, however it is cut and hibernated."""
    check(data, cuts, limits, maxStanzaSize)


@settings(max_examples=50, deadline=2000)
@given(st.lists(startTags(ATTRIBUTE.filter(lambda a: not a[0].startswith("xmlns"))),
                min_size=1, max_size=30),
       st.lists(st.integers(0, 3000), max_size=8))
def test_wellFormedStanzasSurviveHibernation(tags, cuts):
    """Well-formed stanzas come out the same whole or cut anywhere with hibernation."""
    header = ("<stream:stream xmlns='jabber:client' xmlns:x='urn:x' xmlns:s='urn:s' "
              "xmlns:stream='http://etherx.jabber.org/streams'>")
    body = "".join("<message>%s</message>" % (tag if tag.endswith("/>") else tag[:-1] + "/>")
                   for tag in tags)
    data = (header + body).encode("utf-8")
    whole = feed(data, [], ParserLimits(), 1 << 20)
    assert whole[1] is None and len(whole[0]) == len(tags)
    assert feed(data, cuts, ParserLimits(), 1 << 20) == whole
