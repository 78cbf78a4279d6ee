"""
Tests for L{jabberd.web.bosh.body}: parsing request bodies (XEP-0124 section 4)
and writing responses.
"""

import pytest

from jabberd.web.bosh.body import (MAX_RID, BodyError, intAttribute, parseBody, responseBody,
                               ridAttribute, terminateBody)
from tests.web.bosh.helpers import NS_HTTPBIND, body, parseXML


def test_parseBodyAndPayloads():
    """A body's attributes and its child elements come back, in order."""
    root, payloads = parseBody(body("<message xmlns='jabber:client'/><presence xmlns='jabber:client'/>",
                                    rid="5", sid="s").encode(), 4096)
    assert (root.uri, root.name) == (NS_HTTPBIND, "body")
    assert root["sid"] == "s"
    assert [(p.uri, p.name) for p in payloads] == [("jabber:client", "message"),
                                                    ("jabber:client", "presence")]


def test_wrapperNamespacePayloadsBecomeClient():
    """Stanzas that inherit the wrapper's namespace are taken as jabber:client (XEP-0206 section 2)."""
    _, payloads = parseBody(body("<message to='a@b'><body>hi</body></message>", rid="1").encode(), 4096)
    message = payloads[0]
    assert message.uri == "jabber:client"
    assert next(message.elements()).uri == "jabber:client"


@pytest.mark.parametrize("data", [
    b"", b"<body xmlns='http://jabber.org/protocol/httpbind' rid='1'>",
    b"not xml", b"<wrong xmlns='urn:x' rid='1'/>",
    b"<body xmlns='http://jabber.org/protocol/httpbind' rid='1'/><extra/>",
])
def test_malformedBodiesAreBadRequest(data):
    """Partial, foreign or not well-formed bodies are refused with bad-request."""
    with pytest.raises(BodyError) as caught:
        parseBody(data, 4096)
    assert caught.value.condition == "bad-request"


@pytest.mark.parametrize("inner", ["<!-- note -->", "<?pi data?>"])
def test_restrictedXMLIsBadRequest(inner):
    """Comments and processing instructions are refused (XEP-0124 section 4), naming the body read."""
    with pytest.raises(BodyError) as caught:
        parseBody(body(inner, rid="1", sid="abc").encode(), 4096)
    assert caught.value.condition == "bad-request"
    assert caught.value.body["sid"] == "abc"


def test_doctypeIsBadRequest():
    """A document type declaration never reaches the parser's entity machinery."""
    data = (b"<!DOCTYPE body [<!ENTITY x 'y'>]>"
            b"<body xmlns='http://jabber.org/protocol/httpbind' rid='1'/>")
    with pytest.raises(BodyError):
        parseBody(data, 4096)


def test_oversizedPayloadIsPolicyViolation():
    """A payload over the stanza size limit is a policy-violation."""
    big = "<message xmlns='jabber:client'><body>%s</body></message>" % ("x" * 5000)
    with pytest.raises(BodyError) as caught:
        parseBody(body(big, rid="1", sid="abc").encode(), 4096)
    assert caught.value.condition == "policy-violation"


def test_tooManyPayloadsIsPolicyViolation():
    """More first-level elements than allowed is a policy-violation naming the body read."""
    inner = "<presence xmlns='jabber:client'/>" * 4
    assert len(parseBody(body(inner, rid="1").encode(), 4096, maxPayloads=4)[1]) == 4
    with pytest.raises(BodyError) as caught:
        parseBody(body(inner + "<presence xmlns='jabber:client'/>", rid="1", sid="abc").encode(),
                  4096, maxPayloads=4)
    assert caught.value.condition == "policy-violation"
    assert caught.value.body["sid"] == "abc"


def test_tooManyElementsIsPolicyViolation():
    """Elements at any depth count, the body included: one over the limit is a policy-violation."""
    inner = "<message xmlns='jabber:client'>%s</message>" % ("<a/>" * 8)
    parseBody(body(inner, rid="1").encode(), 4096, maxElements=10)
    with pytest.raises(BodyError) as caught:
        parseBody(body(inner.replace("<a/>", "<a/><a/>", 1), rid="1").encode(), 4096,
                  maxElements=10)
    assert caught.value.condition == "policy-violation"


def test_ridAttribute():
    """A rid is required, positive and at most 2**53 - 1 (XEP-0124 section 14.1)."""
    assert ridAttribute(parseXML(body(rid="42"))) == 42
    for bad in ("0", "-1", "x", str(MAX_RID + 1)):
        with pytest.raises(BodyError):
            ridAttribute(parseXML(body(rid=bad)))
    with pytest.raises(BodyError):
        ridAttribute(parseXML(body()))


def test_intAttributeDefaultAndGarbage():
    """A missing attribute is the default; garbage is bad-request."""
    element = parseXML(body(wait="30", hold="x"))
    assert intAttribute(element, "wait") == 30
    assert intAttribute(element, "inactivity", 7) == 7
    with pytest.raises(BodyError):
        intAttribute(element, "hold")


def test_responseBodyEscapesAndDeclares():
    """Attribute values are escaped; the stream and xbosh prefixes are declared on request."""
    data = responseBody([("from", "a'b<c"), ("xmpp:version", "1.0")], ["<x/>"],
                        streamPrefix=True, xboshPrefix=True)
    root = parseXML(data)
    assert root["from"] == "a'b<c"
    assert root[("urn:xmpp:xbosh", "version")] == "1.0"
    assert b"xmlns:stream='http://etherx.jabber.org/streams'" in data
    assert [c.name for c in root.elements()] == ["x"]


def test_emptyAndTerminateBodies():
    """An empty response is a bare body; a terminate body names its condition (section 17)."""
    assert parseXML(responseBody()).children == []
    root = parseXML(terminateBody("item-not-found"))
    assert (root["type"], root["condition"]) == ("terminate", "item-not-found")
    assert not parseXML(terminateBody()).hasAttribute("condition")
