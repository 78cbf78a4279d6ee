# -*- test-case-name: tests.sm.test_fanout -*-
"""Tests for L{jabberd.sm.fanout}: one presence to many addresses, serialised once."""

from twisted.words.xish import domish

from jabberd.sm.fanout import FanOut, fanOutOf
from tests.sm.helpers import parse

CLIENT = {"prefixes": {}, "defaultUri": "jabber:client", "prefixesInScope": []}


def _plain(copy, **context):
    """C{copy} serialised as any element is (the reference)."""
    return domish.Element.toXml(copy, **context)


def _presence():
    return parse("<presence from='alice@localhost/phone'><show>away</show>"
                 "<status>at &amp; about &lt;here&gt;</status>"
                 "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v='/>"
                 "</presence>")


def test_copiesSerialiseAsElementsDo():
    """Each copy is written exactly as the same element serialised on its own."""
    fanOut = FanOut(_presence())
    for address in ("bob@localhost", "o'brien@localhost", "carol@remote.example/a&b"):
        copy = fanOut.to(address)
        assert copy.toXml(**CLIENT) == _plain(copy, **CLIENT)
        assert copy.toXml() == _plain(copy)


def test_copyIsAnOrdinaryElement():
    """A copy has the stanza's attributes, its own address and the shared children."""
    stanza = _presence()
    copy = FanOut(stanza).to("bob@localhost")
    assert copy.name == "presence" and copy.uri == "jabber:client"
    assert copy["to"] == "bob@localhost" and copy["from"] == "alice@localhost/phone"
    assert copy.children == stanza.children and copy.children is not stanza.children
    assert not stanza.hasAttribute("to")


def test_senderReplacesFrom():
    """A fan-out with a sender stamps it on every copy, in place of the stanza's."""
    copy = FanOut(parse("<presence from='alice@localhost'/>"), "alice@localhost/phone").to("bob@x")
    assert copy["from"] == "alice@localhost/phone"
    assert copy.toXml(**CLIENT) == _plain(copy, **CLIENT)


def test_serialisedOncePerContext():
    """The stanza is serialised once per stream context, however many copies are written."""
    fanOut = FanOut(_presence())
    for address in ("a@localhost", "b@localhost", "c@localhost"):
        fanOut.to(address).toXml(**CLIENT)
    assert len(fanOut._parts) == 1
    fanOut.to("d@localhost").toXml()
    assert len(fanOut._parts) == 2


def test_changedCopyIsSerialisedAfresh():
    """A copy given another child or attribute is written with it, not from the kept text."""
    fanOut = FanOut(_presence())
    fanOut.to("a@localhost").toXml(**CLIENT)
    child = fanOut.to("b@localhost")
    child.addElement(("urn:xmpp:delay", "delay"))["stamp"] = "2026-12-04T00:00:00Z"
    assert "urn:xmpp:delay" in child.toXml(**CLIENT)
    attribute = fanOut.to("c@localhost")
    attribute["type"] = "unavailable"
    assert "type='unavailable'" in attribute.toXml(**CLIENT)
    namespace = fanOut.to("d@localhost")
    namespace.uri = namespace.defaultUri = "jabber:server"
    assert namespace.toXml(**CLIENT) == _plain(namespace, **CLIENT)


def test_standInInStanzaFallsBack():
    """A stanza whose own text holds the address stand-in is serialised as any element is."""
    stanza = parse("<presence from='alice@localhost/phone'><status>\ue000to\ue000</status>"
                   "</presence>")
    copy = FanOut(stanza).to("bob@localhost")
    assert copy.toXml(**CLIENT) == _plain(copy, **CLIENT)


def test_fanOutKeptWhileStanzaUnchanged():
    """The stanza keeps its fan-out for the same sender, and gets a new one once changed."""
    stanza = _presence()
    first = fanOutOf(stanza, "alice@localhost/phone")
    assert fanOutOf(stanza, "alice@localhost/phone") is first
    assert fanOutOf(stanza, "alice@localhost/tablet") is not first
    again = fanOutOf(stanza, "alice@localhost/phone")
    stanza.addElement("priority", content="5")
    changed = fanOutOf(stanza, "alice@localhost/phone")
    assert changed is not again
    assert "<priority>5</priority>" in changed.to("bob@localhost").toXml(**CLIENT)
