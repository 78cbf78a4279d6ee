"""Tests for L{jabberd.error}: stanza errors with legacy codes, and bounces."""

from twisted.words.xish import domish

from jabberd.error import StanzaError, errorReply, isErrorable
from jabberd.ns import NS_CLIENT, NS_XMPP_STANZAS
from jabberd.stanza import firstChild


def stanza(kind="message", stanzaType=None):
    element = domish.Element((NS_CLIENT, kind))
    element["from"], element["to"], element["id"] = "alice@localhost/a", "bob@localhost", "x1"
    if stanzaType:
        element["type"] = stanzaType
    element.addElement("body", content="hi")
    return element


def test_isErrorable():
    """Errors and iq results are never answered with an error; everything else may be."""
    assert not isErrorable(stanza(stanzaType="error"))
    assert not isErrorable(stanza("iq", "result"))
    assert isErrorable(stanza()) and isErrorable(stanza("iq", "get"))


def test_errorReply():
    """The reply swaps the addresses, keeps the payload and carries the condition with its legacy code."""
    reply = errorReply(stanza(), "service-unavailable", text="nobody")
    assert (reply["type"], reply["to"], reply["from"]) == ("error", "alice@localhost/a",
                                                          "bob@localhost")
    assert firstChild(reply, name="body") is not None
    error = firstChild(reply, name="error")
    assert (error["type"], error["code"]) == ("cancel", "503")
    assert firstChild(error, NS_XMPP_STANZAS, "service-unavailable") is not None
    assert str(firstChild(error, NS_XMPP_STANZAS, "text")) == "nobody"


def test_rfc6120Conditions():
    """policy-violation (new in RFC 6120) and gone carry their XEP-0086 codes."""
    error = firstChild(StanzaError("policy-violation").toResponse(stanza()), name="error")
    assert (error["code"], error["type"]) == ("406", "modify")
    error = firstChild(StanzaError("gone").toResponse(stanza()), name="error")
    assert error["code"] == "302"
