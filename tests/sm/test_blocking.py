"""
Tests for L{jabberd.sm.blocking}: the Blocking Command (XEP-0191) with the
JID matching of XEP-0016 section 2.1, and XEP-0377 reports.
"""

import pytest
from twisted.internet import defer
from twisted.logger import globalLogPublisher

from jabberd.config import parse as parseConfig
from jabberd.jidutil import parseJID
from jabberd.ns import NS_BLOCKING, NS_BLOCKING_ERRORS, NS_DISCO_INFO, NS_REPORTING
from jabberd.sm.blocking import BlockingHandler, isBlocked
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.modules import handlerFactories
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import (ALICE, BOB, Harness, TakeUndeliverable, errorCondition,
                              presences, result)

CAROL = "carol@remote.example"
ERIN = "erin@remote.example"


class BlockingHarness(Harness):
    """The harness with the blocking handler, disco, and an offline store that keeps messages."""

    def __init__(self, maxItems=1000, stored=None, **kwargs):
        """C{stored}: username -> JIDs on the block lists kept from an earlier run."""
        Harness.__init__(self, users=("alice", "bob", "dave"), **kwargs)
        for username, jids in (stored or {}).items():
            result(self.storage.blocklist.block(username, jids))
        self.blocking = self.sm.addHandler(BlockingHandler(maxItems=maxItems))
        self.sm.addHandler(DiscoHandler())
        self.stored = []
        self.sm.addHandler(TakeUndeliverable(lambda stanza: self.stored.append(stanza) or True))

    def iq(self, session, xml, id="b1"):
        """Send an iq set or get; return the reply among what C{session} received."""
        self.send(session, xml.replace("<iq ", f"<iq id='{id}' ", 1))
        replies = [e for e in session.stream.sent
                   if e.name == "iq" and e.getAttribute("id") == id]
        assert len(replies) == 1, [e.toXml() for e in session.stream.sent]
        return replies[0]

    def block(self, session, *jids, id="b1"):
        items = "".join(f"<item jid='{jid}'/>" for jid in jids)
        return self.iq(session, f"<iq type='set'><block xmlns='{NS_BLOCKING}'>{items}</block></iq>",
                       id)

    def unblock(self, session, *jids, id="u1"):
        items = "".join(f"<item jid='{jid}'/>" for jid in jids)
        return self.iq(session,
                       f"<iq type='set'><unblock xmlns='{NS_BLOCKING}'>{items}</unblock></iq>", id)

    def blocklist(self, session, id="g1"):
        reply = self.iq(session, f"<iq type='get'><blocklist xmlns='{NS_BLOCKING}'/></iq>", id)
        assert reply["type"] == "result", reply.toXml()
        return [i["jid"] for i in next(reply.elements(NS_BLOCKING, "blocklist")).elements()]


def blockPushes(elements, name="block"):
    """The JID lists of the block (or unblock) pushes among C{elements}."""
    return [[i["jid"] for i in payload.elements(NS_BLOCKING, "item")]
            for e in elements if e.name == "iq" and e.getAttribute("type") == "set"
            for payload in e.elements(NS_BLOCKING, name)]


def messages(elements):
    return [e for e in elements if e.name == "message"]


def errorChildren(stanza):
    error = next(e for e in stanza.elements() if e.name == "error")
    return [(child.uri, child.name) for child in error.elements()]


def subscribed(h, user, contact):
    """C{user} and C{contact} (bare JIDs) are subscribed to each other."""
    h.setItem(user.split("@")[0], contact, "both")
    h.setItem(contact.split("@")[0], user, "both")


def blocksBob(h, subscribe=False):
    """alice and bob log in (subscribed both ways if asked) and alice blocks bob."""
    alice, bob = h.login("alice"), h.login("bob")
    if subscribe:
        subscribed(h, ALICE, BOB)
    h.block(alice, BOB)
    h.clear()
    return alice, bob


# --- matching (XEP-0016 section 2.1) ---


def test_matchingRules():
    """A bare JID blocks its resources, a full JID only itself, a domain everything at it."""
    def blocked(entries, jid):
        return isBlocked(set(entries), parseJID(jid))

    assert blocked(["bob@localhost"], "bob@localhost/phone")
    assert blocked(["bob@localhost"], "bob@localhost")
    assert blocked(["bob@localhost/phone"], "bob@localhost/phone")
    assert not blocked(["bob@localhost/phone"], "bob@localhost/desk")
    assert not blocked(["bob@localhost/phone"], "bob@localhost")
    assert blocked(["remote.example"], "carol@remote.example/x")
    assert blocked(["remote.example"], "remote.example")
    assert blocked(["remote.example/bot"], "remote.example/bot")
    assert not blocked(["remote.example/bot"], "carol@remote.example/bot")
    assert not blocked(["bob@localhost"], "bobby@localhost")


# --- protocol ---


def test_emptyBlockList():
    """A user who blocked nobody gets an empty blocklist."""
    h = BlockingHarness()
    alice = h.login("alice")
    assert h.blocklist(alice) == []


def test_blockThenList():
    """Blocked JIDs are acknowledged, stored prepared and listed."""
    h = BlockingHarness()
    alice = h.login("alice")
    reply = h.block(alice, "Bob@LocalHost", "remote.example")
    assert reply["type"] == "result"
    assert sorted(h.blocklist(alice)) == ["bob@localhost", "remote.example"]
    assert result(h.storage.blocklist.items("alice")) == ["bob@localhost", "remote.example"]


_BLOCK = f"<iq type='set'><block xmlns='{NS_BLOCKING}'>{{}}</block></iq>"


@pytest.mark.parametrize("user, xml, condition", [
    ("alice", _BLOCK.format(""), "bad-request"),
    ("alice", _BLOCK.format(f"<item jid='{BOB}'/><item jid='a@b@c'/>"), "jid-malformed"),
    ("alice", _BLOCK.format("<item/>"), "jid-malformed"),
    ("alice", _BLOCK.format(f"<item jid='{BOB}'><report xmlns='{NS_REPORTING}'/></item>"),
     "bad-request"),
    ("alice", f"<iq type='set'><blocklist xmlns='{NS_BLOCKING}'/></iq>", "bad-request"),
    ("bob", _BLOCK.format(f"<item jid='{CAROL}'/>").replace("<iq ", f"<iq to='{ALICE}' "),
     "forbidden"),
    ("bob", f"<iq type='get' to='{ALICE}'><blocklist xmlns='{NS_BLOCKING}'/></iq>", "forbidden"),
])
def test_refusedRequests(user, xml, condition):
    """
    An empty block or a report without reason is bad-request, as is a set
    that is neither block nor unblock; an item without a JID, or with one
    that cannot be prepared, is jid-malformed; another account's list is
    forbidden; and a refused block changes nothing.
    """
    h = BlockingHarness()
    alice, bob = h.login("alice"), h.login("bob")
    reply = h.iq(alice if user == "alice" else bob, xml)
    assert reply["type"] == "error" and errorCondition(reply) == condition
    assert h.blocklist(alice, id="check") == []


def test_listToServerIsOwnList():
    """A request addressed to the server is about the sender's own list."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.block(alice, BOB)
    reply = h.iq(alice, f"<iq type='get' to='localhost'><blocklist xmlns='{NS_BLOCKING}'/></iq>",
                 "g5")
    assert [i["jid"] for i in next(reply.elements()).elements()] == [BOB]


def test_maxItemsBounds():
    """A block that would pass max_items is policy-violation; up to it is accepted."""
    h = BlockingHarness(maxItems=2)
    alice = h.login("alice")
    assert h.block(alice, "a@x.example", "b@x.example")["type"] == "result"
    assert h.block(alice, "a@x.example", id="again")["type"] == "result"  # already listed
    reply = h.block(alice, "c@x.example", id="b2")
    assert errorCondition(reply) == "policy-violation"
    assert sorted(h.blocklist(alice)) == ["a@x.example", "b@x.example"]


def test_maxItemsFromConfig():
    """[blocking] max_items reaches the handler built by the module list; 1000 by default."""
    def handler(text):
        config = parseConfig(text)
        made = [f() for f in handlerFactories(config)]
        return next(h for h in made if isinstance(h, BlockingHandler))

    assert handler("").maxItems == 1000
    assert handler("[blocking]\nmax_items = 3\n").maxItems == 3


def test_unblock():
    """Unblocking removes only the named JIDs."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.block(alice, BOB, CAROL)
    assert h.unblock(alice, BOB)["type"] == "result"
    assert h.blocklist(alice) == [CAROL]


def test_unblockAll():
    """An unblock without items empties the list."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.block(alice, BOB, CAROL)
    h.unblock(alice)
    assert h.blocklist(alice) == []
    assert result(h.storage.blocklist.items("alice")) == []


def test_pushesToInterestedResources():
    """Block and unblock are pushed to every resource that asked for the list, and only those."""
    h = BlockingHarness()
    desk = h.login("alice", "desk")
    phone = h.login("alice", "phone")
    other = h.login("alice", "other")
    h.blocklist(desk)
    h.blocklist(phone, id="g2")
    h.clear()
    h.block(desk, BOB)
    assert blockPushes(h.take(desk)) == [[BOB]]
    assert blockPushes(h.take(phone)) == [[BOB]]
    assert blockPushes(h.take(other)) == []
    h.unblock(phone, BOB)
    assert blockPushes(h.take(desk), "unblock") == [[BOB]]
    h.unblock(phone, id="u2")
    assert blockPushes(h.take(desk), "unblock") == [[]]


def test_pushAddressedToResource():
    """A push is an iq set to the resource's full JID."""
    h = BlockingHarness()
    phone = h.login("alice", "phone")
    h.blocklist(phone)
    h.clear()
    h.block(phone, BOB)
    push = [e for e in h.take(phone) if e.getAttribute("type") == "set"][0]
    assert push["to"] == "alice@localhost/phone" and push["id"]


def test_reportLogged():
    """A XEP-0377 report in a blocked item is logged at warn level with reporter, JID and reason."""
    events = []
    globalLogPublisher.addObserver(events.append)
    try:
        h = BlockingHarness()
        alice = h.login("alice")
        reply = h.iq(alice, f"<iq type='set'><block xmlns='{NS_BLOCKING}'>"
                            f"<item jid='spam@remote.example'><report xmlns='{NS_REPORTING}' "
                            f"reason='urn:xmpp:reporting:spam'><text>buy now</text></report>"
                            f"</item></block></iq>")
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert reply["type"] == "result"
    reports = [e for e in events if e.get("reason") == "urn:xmpp:reporting:spam"]
    assert len(reports) == 1
    assert reports[0]["log_level"].name == "warn"
    assert reports[0]["jid"] == "spam@remote.example"
    assert reports[0]["reporter"] == "alice@localhost/res"
    assert reports[0]["text"] == "buy now"
    assert h.blocklist(alice) == ["spam@remote.example"]


def test_discoFeatures():
    """The server advertises urn:xmpp:blocking and urn:xmpp:reporting:1."""
    h = BlockingHarness()
    alice = h.login("alice")
    reply = h.iq(alice, f"<iq type='get' to='localhost'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    features = [f["var"] for f in next(reply.elements()).elements() if f.name == "feature"]
    assert NS_BLOCKING in features and NS_REPORTING in features


# --- enforcement ---


def test_messageFromBlockedRefused():
    """A message from a blocked user is not delivered; the sender gets service-unavailable."""
    h = BlockingHarness()
    alice, bob = blocksBob(h)
    h.send(bob, f"<message to='{ALICE}' type='chat'><body>hi</body></message>")
    assert messages(h.take(alice)) == []
    [bounce] = messages(h.take(bob))
    assert bounce["type"] == "error" and errorCondition(bounce) == "service-unavailable"


def test_remoteDomainBlocked():
    """Blocking a domain refuses stanzas from every JID at it."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.block(alice, "remote.example")
    h.clear()
    h.inbound(f"<message from='{CAROL}/x' to='{ALICE}'><body>hi</body></message>")
    h.inbound(f"<iq type='get' id='v' from='{CAROL}/x' to='{ALICE}/res'>"
              f"<query xmlns='jabber:iq:version'/></iq>")
    assert h.take(alice) == []
    routed = h.routed()
    assert [errorCondition(e) for e in routed] == ["service-unavailable"] * 2


def test_fullJIDBlockLeavesOtherResources():
    """A blocked full JID refuses that resource only."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.block(alice, f"{CAROL}/bot")
    h.clear()
    h.inbound(f"<message from='{CAROL}/bot' to='{ALICE}'><body>spam</body></message>")
    h.inbound(f"<message from='{CAROL}/phone' to='{ALICE}'><body>hi</body></message>")
    assert [str(m.body) for m in messages(h.take(alice))] == ["hi"]


def test_presenceFromBlockedDropped():
    """Presence from a blocked contact is dropped without an error."""
    h = BlockingHarness()
    alice, bob = blocksBob(h, subscribe=True)
    h.send(bob, "<presence><show>away</show></presence>")
    assert presences(h.take(alice), sender="bob@localhost/res") == []
    assert [e for e in h.take(bob) if e.getAttribute("type") == "error"] == []


def test_userPresenceNotSeenByBlocked():
    """The blocking user's presence broadcast does not reach the blocked contact."""
    h = BlockingHarness()
    alice, bob = blocksBob(h, subscribe=True)
    h.send(alice, "<presence><show>dnd</show></presence>")
    assert presences(h.take(bob), sender="alice@localhost/res") == []


def test_userPresenceNotSentToBlockedRemoteContact():
    """Broadcast, probe and unavailable presence never go to a blocked remote contact; others still get them."""
    h = BlockingHarness()
    alice = h.login("alice", available=False)
    h.setItem("alice", CAROL, "both")
    h.setItem("alice", ERIN, "both")
    h.block(alice, CAROL)
    h.routed()
    h.send(alice, "<presence/>")
    h.send(alice, "<presence><show>dnd</show></presence>")
    h.send(alice, "<presence type='unavailable'/>")
    routed = h.routed()
    assert [e.toXml() for e in routed if e.getAttribute("to", "").startswith(CAROL)] == []
    assert [e.getAttribute("type") for e in routed
            if e.getAttribute("to") == ERIN] == [None, "probe", None, "unavailable"]


def test_probeFromBlockedRemoteUnanswered():
    """A blocked remote contact's probe gets no presence back."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.setItem("alice", CAROL, "both")
    h.block(alice, CAROL)
    h.routed()
    h.inbound(f"<presence from='{CAROL}/phone' to='{ALICE}' type='probe'/>")
    assert h.routed() == []


def test_unblockRemoteSendsPresenceAgain():
    """After unblocking a remote subscriber, it gets the user's presence again."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.setItem("alice", CAROL, "both")
    h.block(alice, CAROL)
    h.unblock(alice, CAROL)
    h.routed()
    h.send(alice, "<presence><show>away</show></presence>")
    assert presences(h.routed(), sender="alice@localhost/res", to=CAROL) != []


def test_subscriptionFromBlockedDropped():
    """A subscription request from a blocked user is dropped and not kept."""
    h = BlockingHarness()
    alice, bob = blocksBob(h)
    h.send(bob, f"<presence type='subscribe' to='{ALICE}'/>")
    assert presences(h.take(alice), "subscribe") == []
    assert h.pending("alice") == {}


def test_outboundToBlockedRefused():
    """The user's message to a blocked JID is not routed: not-acceptable with <blocked/>."""
    h = BlockingHarness()
    alice, bob = blocksBob(h)
    h.send(alice, f"<message to='{BOB}/res' type='chat' id='m1'><body>hi</body></message>")
    assert messages(h.take(bob)) == []
    [error] = messages(h.take(alice))
    assert error["type"] == "error" and error["from"] == "bob@localhost/res"
    assert errorCondition(error) == "not-acceptable"
    assert (NS_BLOCKING_ERRORS, "blocked") in errorChildren(error)


def test_outboundIqToBlockedDomainRefused():
    """An iq to a JID at a blocked domain is refused and never leaves the server."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.block(alice, "remote.example")
    h.clear()
    reply = h.iq(alice, f"<iq type='get' to='{CAROL}'><query xmlns='jabber:iq:version'/></iq>",
                 "v1")
    assert errorCondition(reply) == "not-acceptable"
    assert h.routed() == []


def test_othersUnaffected():
    """Other users still exchange messages with the user and with the blocked contact."""
    h = BlockingHarness()
    alice, bob, dave = h.login("alice"), h.login("bob"), h.login("dave")
    h.block(alice, BOB)
    h.clear()
    h.send(dave, f"<message to='{ALICE}'><body>to alice</body></message>")
    h.send(bob, "<message to='dave@localhost'><body>to dave</body></message>")
    h.send(alice, "<message to='dave@localhost'><body>from alice</body></message>")
    assert [str(m.body) for m in messages(h.take(alice))] == ["to alice"]
    assert [str(m.body) for m in messages(h.take(dave))] == ["to dave", "from alice"]


def test_blockSendsUnavailableBothWays():
    """Blocking an online contact: each side sees the other's resources go unavailable."""
    h = BlockingHarness()
    alice, bob = h.login("alice"), h.login("bob")
    subscribed(h, ALICE, BOB)
    h.block(alice, BOB)
    assert presences(h.take(bob), "unavailable", sender="alice@localhost/res") != []
    assert presences(h.take(alice), "unavailable", sender="bob@localhost/res") != []


def test_blockRemoteSendsUnavailable():
    """Blocking a remote contact sends it unavailable from each available resource."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.block(alice, CAROL)
    assert presences(h.routed(), "unavailable", sender="alice@localhost/res", to=CAROL) != []
    assert presences(h.take(alice), "unavailable", sender=CAROL) != []


def test_unblockRestores():
    """After unblocking, messages flow again and the subscribed contact gets presence again."""
    h = BlockingHarness()
    alice, bob = blocksBob(h, subscribe=True)
    h.unblock(alice, BOB)
    assert presences(h.take(bob), sender="alice@localhost/res") != []
    assert presences(h.take(alice), sender="bob@localhost/res") != []  # the probe's answer
    h.send(bob, f"<message to='{ALICE}'><body>back</body></message>")
    assert [str(m.body) for m in messages(h.take(alice))] == ["back"]


def test_offlineMessageFromBlockedRefused():
    """A message from a blocked sender to a user with no session is refused, not stored."""
    h = BlockingHarness()
    alice, bob = h.login("alice"), h.login("bob")
    h.block(alice, BOB)
    h.sm.unbindSession(alice)
    h.clear()
    h.send(bob, f"<message to='{ALICE}' type='chat'><body>hi</body></message>")
    assert h.stored == []
    assert errorCondition(messages(h.take(bob))[0]) == "service-unavailable"
    h.inbound(f"<message from='{CAROL}' to='{ALICE}' type='chat'><body>hi</body></message>")
    assert len(h.stored) == 1


def test_offlineMessageToUserWithoutListReadsNothing():
    """A message for an offline user with no stored block list is stored without a block list read."""
    h = BlockingHarness()
    reads = []
    items = h.storage.blocklist.items
    h.storage.blocklist.items = lambda username: reads.append(username) or items(username)
    bob = h.login("bob")
    h.send(bob, f"<message to='{ALICE}' type='chat'><body>hi</body></message>")
    assert len(h.stored) == 1 and reads == []


def test_keptSubscriptionFromBlockedDropped():
    """A request kept while the user was offline is not redelivered at login if its sender is blocked."""
    h = BlockingHarness(stored={"alice": [BOB]})
    bob = h.login("bob")
    h.send(bob, f"<presence type='subscribe' to='{ALICE}'/>")
    h.send(h.login("dave"), f"<presence type='subscribe' to='{ALICE}'/>")
    alice = h.login("alice", available=False)
    h.send(alice, "<presence/>")
    assert [p["from"] for p in presences(h.take(alice), "subscribe")] == ["dave@localhost"]


def test_noListNoRead():
    """A user with no stored list logs in without the store being asked for it."""
    h = BlockingHarness()
    asked = []
    h.storage.blocklist.items = lambda username: asked.append(username)
    h.login("alice")
    assert asked == []


def test_blockMadeWhileIndexingKept():
    """A block committed before the start-up index arrives is not lost from it."""
    storage, pending = MemoryStorage(), defer.Deferred()
    storage.blocklist.users = lambda: pending
    h = BlockingHarness(storage=storage)
    h.block(h.login("alice", "desk"), BOB)
    pending.callback(set())
    assert h.blocking.withLists.known == {"alice"}


def test_listLoadedAtLogin():
    """A stored list applies from the user's next login on."""
    h = BlockingHarness(stored={"alice": [BOB]})
    alice, bob = h.login("alice"), h.login("bob")
    h.send(bob, f"<message to='{ALICE}'><body>hi</body></message>")
    assert messages(h.take(alice)) == []


def test_cacheOnlyWhileOnline():
    """The list is cached from the first session to the last, and only while not empty."""
    h = BlockingHarness()
    desk = h.login("alice", "desk")
    assert h.blocking._lists == {}
    h.block(desk, BOB)
    phone = h.login("alice", "phone")
    h.sm.unbindSession(desk)
    assert h.blocking._lists == {"alice": {BOB}}
    h.sm.unbindSession(phone)
    assert h.blocking._lists == {} and h.blocking._online == {}


def test_noListNoWork():
    """With no online user blocking anyone, inbound stanzas are not even parsed."""
    h = BlockingHarness()
    h.login("alice")
    stanza = type("Stanza", (), {"getAttribute": lambda self, name: 1 / 0})()
    assert h.blocking.onInbound(stanza) is False


def test_userDeletedDropsCache():
    """userDeleted forgets the cached list."""
    h = BlockingHarness()
    alice = h.login("alice")
    h.block(alice, BOB)
    h.sm.userDeleted("alice")
    assert h.blocking._lists == {}


def test_selfNeverBlocked():
    """Blocking one's own domain does not cut the user off from their own resources."""
    h = BlockingHarness()
    desk, phone = h.login("alice", "desk"), h.login("alice", "phone")
    h.block(desk, "localhost")
    h.clear()
    h.send(phone, "<message to='alice@localhost/desk'><body>note</body></message>")
    assert [str(m.body) for m in messages(h.take(desk))] == ["note"]
