"""Tests for L{jabberd.sm.vcard4}: vCard4 in PEP (XEP-0292) and vcard-temp in step with it."""

from jabberd.ns import NODE_VCARD4, NS_DISCO_INFO, NS_VCARD, NS_VCARD4
from jabberd.pubsub.events import payloadOf
from jabberd.stanza import parseElement
from tests.sm.helpers import errorCondition
from tests.sm.profilehelpers import ALICE, ProfileHarness, publishOptions

V4 = (f"<vcard xmlns='{NS_VCARD4}'><fn><text>Alice Liddell</text></fn>"
      f"<nickname><text>ally</text></nickname><email><text>alice@example.org</text></email>"
      f"<tel><uri>tel:+44-1865-000</uri></tel><url><uri>https://alice.example/</uri></url>"
      f"<gender><sex><text>F</text></sex></gender></vcard>")


def names(vcard, name):
    return [str(c) for c in vcard.elements(NS_VCARD, name)]


def tempOf(reply):
    return next(reply.elements(NS_VCARD, "vCard"))


def test_publishThroughPEP():
    """A vCard4 is published as item 'current' of urn:xmpp:vcard4; another element there is refused."""
    h = ProfileHarness()
    alice = h.login("alice")
    assert h.publish(alice, NODE_VCARD4, "current", V4)["type"] == "result"
    [item] = h.items(ALICE, NODE_VCARD4)
    assert (payloadOf(item).uri, item.id) == (NS_VCARD4, "current")
    refused = h.publish(alice, NODE_VCARD4, "current", f"<vCard xmlns='{NS_VCARD}'/>")
    assert errorCondition(refused) == "bad-request"


def test_vcardTempGetOfVCard4OnlyAccount():
    """A vcard-temp get of an account with only a vCard4 answers its conversion."""
    h = ProfileHarness()
    alice, dave = h.login("alice"), h.login("dave")
    h.publish(alice, NODE_VCARD4, "current", V4, publishOptions(access_model="open"))
    h.storage.vcards.data.clear()  # only the vCard4 remains
    temp = tempOf(h.getVCard(dave, ALICE))
    assert names(temp, "FN") == ["Alice Liddell"] and names(temp, "NICKNAME") == ["ally"]
    assert [str(next(e.elements(NS_VCARD, "USERID"))) for e in temp.elements(NS_VCARD, "EMAIL")] \
        == ["alice@example.org"]
    assert [str(next(t.elements(NS_VCARD, "NUMBER"))) for t in temp.elements(NS_VCARD, "TEL")] \
        == ["+44-1865-000"]
    assert names(temp, "URL") == ["https://alice.example/"]


def test_vcard4AccessModelRespected():
    """A vCard4 only contacts may read is not shown to a stranger through vcard-temp either."""
    h = ProfileHarness()
    alice, dave = h.login("alice"), h.login("dave")
    h.publish(alice, NODE_VCARD4, "current", V4)
    h.storage.vcards.data.clear()
    assert errorCondition(h.getVCard(dave, ALICE)) == "service-unavailable"
    assert names(tempOf(h.getVCard(alice, ALICE)), "FN") == ["Alice Liddell"]


def test_vcard4UpdatesStoredVCardKeepingPhoto():
    """A client's vCard4 replaces the mapped vcard-temp elements and keeps the others."""
    h = ProfileHarness()
    alice = h.login("alice")
    h.setVCard(alice, "<FN>Old</FN><PHOTO><EXTVAL>https://x/a.png</EXTVAL></PHOTO>"
                      "<JABBERID>alice@localhost</JABBERID>")
    h.publish(alice, NODE_VCARD4, "current", V4)
    stored = h.storedVCard("alice")
    assert names(stored, "FN") == ["Alice Liddell"]
    assert names(stored, "JABBERID") == ["alice@localhost"]
    assert len(list(stored.elements(NS_VCARD, "PHOTO"))) == 1


def test_vcardTempSetUpdatesVCard4():
    """A vcard-temp set publishes the vCard4 (once, no loop), keeping what the mapping does not cover."""
    h = ProfileHarness()
    alice = h.login("alice")
    h.publish(alice, NODE_VCARD4, "current", V4)
    writes = []
    original = h.storage.vcards.set
    h.storage.vcards.set = lambda user, xml: (writes.append(user), original(user, xml))[1]
    h.setVCard(alice, "<FN>Alice Pleasance</FN><NICKNAME>al</NICKNAME>")
    assert writes == ["alice"]
    [item] = h.items(ALICE, NODE_VCARD4)
    v4 = parseElement(item.xml)
    assert [str(next(c.elements())) for c in v4.elements(NS_VCARD4, "fn")] == ["Alice Pleasance"]
    assert [str(next(c.elements())) for c in v4.elements(NS_VCARD4, "nickname")] == ["al"]
    assert len(list(v4.elements(NS_VCARD4, "gender"))) == 1
    assert list(v4.elements(NS_VCARD4, "email")) == []


def test_iqGetVCard4():
    """An iq get of <vcard/> answers the vCard4 to who may read it, an empty one otherwise."""
    h = ProfileHarness()
    h.friends()
    alice, bob, dave = h.login("alice"), h.login("bob"), h.login("dave")
    ask = f"<iq type='get' to='{ALICE}'><vcard xmlns='{NS_VCARD4}'/></iq>"
    empty = next(h.iq(bob, ask).elements(NS_VCARD4, "vcard"))
    assert list(empty.elements()) == []
    h.publish(alice, NODE_VCARD4, "current", V4)
    got = next(h.iq(bob, ask).elements(NS_VCARD4, "vcard"))
    assert len(list(got.elements(NS_VCARD4, "fn"))) == 1
    assert list(next(h.iq(dave, ask).elements(NS_VCARD4, "vcard")).elements()) == []


def test_featureOnTheAccount():
    """The account advertises urn:ietf:params:xml:ns:vcard-4.0 (section 7)."""
    h = ProfileHarness()
    alice = h.login("alice")
    reply = h.iq(alice, f"<iq type='get' to='{ALICE}'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    features = {f["var"] for f in next(reply.elements(NS_DISCO_INFO, "query")).elements(
        NS_DISCO_INFO, "feature")}
    assert NS_VCARD4 in features


def test_nodeMadeFromVCardTempIsPublic():
    """A vCard4 node the server creates from a vcard-temp set is open, as the vCard is; an existing one keeps its model."""
    h = ProfileHarness()
    alice, bob, dave = h.login("alice"), h.login("bob"), h.login("dave")
    h.setVCard(alice, "<FN>Alice</FN>")
    ask = f"<iq type='get' to='{ALICE}'><vcard xmlns='{NS_VCARD4}'/></iq>"
    assert len(list(next(h.iq(dave, ask).elements(NS_VCARD4, "vcard")).elements())) == 1
    h.publish(bob, NODE_VCARD4, "current", V4)  # presence model, the default
    h.setVCard(bob, "<FN>Bob</FN>")
    asked = ask.replace(ALICE, "bob@localhost")
    assert list(next(h.iq(dave, asked).elements(NS_VCARD4, "vcard")).elements()) == []
