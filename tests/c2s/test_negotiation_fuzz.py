"""
Property tests for client stream negotiation (RFC 6120 sections 4 to 7,
XEP-0078, XEP-0077, XEP-0198): a L{ClientStream} over a fake transport is
fed random sequences of plausible negotiation elements (STARTTLS, SASL
auth with random mechanisms and base64, responses and aborts, binding with
random resources, sessions, stream management enable/resume/r/a,
registration and legacy auth iqs, stanzas and stream restarts), with
random bytes among them.

Whatever arrives, the stream answers or ends with a stream error: no
exception escapes C{dataReceived}, none is logged, what the server writes
is well-formed XML, and a connection the server closes ended with a stream
error or the stream's closing tag (RFC 6120 section 4.9).
"""

import base64
import string

from hypothesis import given, strategies as st

from jabberd.ns import NS_AUTH, NS_BIND, NS_REGISTER, NS_SASL, NS_SESSION, NS_SM, NS_TLS
from jabberd.sm.message import MessageHandler
from jabberd.sm.presence import PresenceHandler
from jabberd.sm.streammanagement import StreamManagementHandler
from tests.c2s.helpers import HEADER, Server, plain, streamError
from tests.fuzzing import LoggedFailures, fuzzSettings, mutated
from tests.test_xmlparser_fuzz import TOKENS, quote

WORDS = st.text(alphabet=string.ascii_letters + string.digits + " @/&<'\"\u00e9\u4e2d\x01",
                max_size=16)
BASE64 = st.one_of(
    st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()),
    st.sampled_from(["=", "", "====", "not base64!", "YQ", "AGFsaWNlAHB3"]),
    st.just(plain("alice", "pw").split(">", 1)[1].split("<", 1)[0]),
)
MECHANISMS = st.sampled_from(["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                              "ANONYMOUS", "EXTERNAL", "DIGEST-MD5", "", "plain", "X" * 30])


def escaped(text):
    return text.replace("&", "&amp;").replace("<", "&lt;")


def iq(kind, inner, iqId="f"):
    return "<iq type=%s id=%s>%s</iq>" % (quote(kind), quote(iqId), inner)


IQ_TYPES = st.sampled_from(["get", "set", "result", "error", "bogus"])

ELEMENTS = st.one_of(
    st.just("<starttls xmlns='%s'/>" % NS_TLS),
    st.builds(lambda m, b: "<auth xmlns='%s' mechanism=%s>%s</auth>" % (NS_SASL, quote(m), b),
              MECHANISMS, BASE64),
    st.just(plain("alice", "pw")),
    st.builds(lambda b: "<response xmlns='%s'>%s</response>" % (NS_SASL, b), BASE64),
    st.just("<abort xmlns='%s'/>" % NS_SASL),
    st.builds(lambda t, r: iq(t, "<bind xmlns='%s'><resource>%s</resource></bind>"
                              % (NS_BIND, escaped(r))), IQ_TYPES, WORDS),
    st.just(iq("set", "<bind xmlns='%s'/>" % NS_BIND)),
    st.just(iq("set", "<session xmlns='%s'/>" % NS_SESSION)),
    st.builds(lambda r: "<enable xmlns='%s' resume=%s/>" % (NS_SM, quote(r)),
              st.sampled_from(["true", "1", "false", "x"])),
    st.builds(lambda p, h: "<resume xmlns='%s' previd=%s h=%s/>" % (NS_SM, quote(p), quote(h)),
              WORDS, st.one_of(st.integers(-1, 2 ** 33).map(str), WORDS)),
    st.just("<r xmlns='%s'/>" % NS_SM),
    st.builds(lambda h: "<a xmlns='%s' h=%s/>" % (NS_SM, quote(h)),
              st.one_of(st.integers(-1, 2 ** 33).map(str), WORDS)),
    st.builds(lambda t, u, p: iq(t, "<query xmlns='%s'><username>%s</username>"
                                 "<password>%s</password></query>"
                                 % (NS_REGISTER, escaped(u), escaped(p))), IQ_TYPES, WORDS, WORDS),
    st.builds(lambda t, u, p, d, r: iq(t, "<query xmlns='%s'><username>%s</username>"
                                       "<password>%s</password><digest>%s</digest>"
                                       "<resource>%s</resource></query>"
                                       % (NS_AUTH, escaped(u), escaped(p), escaped(d),
                                          escaped(r))),
              IQ_TYPES, st.sampled_from(["alice", "", "nobody"]), st.sampled_from(["pw", "x", ""]),
              WORDS, WORDS),
    st.just(iq("get", "<query xmlns='%s'/>" % NS_AUTH)),
    st.just("<message to='bob@localhost'><body>hi</body></message>"),
    st.just("<presence/>"),
    st.just(iq("get", "<ping xmlns='urn:xmpp:ping'/>")),
    st.just(HEADER),
    st.just("</stream:stream>"),
    TOKENS,
)


def makeServer():
    server = Server()
    server.addUser("alice", "pw")
    server.sm.addHandler(MessageHandler())
    server.sm.addHandler(PresenceHandler())
    server.sm.addHandler(StreamManagementHandler(clock=server.clock))
    return server


def check(pieces, secure):
    """The property, for one connection fed C{pieces} (bytes) after a stream header."""
    server = makeServer()
    with LoggedFailures() as logged:
        client = server.connect()
        client.stream.secure = secure
        written = client.send(HEADER)
        for piece in pieces:
            if client.transport.disconnecting:
                break
            written += client.send(piece)
            server.clock.advance(1)
        if not client.transport.disconnecting:
            client.lose()
    logged.check()
    if client.transport.disconnecting:
        assert streamError(written) is not None or client.output.closed, written


NEGOTIATION = st.lists(st.one_of(ELEMENTS.map(lambda e: e.encode("utf-8", "surrogatepass")),
                                 mutated(ELEMENTS)), max_size=12)


@fuzzSettings(150, deadline=4000)
@given(NEGOTIATION, st.booleans())
def test_negotiationAnswersOrEndsWithStreamError(pieces, secure):
    """Random negotiation elements are answered or end the stream with a stream error."""
    check(pieces, secure)
