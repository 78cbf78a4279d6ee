"""Tests for L{components.conference.stanzas}: fan-out copies serialise exactly like plain elements."""

from twisted.words.xish import domish

from components.conference import stanzas


def template():
    message = domish.Element(("jabber:client", "message"))
    message["from"], message["type"] = "room@conference.localhost/Al <&'>", "groupchat"
    message.addElement("body", content="hello & <goodbye> 'x'")
    message.addElement(("http://jabber.org/protocol/muc#user", "x")).addElement("status")["code"] = "100"
    return message


def plain(element, **kwargs):
    return domish.Element.toXml(element, **kwargs)


def test_copiesSerialiseLikeElements():
    """Every fan-out copy serialises exactly as an ordinary element would, in any stream context."""
    sent = []
    stanzas.fanout(sent.append, template(), ["a@localhost/r", "b@localhost/x'y"])
    for context in ({"defaultUri": "jabber:client"}, {"defaultUri": "jabber:component:accept"},
                    {"prefixes": {"http://etherx.jabber.org/streams": "stream"},
                     "defaultUri": "jabber:client", "prefixesInScope": ["stream"]}):
        for copy in sent:
            assert copy.toXml(**context) == plain(copy, **context)
            assert copy.toXml(**context) == plain(copy, **context)  # from the cache


def test_copyWithOwnChildrenSerialisedInFull():
    """A copy given children of its own (a history delay stamp) is not served from the cache."""
    message = template()
    stanzas.fanout(lambda copy: copy.toXml(defaultUri="jabber:client"), message, ["a@localhost"])
    late = stanzas.stamped(message, "c@localhost")
    late.addElement(("urn:xmpp:delay", "delay"))["stamp"] = "2026-01-01T00:00:00Z"
    xml = late.toXml(defaultUri="jabber:client")
    assert "urn:xmpp:delay" in xml and xml == plain(late, defaultUri="jabber:client")


def test_namespacedAttributeFallsBack():
    """A copy with a namespaced attribute (xml:lang) is serialised the ordinary way."""
    message = template()
    message[("http://www.w3.org/XML/1998/namespace", "lang")] = "en"
    sent = []
    stanzas.fanout(sent.append, message, ["a@localhost"])
    assert sent[0].toXml(defaultUri="jabber:client") == plain(sent[0], defaultUri="jabber:client")
