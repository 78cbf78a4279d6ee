"""
Property tests for L{jabberd.web.bosh.body}: random and mutated request
bodies (XEP-0124 section 4, XEP-0206) under random small limits.

C{parseBody} must return a C{<body/>} in the httpbind namespace and its
payloads, or raise L{BodyError} with a terminal binding condition
(XEP-0124 section 17.2), never another exception; the attribute readers
the resource applies next (C{rid}, C{wait}, C{hold}, C{pause}) likewise.
"""

import string

from hypothesis import given, strategies as st

from jabberd.ns import NS_HTTPBIND
from jabberd.web.bosh.body import BodyError, intAttribute, parseBody, ridAttribute
from tests.fuzzing import fuzzSettings, mutated
from tests.test_xmlparser_fuzz import TOKENS, quote

NUMBERS = st.one_of(
    st.integers(-5, 2 ** 64).map(str),
    st.text(alphabet=string.digits + " -+x\u00b2\u0661\u0966\uff11\u2460", max_size=20),
)
ATTRIBUTE = st.tuples(
    st.sampled_from(["rid", "sid", "wait", "hold", "pause", "ver", "to", "xml:lang",
                     "xmpp:version", "xmpp:restart", "type", "key", "newkey", "ack"]),
    NUMBERS)
OPENINGS = st.sampled_from([
    "<body xmlns='%s'" % NS_HTTPBIND,
    "<body xmlns='%s' xmlns:xmpp='urn:xmpp:xbosh'" % NS_HTTPBIND,
    "<body xmlns='%s' xmlns:stream='http://etherx.jabber.org/streams'" % NS_HTTPBIND,
    "<body",
    "<b:body xmlns:b='%s'" % NS_HTTPBIND,
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'",
])
PAYLOADS = st.one_of(TOKENS, st.sampled_from([
    "<message xmlns='jabber:client' to='bob@localhost'><body>hi</body></message>",
    "<message to='bob@localhost'><body>no namespace</body></message>",
    "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
    "<presence/>", "<stream:features/>", "<body/>", "</body>",
]))


@st.composite
def bodies(draw):
    """A request body: a root with random attributes, payloads, maybe its end tag."""
    attributes = draw(st.lists(ATTRIBUTE, max_size=6, unique_by=lambda a: a[0]))
    root = draw(OPENINGS) + "".join(" %s=%s" % (k, quote(v)) for k, v in attributes)
    if draw(st.booleans()):
        return root + "/>"
    payloads = "".join(draw(st.lists(PAYLOADS, max_size=20)))
    return root + ">" + payloads + draw(st.sampled_from(["</body>", "", "</b:body>"]))


def check(data, maxStanzaSize, maxPayloads, maxElements):
    """The property: a parsed body or a BodyError, and the attributes read the same way."""
    try:
        body, payloads = parseBody(data, maxStanzaSize, maxPayloads, maxElements)
    except BodyError as e:
        assert e.condition in ("bad-request", "policy-violation")
        return
    assert (body.uri, body.name) == (NS_HTTPBIND, "body")
    assert len(payloads) <= maxPayloads
    for read in (ridAttribute, lambda b: intAttribute(b, "wait"),
                 lambda b: intAttribute(b, "hold"), lambda b: intAttribute(b, "pause")):
        try:
            value = read(body)
        except BodyError as e:
            assert e.condition == "bad-request" and e.body is body
        else:
            assert value is None or (isinstance(value, int) and value >= 0)


ARGUMENTS = (mutated(bodies()), st.integers(16, 2048), st.integers(0, 30), st.integers(1, 200))


@fuzzSettings(200)
@given(*ARGUMENTS)
def test_bodyParsesOrIsABodyError(data, maxStanzaSize, maxPayloads, maxElements):
    """Any request yields a body and payloads within the limits, or a BodyError."""
    check(data, maxStanzaSize, maxPayloads, maxElements)


def test_nonASCIIDigitsAreBadRequest():
    """A rid of digits outside ASCII ('\u00b2', '\u0661') is bad-request, not a crash."""
    for rid in ("\u00b2", "\u0661\u0662", "1\uff11"):
        body, _ = parseBody(("<body xmlns='%s' rid='%s'/>" % (NS_HTTPBIND, rid)).encode(), 1024)
        try:
            ridAttribute(body)
        except BodyError as e:
            assert e.condition == "bad-request"
        else:
            raise AssertionError("rid %r accepted" % (rid,))
