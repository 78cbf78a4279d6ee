"""
Tests for L{jabberd.sm.pep}: PEP (XEP-0163) on the session manager, with
a fake entity capabilities handler standing in for XEP-0115.
"""

import pytest

from jabberd.config import parse as parseConfig
from jabberd.handler import Handler
from jabberd.ns import NS_BLOCKING, NS_DELAY, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PUBSUB, NS_PUBSUB_EVENT
from jabberd.sm.blocking import BlockingHandler
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.manager import SessionManager
from jabberd.sm.message import MessageHandler
from jabberd.sm.modules import handlerFactories
from jabberd.sm.pep import PEPHandler
from jabberd.sm.presence import PresenceHandler
from jabberd.sm.roster import RosterHandler
from jabberd.sm.rosterpins import RosterPins
from jabberd.stanza import parseElement
from jabberd.storage.cached import CachedStorage
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import ALICE, BOB, CAROL, Harness, StubRouter, errorCondition, result

NODE = "http://jabber.org/protocol/tune"


class FakeCaps(Handler):
    """The caps handler's interface: C{wants(jid, feature)} from a set of (jid, feature)."""

    handlerName = "caps"

    def __init__(self):
        self.features = set()

    def wants(self, jid, feature):
        return (jid, feature) in self.features


class PEPHarness(Harness):
    """The harness with PEP attached before presence (as in L{jabberd.sm.modules})."""

    def __init__(self, caps=True, cached=False):
        from tests.sm import helpers
        helpers._failures.clear()
        self.storage = MemoryStorage()
        for user in ("alice", "bob", "dave"):
            self.storage.accounts.create(user, {"password": "secret"})
        if cached:
            # As the server runs: online users' rosters in memory (RosterCache).
            self.storage = CachedStorage(self.storage)
        self.sm = SessionManager(["localhost"], self.storage)
        self.messages = self.sm.addHandler(MessageHandler())
        self.pep = self.sm.addHandler(PEPHandler())
        self.presence = self.sm.addHandler(PresenceHandler())
        self.roster = self.sm.addHandler(RosterHandler())
        self.sm.addHandler(DiscoHandler())
        self.caps = self.sm.addHandler(FakeCaps()) if caps else None
        if cached:
            self.sm.addHandler(RosterPins())
        self.router = StubRouter(self.sm)
        self.sm.output = self.router

    def befriend(self, user, contact, subscription="both"):
        self.setItem(user, contact, subscription)

    def publish(self, session, node=NODE, itemId="current", to=None):
        toAttr = f" to='{to}'" if to else ""
        return self.iq(session, f"<iq type='set'{toAttr}><pubsub xmlns='{NS_PUBSUB}'>"
                                f"<publish node='{node}'><item id='{itemId}'>"
                                f"<tune xmlns='{NODE}'/></item></publish></pubsub></iq>")


def mutualContacts(cached=False):
    """A harness where alice and bob have a mutual presence subscription."""
    h = PEPHarness(cached=cached)
    h.befriend("alice", BOB)
    h.befriend("bob", ALICE)
    return h


def events(elements, node=NODE):
    """The item ids of the PEP event messages among C{elements} about C{node}, as the client reads them."""
    found = []
    for e in elements:
        if e.name != "message":
            continue
        e = parseElement(e.toXml())  # a fan-out's event is serialised once, as text
        for event in e.elements(NS_PUBSUB_EVENT, "event"):
            for items in event.elements(NS_PUBSUB_EVENT, "items"):
                if items.getAttribute("node") == node:
                    found += [i["id"] for i in items.elements(NS_PUBSUB_EVENT, "item")]
    return found


def test_capsInterestedResourcesNotified():
    """A publication reaches the owner's and contacts' resources whose caps want NODE+notify, from the bare JID."""
    h = mutualContacts()
    alice = h.login("alice", "desk")
    bob = h.login("bob", "phone")
    other = h.login("bob", "laptop")
    h.caps.features |= {(alice.full, NODE + "+notify"), (bob.full, NODE + "+notify")}
    h.clear()
    assert h.publish(alice)["type"] == "result"
    bobGot = h.take(bob)
    assert events(bobGot) == ["current"]
    assert bobGot[0]["from"] == ALICE and bobGot[0]["type"] == "headline"
    assert events(h.take(alice)) == ["current"]
    assert events(h.take(other)) == []


def test_fanOutSerialisesTheEventOnce():
    """The messages of one publication to several resources share one serialised event, not a copy each."""
    h = mutualContacts()
    alice = h.login("alice", "desk")
    bob = h.login("bob", "phone")
    h.caps.features |= {(alice.full, NODE + "+notify"), (bob.full, NODE + "+notify")}
    h.clear()
    h.publish(alice)
    [toBob], [toAlice] = [[m for m in s.stream.sent if m.name == "message"] for s in (bob, alice)]
    assert toBob.children[0] is toAlice.children[0]
    assert events(h.take(bob)) == events(h.take(alice)) == ["current"]


def test_presenceNodeNotForStrangers():
    """A contact without a presence subscription is not notified of a presence node, caps or not."""
    h = PEPHarness()
    h.befriend("bob", ALICE)  # bob sees alice's presence, not the other way round
    h.setItem("alice", BOB, "to")
    alice = h.login("alice")
    bob = h.login("bob")
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.clear()
    h.publish(alice)
    assert events(h.take(bob)) == []


def test_withoutCapsOnlySubscribersNotified():
    """With no caps handler, an explicit bare JID subscriber gets notifications at its available resources."""
    h = PEPHarness(caps=False)
    h.befriend("alice", BOB)
    h.befriend("bob", ALICE)
    alice = h.login("alice")
    bob = h.login("bob")
    h.publish(alice, itemId="one")
    assert events(h.take(bob)) == []
    reply = h.iq(bob, f"<iq type='set' to='{ALICE}'><pubsub xmlns='{NS_PUBSUB}'>"
                      f"<subscribe node='{NODE}' jid='{BOB}'/></pubsub></iq>")
    assert reply["type"] == "result"
    assert events(h.take(bob)) == ["one"]  # the last item, on subscription
    h.publish(alice, itemId="two")
    assert events(h.take(bob)) == ["two"]
    assert events(h.take(alice)) == []


#: The storage a harness runs on: as given, and behind the server's caches
#: (where a contact's presence is followed from the roster in memory).
STORAGES = pytest.mark.parametrize("cached", [False, True], ids=["plain", "cached"])


@STORAGES
def test_lastItemWhenContactComesOnline(cached):
    """A contact's resource that comes online wanting the node gets the last item with a delay."""
    h = mutualContacts(cached)
    alice = h.login("alice")
    h.publish(alice, itemId="old")
    bob = h.bind("bob", "phone")
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.send(bob, "<presence/>")
    got = [e for e in h.take(bob) if e.name == "message"]
    assert events(got) == ["old"]
    assert got[0].delay is not None and got[0].delay.uri == NS_DELAY
    assert got[0]["to"] == bob.full


def test_lastItemToOwnerResource():
    """The owner's new resource wanting the node gets the last item, once."""
    h = PEPHarness()
    alice = h.login("alice", "desk")
    h.publish(alice, itemId="mine")
    phone = h.bind("alice", "phone")
    h.caps.features.add((phone.full, NODE + "+notify"))
    h.send(phone, "<presence/>")
    assert events(h.take(phone)) == ["mine"]
    h.sm.notify("capsKnown", phone.jid, frozenset([NODE + "+notify"]))
    assert events(h.take(phone)) == []


def test_capsKnownSendsLastItemOnce():
    """Features learnt after presence (capsKnown) bring the last item, once while available."""
    h = mutualContacts()
    alice = h.login("alice")
    h.publish(alice, itemId="late")
    bob = h.login("bob")
    assert events(h.take(bob)) == []
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.sm.notify("capsKnown", bob.jid, frozenset([NODE + "+notify"]))
    assert events(h.take(bob)) == ["late"]
    h.sm.notify("capsKnown", bob.jid, frozenset([NODE + "+notify"]))
    assert events(h.take(bob)) == []
    h.send(bob, "<presence type='unavailable'/>")
    h.send(bob, "<presence/>")
    assert events(h.take(bob)) == ["late"]


def test_audienceFollowsRosterChange():
    """Who hears of a node is kept between publishes until the roster changes: a contact whose subscription no longer shares presence is not notified."""
    h = mutualContacts()
    alice = h.login("alice")
    bob = h.login("bob")
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.publish(alice, itemId="one")
    assert events(h.take(bob)) == ["one"]
    h.publish(alice, itemId="two")
    assert events(h.take(bob)) == ["two"]
    item = result(h.storage.roster.item("alice", BOB))
    item.subscription = "to"
    result(h.roster.updateItem(ALICE, item))
    h.publish(alice, itemId="three")
    assert events(h.take(bob)) == []


@STORAGES
def test_audienceFollowsCapsAndPresence(cached):
    """A contact whose caps become known after a publish hears the next one; after its unavailable presence, not."""
    h = mutualContacts(cached)
    alice = h.login("alice")
    bob = h.login("bob")
    h.publish(alice, itemId="one")
    assert events(h.take(bob)) == []
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.sm.notify("capsKnown", bob.jid, frozenset([NODE + "+notify"]))
    assert events(h.take(bob)) == ["one"]  # the last item (section 4.3.4)
    h.publish(alice, itemId="two")
    assert events(h.take(bob)) == ["two"]
    h.send(bob, "<presence type='unavailable'/>")
    h.publish(alice, itemId="three")
    assert events(h.take(bob)) == []


def subscribe(h, session, jid=BOB):
    """C{session} subscribes C{jid} to alice's NODE (XEP-0060 section 6.1)."""
    return h.iq(session, f"<iq type='set' to='{ALICE}'><pubsub xmlns='{NS_PUBSUB}'>"
                         f"<subscribe node='{NODE}' jid='{jid}'/></pubsub></iq>")


def test_lastItemOnceForPresenceThenSubscription():
    """A contact's resource sent the last item for its presence and caps is not sent it again when it subscribes (XEP-0163 section 4.3.2)."""
    h = mutualContacts()
    alice = h.login("alice")
    h.publish(alice, itemId="once")
    bob = h.bind("bob", "phone")
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.send(bob, "<presence/>")
    assert events(h.take(bob)) == ["once"]
    assert subscribe(h, bob)["type"] == "result"
    assert events(h.take(bob)) == []


def test_lastItemOnceForSubscriptionThenPresence():
    """A resource sent the last item on subscription is not sent it again when its presence or caps arrive; a new resource is."""
    h = mutualContacts()
    alice = h.login("alice")
    h.publish(alice, itemId="once")
    bob = h.login("bob", "phone")
    h.take(bob)
    assert subscribe(h, bob)["type"] == "result"
    assert events(h.take(bob)) == ["once"]
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.sm.notify("capsKnown", bob.jid, frozenset([NODE + "+notify"]))
    assert events(h.take(bob)) == []
    laptop = h.bind("bob", "laptop")
    h.send(laptop, "<presence/>")
    assert events(h.take(laptop)) == ["once"]  # subscribed as a bare JID (section 4.3.3)


def test_remoteContactResourcesFollowed():
    """A remote contact's resources are learnt from its presence and notified, until unavailable."""
    h = PEPHarness()
    h.befriend("alice", CAROL)
    alice = h.login("alice")
    h.inbound(f"<presence from='{CAROL}/mobile' to='{ALICE}'/>")
    assert h.pep.contacts[ALICE] == {CAROL + "/mobile"}
    h.caps.features.add((CAROL + "/mobile", NODE + "+notify"))
    h.routed()
    h.publish(alice)
    routed = h.routed()
    assert [m["to"] for m in routed if events([m])] == [CAROL + "/mobile"]
    h.inbound(f"<presence from='{CAROL}/mobile' to='{ALICE}' type='unavailable'/>")
    assert h.pep.contacts[ALICE] == set()


@STORAGES
def test_strangersNotFollowed(cached):
    """Presence from someone without a presence subscription is not followed."""
    h = PEPHarness(cached=cached)
    h.login("alice")
    h.inbound(f"<presence from='{CAROL}/mobile' to='{ALICE}'/>")
    assert h.pep.contacts.get(ALICE, set()) == set()


def test_blockedContactNotNotified():
    """A contact the owner blocks (XEP-0191) gets no notification and no last item."""
    h = PEPHarness()
    h.sm.addHandler(BlockingHandler())
    h.befriend("alice", BOB)
    h.befriend("bob", ALICE)
    alice = h.login("alice")
    bob = h.login("bob")
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.iq(alice, f"<iq type='set'><block xmlns='{NS_BLOCKING}'><item jid='{BOB}'/></block></iq>")
    h.clear()
    h.publish(alice, itemId="hidden")
    assert events(h.take(bob)) == []
    h.sm.notify("capsKnown", bob.jid, frozenset([NODE + "+notify"]))
    assert events(h.take(bob)) == []
    h.iq(alice, f"<iq type='set'><unblock xmlns='{NS_BLOCKING}'/></iq>")
    h.clear()
    h.publish(alice, itemId="shown")
    assert events(h.take(bob)) == ["shown"]


def test_notAServerService():
    """A PubSub request to the server domain or a missing account is service-unavailable."""
    h = PEPHarness()
    alice = h.login("alice")
    for to in ("localhost", "nobody@localhost"):
        reply = h.iq(alice, f"<iq type='get' to='{to}'><pubsub xmlns='{NS_PUBSUB}'>"
                            f"<items node='{NODE}'/></pubsub></iq>")
        assert errorCondition(reply) == "service-unavailable"


def test_discoAdvertisesFeaturesAsImplemented():
    """The account is pubsub/pep; filtered notifications only with a caps handler."""
    for caps in (True, False):
        h = PEPHarness(caps=caps)
        alice = h.login("alice")
        reply = h.iq(alice, f"<iq type='get' to='{ALICE}'><query xmlns='{NS_DISCO_INFO}'/></iq>")
        features = {f["var"] for f in reply.query.elements(NS_DISCO_INFO, "feature")}
        identities = {(i["category"], i["type"]) for i in
                      reply.query.elements(NS_DISCO_INFO, "identity")}
        assert NS_PUBSUB + "#publish" in features and ("pubsub", "pep") in identities
        assert (NS_PUBSUB + "#filtered-notifications" in features) == caps


def test_discoItemsByAccess():
    """disco#items of the account lists the nodes the requester may see."""
    h = PEPHarness()
    h.befriend("alice", BOB)
    alice = h.login("alice")
    h.publish(alice, node="urn:presence")
    h.iq(alice, f"<iq type='set'><pubsub xmlns='{NS_PUBSUB}'><publish node='urn:open'><item>"
                "<x xmlns='urn:open'/></item></publish><publish-options>"
                "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
                "http://jabber.org/protocol/pubsub#publish-options</value></field>"
                "<field var='pubsub#access_model'><value>open</value></field></x>"
                "</publish-options></pubsub></iq>")
    dave = h.login("dave")
    bob = h.login("bob")

    def nodes(session):
        reply = h.iq(session, f"<iq type='get' to='{ALICE}'>"
                              f"<query xmlns='{NS_DISCO_ITEMS}'/></iq>")
        return {i.getAttribute("node") for i in reply.query.elements(NS_DISCO_ITEMS, "item")
                if i.getAttribute("node")}
    assert nodes(dave) == {"urn:open"}
    assert nodes(bob) == {"urn:open", "urn:presence"}


def test_userDeletedRemovesNodesAndSubscriptions():
    """An account's nodes and its subscriptions at other accounts go with it."""
    h = PEPHarness(caps=False)
    h.befriend("alice", BOB)
    alice = h.login("alice")
    bob = h.login("bob")
    h.publish(bob, node="urn:bobs")
    h.publish(alice)
    h.iq(bob, f"<iq type='set' to='{ALICE}'><pubsub xmlns='{NS_PUBSUB}'>"
              f"<subscribe node='{NODE}' jid='{BOB}'/></pubsub></iq>")
    h.sm.userDeleted("bob")
    h.take(alice)
    store = h.storage.pubsub
    assert result(store.listNodes(BOB)) == []
    assert result(store.getSubscriberSubscriptions(BOB)) == []
    assert [n.node for n in result(store.listNodes(ALICE))] == [NODE]


def test_attachedWithLimitsFromConfig():
    """The module list attaches PEP, before presence, with the [pep] limits."""
    config = parseConfig("[pep]\nmax_nodes = 3\nmax_items_per_node = 9\nmax_item_size = 100\n")
    handlers = [factory() for factory in handlerFactories(config)]
    names = [type(h).__name__ for h in handlers]
    pep = handlers[names.index("PEPHandler")]
    assert names.index("PEPHandler") < names.index("PresenceHandler")
    assert (pep.limits.maxNodes, pep.limits.maxItemsPerNode, pep.limits.maxItemSize) \
        == (3, 9, 100)


def test_noNodesNoReads():
    """Contacts of an account without nodes come online with no read of its (empty) service."""
    h = mutualContacts()
    asked = []
    h.storage.pubsub.listNodes = lambda service: asked.append(service)
    h.storage.pubsub.getSubscriberSubscriptions = lambda *args: asked.append(args)
    h.login("alice")
    h.login("bob")
    assert asked == []


def test_firstNodeIndexed():
    """An account that publishes its first node is in the index at once: contacts get it."""
    h = mutualContacts()
    alice = h.login("alice")
    assert not h.pep.withNodes.mayHave(ALICE)
    h.publish(alice, itemId="first")
    assert h.pep.withNodes.mayHave(ALICE)
    bob = h.bind("bob", "phone")
    h.caps.features.add((bob.full, NODE + "+notify"))
    h.send(bob, "<presence/>")
    assert events([e for e in h.take(bob) if e.name == "message"]) == ["first"]
