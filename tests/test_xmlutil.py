"""Tests for L{jabberd.xmlutil}: parsing stored XML back, safely."""

import pytest
from twisted.words.xish import domish

from jabberd.xmlutil import parseElement, serializeElement


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
