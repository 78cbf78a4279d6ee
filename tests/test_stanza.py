"""
Tests for L{jabberd.stanza}: the stanza names, the move into
C{jabber:client}, the first-child look-up, and parsing stored XML back,
safely.
"""

import pytest
from twisted.words.xish import domish

from jabberd.ns import NS_CLIENT, NS_COMPONENT, NS_HTTPBIND, NS_SERVER
from jabberd.stanza import (STANZAS, copyElement, firstChild, parseElement, serializeElement,
                            toClientNamespace)


def test_stanzaNames():
    """Exactly message, presence and iq are stanzas."""
    assert STANZAS == {"message", "presence", "iq"}


def test_toClientNamespaceServerStanzas():
    """A jabber:server or jabber:component:accept stanza and its children move to jabber:client."""
    for uri in (NS_SERVER, NS_COMPONENT):
        message = domish.Element((uri, "message"))
        body = message.addElement("body")
        assert toClientNamespace(message) is message
        assert (message.uri, message.defaultUri, body.uri) == (NS_CLIENT, NS_CLIENT, NS_CLIENT)


def test_toClientNamespaceKeepsPayloads():
    """Payload namespaces stay; a stanza nested in a payload moves too."""
    outer = domish.Element((NS_SERVER, "message"))
    forwarded = outer.addElement(("urn:xmpp:forward:0", "forwarded"))
    inner = forwarded.addElement((NS_SERVER, "message"))
    toClientNamespace(outer)
    assert forwarded.uri == "urn:xmpp:forward:0" and inner.uri == NS_CLIENT


def test_toClientNamespaceSkipPayloads():
    """With skipPayloads, nothing below a payload in another namespace is visited."""
    outer = domish.Element((NS_SERVER, "message"))
    forwarded = outer.addElement(("urn:xmpp:forward:0", "forwarded"))
    inner = forwarded.addElement((NS_SERVER, "message"))
    body = outer.addElement("body")
    toClientNamespace(outer, (NS_SERVER,), skipPayloads=True)
    assert (outer.uri, body.uri) == (NS_CLIENT, NS_CLIENT)
    assert inner.uri == NS_SERVER


def test_toClientNamespaceOnlyTheGivenUris():
    """Only the namespaces asked for move: a server stanza stays when the wrapper's is asked."""
    server = domish.Element((NS_SERVER, "message"))
    toClientNamespace(server, (NS_HTTPBIND,))
    assert server.uri == NS_SERVER
    wrapped = domish.Element((NS_HTTPBIND, "message"))
    toClientNamespace(wrapped, (NS_HTTPBIND,))
    assert wrapped.uri == NS_CLIENT


def test_toClientNamespaceWithoutNamespace():
    """Elements without a namespace move when None and the empty string are asked for."""
    message = domish.Element((None, "message"))
    body = message.addElement("body")
    toClientNamespace(message, (None, ""))
    assert (message.uri, body.uri) == (NS_CLIENT, NS_CLIENT)


def test_firstChild():
    """The first child element, skipping text; None without children."""
    iq = domish.Element((NS_CLIENT, "iq"))
    assert firstChild(iq) is None
    iq.addContent("text")
    query = iq.addElement(("urn:a", "query"))
    iq.addElement(("urn:b", "query"))
    assert firstChild(iq) is query


def test_firstChildByName():
    """A URI and/or a name select the first child element that matches both given."""
    parent = domish.Element((NS_CLIENT, "message"))
    a = parent.addElement(("urn:a", "x"))
    b = parent.addElement(("urn:b", "x"))
    body = parent.addElement("body")
    assert firstChild(parent, "urn:b", "x") is b
    assert firstChild(parent, "urn:b") is b
    assert firstChild(parent, name="x") is a
    assert firstChild(parent, name="body") is body
    assert firstChild(parent, "urn:a", "body") is None


def test_copyElementSharesNothing():
    """A copy serialises like the original, and changing either leaves the other as it was."""
    original = parseElement("<message xmlns='jabber:client' to='a@b' xml:lang='en'>"
                            "<body>hi &amp; bye</body><x xmlns='urn:x' k='v'><y/></x></message>")
    copy = copyElement(original)
    assert copy.toXml() == original.toXml() and copy.parent is None
    copy["to"] = "c@d"
    copy.addElement("extra")
    firstChild(copy, "urn:x")["k"] = "w"
    firstChild(copy, name="body").uri = NS_SERVER
    assert original["to"] == "a@b" and firstChild(original, "urn:x")["k"] == "v"
    assert firstChild(original, name="body").uri == NS_CLIENT
    assert firstChild(original, name="extra") is None
    assert all(child.parent is copy for child in copy.elements())


def test_roundTrip():
    """A serialised element parses back with its namespaces, attributes and text."""
    element = domish.Element(("urn:example", "root"))
    element["a"] = "1 & 2"
    child = element.addElement("child", content="<text>")
    child.addElement(("urn:other", "deep"))["xml:lang"] = "en"
    parsed = parseElement(serializeElement(element))
    assert (parsed.uri, parsed.name, parsed["a"]) == ("urn:example", "root", "1 & 2")
    [back] = list(parsed.elements())
    assert (back.uri, str(back)) == ("urn:example", "<text>")
    [deep] = list(back.elements())
    assert deep.uri == "urn:other"


def test_prefixedNamespaces():
    """Prefixed namespace declarations are resolved."""
    parsed = parseElement("<p:a xmlns:p='urn:p'><p:b/></p:a>")
    assert parsed.uri == "urn:p" and next(parsed.elements()).uri == "urn:p"


def test_doctypeRefused():
    """A DTD (with an entity declaration) is refused."""
    with pytest.raises(ValueError):
        parseElement("<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>")


def test_undefinedEntityRefused():
    """An entity reference other than the predefined five is refused."""
    with pytest.raises(ValueError):
        parseElement("<a>&xxe;</a>")


def test_notOneElement():
    """Text, two elements, or broken XML are not one stored element."""
    for text in ("just text", "<a/><b/>", "<a>", "<a></b>", ""):
        with pytest.raises(ValueError):
            parseElement(text)
