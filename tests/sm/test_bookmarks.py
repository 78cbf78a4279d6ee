"""
Tests for L{jabberd.sm.bookmarks}: PEP Native Bookmarks (XEP-0402) on the
session manager, and the XEP-0048 forms kept in step with it (section 5.3)
in private XML storage (XEP-0049) and in the legacy PEP node.
"""

from jabberd.ns import (NS_BOOKMARKS, NS_BOOKMARKS2, NS_BOOKMARKS2_COMPAT,
                        NS_BOOKMARKS2_COMPAT_PEP, NS_DISCO_INFO, NS_PRIVATE, NS_PUBSUB,
                        NS_PUBSUB_EVENT, NS_PUBSUB_OWNER, NS_PUBSUB_PUBLISH_OPTIONS)
from jabberd.pubsub.config import Limits
from jabberd.pubsub.events import payloadOf
from jabberd.sm.bookmarks import BookmarksHandler
from jabberd.sm.pep import PEPHandler
from jabberd.sm.private import PrivateHandler
from jabberd.stanza import parseElement
from tests.sm.helpers import ALICE, errorCondition, result
from tests.sm.test_pep import PEPHarness

ROOM = "coven@chat.shakespeare.lit"
OTHER = "orchard@chat.shakespeare.lit"

OPTIONS = (f"<publish-options><x xmlns='jabber:x:data' type='submit'>"
           f"<field var='FORM_TYPE' type='hidden'><value>{NS_PUBSUB_PUBLISH_OPTIONS}</value>"
           f"</field><field var='pubsub#persist_items'><value>true</value></field>"
           f"<field var='pubsub#max_items'><value>max</value></field>"
           f"<field var='pubsub#send_last_published_item'><value>never</value></field>"
           f"<field var='pubsub#access_model'><value>whitelist</value></field>"
           f"</x></publish-options>")


class BookmarksHarness(PEPHarness):
    """PEP with private storage and the bookmarks handler, as L{jabberd.sm.modules} attaches them."""

    def __init__(self, limit=1000, **options):
        PEPHarness.__init__(self)
        self.pep.limits = self.pep.engine.limits = Limits(maxItemsPerNode=limit)
        self.sm.addHandler(PrivateHandler())
        self.bookmarks = self.sm.addHandler(BookmarksHandler(**options))
        self.sm.checkRequirements()

    def login(self, user, resource="res", **kwargs):
        """A session whose caps want both bookmark nodes' notifications."""
        session = PEPHarness.login(self, user, resource, **kwargs)
        for node in (NS_BOOKMARKS2, NS_BOOKMARKS):
            self.caps.features.add((session.full, node + "+notify"))
        return session

    def publish402(self, session, room=ROOM, conference=None, options=OPTIONS):
        conference = conference or (f"<conference xmlns='{NS_BOOKMARKS2}' name='The Coven' "
                                    f"autojoin='true'><nick>alice</nick></conference>")
        return self.iq(session, f"<iq type='set'><pubsub xmlns='{NS_PUBSUB}'>"
                                f"<publish node='{NS_BOOKMARKS2}'><item id='{room}'>{conference}"
                                f"</item></publish>{options}</pubsub></iq>")

    def retract402(self, session, room=ROOM):
        return self.iq(session, f"<iq type='set'><pubsub xmlns='{NS_PUBSUB}'>"
                                f"<retract node='{NS_BOOKMARKS2}' notify='true'>"
                                f"<item id='{room}'/></retract></pubsub></iq>")

    def setPrivate(self, session, conferences, extra=""):
        return self.iq(session, f"<iq type='set'><query xmlns='{NS_PRIVATE}'>"
                                f"<storage xmlns='{NS_BOOKMARKS}'>{conferences}{extra}</storage>"
                                f"</query></iq>")

    def getPrivate(self, session):
        reply = self.iq(session, f"<iq type='get'><query xmlns='{NS_PRIVATE}'>"
                                 f"<storage xmlns='{NS_BOOKMARKS}'/></query></iq>")
        assert reply["type"] == "result", reply.toXml()
        return next(next(reply.elements(NS_PRIVATE, "query")).elements(NS_BOOKMARKS, "storage"))

    def publishLegacy(self, session, conferences):
        return self.iq(session, f"<iq type='set'><pubsub xmlns='{NS_PUBSUB}'>"
                                f"<publish node='{NS_BOOKMARKS}'><item id='current'>"
                                f"<storage xmlns='{NS_BOOKMARKS}'>{conferences}</storage>"
                                f"</item></publish></pubsub></iq>")

    def stored(self, node=NS_BOOKMARKS2, service=ALICE):
        """The node's items as item id -> payload element, or None without the node."""
        if result(self.storage.pubsub.getNode(service, node)) is None:
            return None
        return {item.id: payloadOf(item)
                for item in result(self.storage.pubsub.getItems(service, node))}


def conference(room, name="", autojoin="false", nick=None):
    nickElement = f"<nick>{nick}</nick>" if nick else ""
    nameAttribute = f" name='{name}'" if name else ""
    return (f"<conference jid='{room}'{nameAttribute} autojoin='{autojoin}'>"
            f"{nickElement}</conference>")


def storedPrivately(h, user):
    """What private storage holds for C{user}'s bookmarks, parsed."""
    return parseElement(result(h.storage.private.get(user, "{storage:bookmarks}storage")))


def notified(elements, node=NS_BOOKMARKS2):
    """(published item ids, retracted ids) of the event messages about C{node}."""
    published, retracted = [], []
    for message in elements:
        for event in message.elements(NS_PUBSUB_EVENT, "event"):
            for items in event.elements(NS_PUBSUB_EVENT, "items"):
                if items.getAttribute("node") == node:
                    published += [i["id"] for i in items.elements(NS_PUBSUB_EVENT, "item")]
                    retracted += [i["id"] for i in items.elements(NS_PUBSUB_EVENT, "retract")]
    return published, retracted


def rooms(storage):
    """Room JID -> (name, autojoin, nick) of a XEP-0048 <storage/>."""
    found = {}
    for c in storage.elements(NS_BOOKMARKS, "conference"):
        nicks = [str(n) for n in c.elements(NS_BOOKMARKS, "nick")]
        found[c["jid"]] = (c.getAttribute("name"), c.getAttribute("autojoin"), nicks)
    return found


def test_plainPEPWithPublishOptions():
    """A XEP-0402 publish with the section 3 options makes a max_items=max whitelist node; +notify resources hear it."""
    h = BookmarksHarness(limit=50)
    desk, phone = h.login("alice", "desk"), h.login("alice", "phone")
    assert h.publish402(desk)["type"] == "result"
    assert notified(h.take(phone)) == ([ROOM], [])
    record = result(h.storage.pubsub.getNode(ALICE, NS_BOOKMARKS2))
    assert (record.config.max_items, record.config.access_model) == (50, "whitelist")
    assert record.config.send_last_published_item == "never"
    assert h.publish402(desk, OTHER)["type"] == "result"
    assert sorted(h.stored()) == sorted([OTHER, ROOM])  # one item per room, none replaced


def test_retractNotifiesOwnerResources():
    """A retraction with notify reaches the owner's resources as a retract event."""
    h = BookmarksHarness()
    desk, phone = h.login("alice", "desk"), h.login("alice", "phone")
    h.publish402(desk)
    h.take(phone)
    assert h.retract402(desk)["type"] == "result"
    assert notified(h.take(phone)) == ([], [ROOM])
    assert h.stored() == {}


def test_privateSetBecomesItems():
    """A XEP-0048 private set publishes each room as a XEP-0402 item, with notifications."""
    h = BookmarksHarness()
    old, new = h.login("alice", "old"), h.login("alice", "new")
    reply = h.setPrivate(old, conference(ROOM, "The Coven", "true", "witch") + conference(OTHER))
    assert reply["type"] == "result"
    assert sorted(notified(h.take(new))[0]) == sorted([OTHER, ROOM])
    items = h.stored()
    assert sorted(items) == sorted([OTHER, ROOM])
    coven = items[ROOM]
    assert (coven.getAttribute("name"), coven.getAttribute("autojoin")) == ("The Coven", "true")
    assert [str(n) for n in coven.elements(NS_BOOKMARKS2, "nick")] == ["witch"]
    record = result(h.storage.pubsub.getNode(ALICE, NS_BOOKMARKS2))
    assert record.config.access_model == "whitelist"


def test_privateSetRetractsRemovedAndSkipsUnchanged():
    """A second list retracts the rooms it leaves out and republishes only what changed."""
    h = BookmarksHarness()
    old, new = h.login("alice", "old"), h.login("alice", "new")
    h.setPrivate(old, conference(ROOM) + conference(OTHER))
    h.take(new)
    h.setPrivate(old, conference(ROOM, autojoin="1"))
    assert notified(h.take(new)) == ([ROOM], [OTHER])
    h.setPrivate(old, conference(ROOM, autojoin="true"))
    assert notified(h.take(new)) == ([], [])  # the same list: nothing written


def test_privateGetAnsweredFromNode():
    """A XEP-0402 client's bookmark shows in a private get, beside the <url/> stored there."""
    h = BookmarksHarness()
    old, new = h.login("alice", "old"), h.login("alice", "new")
    h.setPrivate(old, "", extra="<url name='Docs' url='https://example.org/'/>")
    h.publish402(new)
    storage = h.getPrivate(old)
    assert rooms(storage) == {ROOM: ("The Coven", "true", ["alice"])}
    assert [u["url"] for u in storage.elements(NS_BOOKMARKS, "url")] == ["https://example.org/"]


def test_storedBookmarksConvertedOnFirstGet():
    """Bookmarks stored privately before the node existed are published at the first get."""
    h = BookmarksHarness()
    result(h.storage.private.set("alice", "{storage:bookmarks}storage",
                                 f"<storage xmlns='{NS_BOOKMARKS}'>{conference(ROOM)}</storage>"))
    alice = h.login("alice")
    assert rooms(h.getPrivate(alice)) == {ROOM: (None, "false", [])}
    assert list(h.stored()) == [ROOM]


def test_legacyNodeWrittenFromNode():
    """Each XEP-0402 change rewrites the legacy node's one item, which +notify resources hear."""
    h = BookmarksHarness()
    desk, phone = h.login("alice", "desk"), h.login("alice", "phone")
    h.publish402(desk)
    assert notified(h.take(phone), NS_BOOKMARKS) == (["current"], [])
    legacy = h.stored(NS_BOOKMARKS)
    assert rooms(legacy["current"]) == {ROOM: ("The Coven", "true", ["alice"])}
    h.retract402(desk)
    assert rooms(h.stored(NS_BOOKMARKS)["current"]) == {}
    record = result(h.storage.pubsub.getNode(ALICE, NS_BOOKMARKS))
    assert record.config.access_model == "whitelist"


def test_legacyPublishBecomesItemsWithoutLoop():
    """A list published to the legacy node becomes items, and each node is written once."""
    h = BookmarksHarness()
    old, new = h.login("alice", "old"), h.login("alice", "new")
    assert h.publishLegacy(old, conference(ROOM) + conference(OTHER))["type"] == "result"
    got = h.take(new)
    assert sorted(notified(got)[0]) == sorted([OTHER, ROOM])
    assert notified(got, NS_BOOKMARKS) == (["current"], [])  # the client's, not rewritten
    h.publishLegacy(old, conference(OTHER))
    got = h.take(new)
    assert notified(got) == ([], [ROOM])
    assert notified(got, NS_BOOKMARKS) == (["current"], [])


def test_privateSetWritesLegacyNodeOnce():
    """A private set ends with one legacy item and no conversion back (no loop)."""
    h = BookmarksHarness()
    old, new = h.login("alice", "old"), h.login("alice", "new")
    h.setPrivate(old, conference(ROOM) + conference(OTHER))
    got = h.take(new)
    assert len(notified(got, NS_BOOKMARKS)[0]) == 1
    assert len(notified(got)[0]) == 2
    assert sorted(rooms(h.stored(NS_BOOKMARKS)["current"])) == sorted([OTHER, ROOM])
    assert h.bookmarks.written == {} and len(h.bookmarks._locks) == 0


def test_extensionsKeptThroughOldForms():
    """A XEP-0048 update of a room keeps the <extensions/> of its XEP-0402 item."""
    h = BookmarksHarness()
    alice = h.login("alice")
    h.publish402(alice, conference=f"<conference xmlns='{NS_BOOKMARKS2}'><extensions>"
                                   f"<state xmlns='urn:example'/></extensions></conference>")
    h.setPrivate(alice, conference(ROOM, "Renamed"))
    coven = h.stored()[ROOM]
    assert coven["name"] == "Renamed"
    extensions = next(coven.elements(NS_BOOKMARKS2, "extensions"))
    assert [e.uri for e in extensions.elements()] == ["urn:example"]


def test_malformedPrivateBookmarksRefused():
    """A conference with no or a bad jid, or a bad autojoin, is refused and nothing changes."""
    h = BookmarksHarness()
    alice = h.login("alice")
    h.setPrivate(alice, conference(ROOM))
    for bad, condition in (("<conference name='x'/>", "jid-malformed"),
                           (conference("not a jid@@"), "jid-malformed"),
                           (conference(ROOM + "/nick"), "jid-malformed"),
                           (conference(OTHER, autojoin="maybe"), "bad-request"),
                           (conference(ROOM) + conference(ROOM), "bad-request")):
        reply = h.setPrivate(alice, bad)
        assert (reply["type"], errorCondition(reply)) == ("error", condition), bad
    assert list(h.stored()) == [ROOM]
    assert rooms(storedPrivately(h, "alice")) == {ROOM: (None, "false", [])}


def test_malformedItemsRefused():
    """A XEP-0402 publish of another payload, or with an id that is no room JID, is refused."""
    h = BookmarksHarness()
    alice = h.login("alice")
    wrong = h.publish402(alice, conference=f"<conference xmlns='{NS_BOOKMARKS}' jid='{ROOM}'/>")
    assert errorCondition(wrong) == "bad-request"
    for room in ("nobody", f"{ROOM}/nick", "a@@b"):
        assert errorCondition(h.publish402(alice, room)) == "jid-malformed", room
    legacy = h.publishLegacy(alice, "<conference autojoin='true'/>")
    assert errorCondition(legacy) == "jid-malformed"
    assert h.stored() in (None, {}) and h.stored(NS_BOOKMARKS) in (None, {})


def test_tooManyBookmarksRefusedNothingLost():
    """Past the node's item limit a new room is refused (policy-violation); no bookmark is dropped."""
    h = BookmarksHarness(limit=2)
    alice = h.login("alice")
    h.publish402(alice, ROOM)
    h.publish402(alice, OTHER)
    third = "third@chat.shakespeare.lit"
    assert errorCondition(h.publish402(alice, third)) == "policy-violation"
    assert h.publish402(alice, ROOM)["type"] == "result"  # replacing one is fine
    reply = h.setPrivate(alice, conference(ROOM) + conference(OTHER) + conference(third))
    assert errorCondition(reply) == "policy-violation"
    reply = h.publishLegacy(alice, conference(ROOM) + conference(OTHER) + conference(third))
    assert errorCondition(reply) == "policy-violation"
    assert sorted(h.stored()) == sorted([OTHER, ROOM])
    assert result(h.storage.private.get("alice", "{storage:bookmarks}storage")) is None


def test_replacingListWithinLimit():
    """A private list of other rooms at the limit fits: the rooms left out go first."""
    h = BookmarksHarness(limit=2)
    alice = h.login("alice")
    h.setPrivate(alice, conference(ROOM) + conference(OTHER))
    reply = h.setPrivate(alice, conference("a@chat.example") + conference("b@chat.example"))
    assert reply["type"] == "result"
    assert sorted(h.stored()) == ["a@chat.example", "b@chat.example"]


def features(h, session):
    reply = h.iq(session, f"<iq type='get' to='{ALICE}'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    query = next(reply.elements(NS_DISCO_INFO, "query"))
    return {f["var"] for f in query.elements(NS_DISCO_INFO, "feature")}


def test_discoAdvertisesCompatibility():
    """The account's disco#info lists #compat and #compat-pep as configured, and PEP config-node-max."""
    both = BookmarksHarness()
    found = features(both, both.login("alice"))
    assert {NS_BOOKMARKS2_COMPAT, NS_BOOKMARKS2_COMPAT_PEP} <= found
    assert NS_PUBSUB + "#config-node-max" in found  # what lets clients ask for max_items=max
    onlyPrivate = BookmarksHarness(compatPEP=False)
    found = features(onlyPrivate, onlyPrivate.login("alice"))
    assert NS_BOOKMARKS2_COMPAT in found and NS_BOOKMARKS2_COMPAT_PEP not in found


def test_withoutCompatPEPLegacyNodeLeftAlone():
    """With compat_pep off the legacy node is neither written nor read."""
    h = BookmarksHarness(compatPEP=False)
    alice = h.login("alice")
    h.publish402(alice)
    assert h.stored(NS_BOOKMARKS) is None
    h.publishLegacy(alice, conference(OTHER))
    assert list(h.stored()) == [ROOM]


def test_withoutCompatPrivateStorageIsPlain():
    """With compat off a private set is stored as given and the node is untouched."""
    h = BookmarksHarness(compat=False)
    alice = h.login("alice")
    h.publish402(alice)
    assert h.setPrivate(alice, conference(OTHER))["type"] == "result"
    assert list(h.stored()) == [ROOM]
    assert rooms(h.getPrivate(alice)) == {OTHER: (None, "false", [])}


def test_nodeDeletedEmptiesLegacyList():
    """Deleting the XEP-0402 node leaves an empty legacy list, and a private get sees none."""
    h = BookmarksHarness()
    alice = h.login("alice")
    h.publish402(alice)
    reply = h.iq(alice, f"<iq type='set'><pubsub xmlns='{NS_PUBSUB_OWNER}'>"
                        f"<delete node='{NS_BOOKMARKS2}'/></pubsub></iq>")
    assert reply["type"] == "result"
    assert rooms(h.stored(NS_BOOKMARKS)["current"]) == {}


def test_attachedFromConfig():
    """The module list attaches the handler with the [bookmarks] options."""
    from jabberd.config import parse as parseConfig
    from jabberd.sm.modules import handlerFactories
    config = parseConfig("[bookmarks]\ncompat_pep = no\n")
    made = [factory() for factory in handlerFactories(config)]
    handler = next(h for h in made if isinstance(h, BookmarksHandler))
    assert (handler.compat, handler.compatPEP) == (True, False)
    assert made.index(handler) > next(i for i, h in enumerate(made) if isinstance(h, PEPHandler))


def test_ownLegacyItemNotConvertedBack():
    """The legacy item the server wrote is not converted back, so a room published meanwhile stays."""
    from jabberd.storage.records import PubSubItem
    h = BookmarksHarness()
    alice = h.login("alice")
    h.publish402(alice)
    legacy = result(h.storage.pubsub.lastItem(ALICE, NS_BOOKMARKS))
    # As if the server had just written it and a client's publication of
    # OTHER were stored before the legacy node's change is converted.
    h.bookmarks.written[ALICE] = legacy.xml
    payload = f"<conference xmlns='{NS_BOOKMARKS2}' autojoin='false'/>"
    result(h.storage.pubsub.publish(ALICE, NS_BOOKMARKS2, PubSubItem(payload, OTHER, ALICE)))
    h.bookmarks.pepChanged(ALICE, NS_BOOKMARKS)
    assert sorted(h.stored()) == sorted([OTHER, ROOM])
    assert h.bookmarks.written == {}
    h.publishLegacy(alice, conference(ROOM))  # a client's list is converted
    assert list(h.stored()) == [ROOM]
