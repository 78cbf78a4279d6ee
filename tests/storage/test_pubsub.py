"""
The PubSub store (XEP-0060 nodes, items, affiliations and subscriptions,
and PEP of XEP-0163 on the same engine): one set of tests run on the
memory store, on SQLite and on PostgreSQL.
"""

import time

from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jabberd.storage.interfaces import IPubSubStore
from jabberd.storage.memory.pubsub import MemoryPubSubStore
from jabberd.storage.records import (MAX, NodeConfig, NodeExists, NodeNotFound,
                                     PubSubItem, PubSubSubscription)
from jabberd.storage.sql.pubsub import SQLPubSubStore
from tests.storage.databases import PostgreSQLDatabaseMixin, SQLiteDatabaseMixin

ALICE = "alice@example.com"
BOB = "bob@example.com"
SERVICE = "pubsub.example.com"
TUNE = "http://jabber.org/protocol/tune"
BOOKMARKS = "urn:xmpp:bookmarks:1"


def item(n, id=None, publisher=ALICE):
    return PubSubItem(xml=f"<tune xmlns='{TUNE}'><title>song {n} ✓</title></tune>", id=id,
                      publisher=publisher, stamp=2000.0 + n)


class PubSubStoreTestsMixin:
    """Every behaviour of L{IPubSubStore}; C{makeStore()} returns an empty store."""

    def setUp(self):
        self.store = self.makeStore()

    def createNode(self, node=TUNE, service=ALICE, **config):
        return self.store.createNode(service, node, NodeConfig(**config))

    @defer.inlineCallbacks
    def publishMany(self, count, node=TUNE, service=ALICE):
        ids = []
        for n in range(count):
            ids.append((yield self.store.publish(service, node, item(n, id=f"i{n}"))))
        return ids

    @defer.inlineCallbacks
    def itemIds(self, node=TUNE, service=ALICE, **kwargs):
        return [i.id for i in (yield self.store.getItems(service, node, **kwargs))]

    def test_interface(self):
        """The store provides IPubSubStore."""
        self.assertTrue(verifyObject(IPubSubStore, self.store))

    # nodes

    @defer.inlineCallbacks
    def test_services(self):
        """servicesWithNodes() names the services with at least one node."""
        self.assertEqual((yield self.store.servicesWithNodes()), set())
        yield self.store.createNode(ALICE, BOOKMARKS, NodeConfig())
        yield self.store.createNode(SERVICE, "news", NodeConfig())
        yield self.store.deleteNode(SERVICE, "news")
        self.assertEqual((yield self.store.servicesWithNodes()), {ALICE})

    @defer.inlineCallbacks
    def test_createNode(self):
        """A created node comes back with its configuration, extra fields included."""
        before = time.time()
        config = NodeConfig(access_model="whitelist", max_items=MAX, title="Bookmarks",
                            extra={"pubsub#type": BOOKMARKS, "pubsub#langs": ["en", "de"]})
        created = yield self.store.createNode(ALICE, BOOKMARKS, config)
        node = yield self.store.getNode(ALICE, BOOKMARKS)
        self.assertEqual(node, created)
        self.assertEqual((node.service, node.node, node.config), (ALICE, BOOKMARKS, config))
        self.assertTrue(before <= node.created <= time.time())

    @defer.inlineCallbacks
    def test_defaults(self):
        """A default NodeConfig stores and loads as the XEP-0163 defaults."""
        yield self.createNode()
        config = (yield self.store.getNode(ALICE, TUNE)).config
        self.assertEqual((config.access_model, config.max_items, config.persist_items,
                          config.send_last_published_item),
                         ("presence", 1, True, "on_sub_and_presence"))

    @defer.inlineCallbacks
    def test_createNodeTwice(self):
        """Creating an existing node fails with NodeExists and keeps the first configuration."""
        yield self.createNode(title="first")
        yield self.assertFailure(self.createNode(title="second"), NodeExists)
        self.assertEqual((yield self.store.getNode(ALICE, TUNE)).config.title, "first")

    @defer.inlineCallbacks
    def test_createNodeWithOwner(self):
        """createNode with an owner makes it the node's owner."""
        yield self.store.createNode(SERVICE, "news", NodeConfig(), owner=BOB)
        self.assertEqual((yield self.store.getAffiliations(SERVICE, "news")), {BOB: "owner"})

    @defer.inlineCallbacks
    def test_sameNodeOtherService(self):
        """The same node name at two services is two nodes."""
        yield self.createNode(service=ALICE, title="alice")
        yield self.createNode(service=BOB, title="bob")
        yield self.store.publish(ALICE, TUNE, item(1, id="a"))
        self.assertEqual((yield self.store.getNode(BOB, TUNE)).config.title, "bob")
        self.assertEqual((yield self.itemIds(service=BOB)), [])

    @defer.inlineCallbacks
    def test_getNodeUnknown(self):
        """An unknown node is None."""
        self.assertIsNone((yield self.store.getNode(ALICE, TUNE)))

    @defer.inlineCallbacks
    def test_listAndCountNodes(self):
        """listNodes gives a service's nodes oldest first; countNodes counts them."""
        for name in ("b", "c", "a"):
            yield self.createNode(node=name)
        yield self.createNode(node="other", service=BOB)
        self.assertEqual([n.node for n in (yield self.store.listNodes(ALICE))], ["b", "c", "a"])
        self.assertEqual((yield self.store.countNodes(ALICE)), 3)
        self.assertEqual((yield self.store.countNodes("nobody@example.com")), 0)

    @defer.inlineCallbacks
    def test_configureNode(self):
        """configureNode replaces the configuration."""
        yield self.createNode()
        config = NodeConfig(access_model="open", notify_retract=False, extra={"x": "y"})
        yield self.store.configureNode(ALICE, TUNE, config)
        self.assertEqual((yield self.store.getNode(ALICE, TUNE)).config, config)

    @defer.inlineCallbacks
    def test_configureTrims(self):
        """Lowering max_items drops the oldest items beyond it."""
        yield self.createNode(max_items=10)
        yield self.publishMany(5)
        yield self.store.configureNode(ALICE, TUNE, NodeConfig(max_items=2))
        self.assertEqual((yield self.itemIds()), ["i4", "i3"])

    @defer.inlineCallbacks
    def test_configCopied(self):
        """Changing a config after creating or reading the node does not change the stored one."""
        config = NodeConfig(extra={"k": "v"})
        yield self.store.createNode(ALICE, TUNE, config)
        config.extra["k"] = "changed"
        node = yield self.store.getNode(ALICE, TUNE)
        node.config.title = "changed"
        again = yield self.store.getNode(ALICE, TUNE)
        self.assertEqual((again.config.extra, again.config.title), ({"k": "v"}, ""))

    @defer.inlineCallbacks
    def test_deleteNode(self):
        """Deleting a node removes it with its items, affiliations and subscriptions."""
        yield self.createNode()
        yield self.publishMany(1)
        yield self.store.setAffiliation(ALICE, TUNE, BOB, "member")
        yield self.store.subscribe(ALICE, TUNE, BOB)
        yield self.store.deleteNode(ALICE, TUNE)
        self.assertIsNone((yield self.store.getNode(ALICE, TUNE)))
        self.assertEqual((yield self.store.getSubscriberSubscriptions(BOB)), [])
        yield self.createNode()
        self.assertEqual((yield self.itemIds()), [])
        self.assertEqual((yield self.store.getAffiliations(ALICE, TUNE)), {})
        self.assertEqual((yield self.store.getSubscriptions(ALICE, TUNE)), [])

    @defer.inlineCallbacks
    def test_unknownNode(self):
        """Every operation on an unknown node fails with NodeNotFound."""
        s = self.store
        for call in (lambda: s.configureNode(ALICE, TUNE, NodeConfig()),
                     lambda: s.deleteNode(ALICE, TUNE),
                     lambda: s.publish(ALICE, TUNE, item(1)),
                     lambda: s.getItems(ALICE, TUNE), lambda: s.lastItem(ALICE, TUNE),
                     lambda: s.retract(ALICE, TUNE, ["x"]), lambda: s.purge(ALICE, TUNE),
                     lambda: s.setAffiliation(ALICE, TUNE, BOB, "member"),
                     lambda: s.getAffiliations(ALICE, TUNE),
                     lambda: s.subscribe(ALICE, TUNE, BOB),
                     lambda: s.unsubscribe(ALICE, TUNE, BOB),
                     lambda: s.getSubscriptions(ALICE, TUNE)):
            yield self.assertFailure(call(), NodeNotFound)

    # items

    @defer.inlineCallbacks
    def test_publishGeneratedId(self):
        """An item without id gets a generated, distinct one."""
        yield self.createNode(max_items=MAX)
        first = yield self.store.publish(ALICE, TUNE, item(1))
        second = yield self.store.publish(ALICE, TUNE, item(2))
        self.assertNotEqual(first, second)
        self.assertTrue(first and second)
        self.assertEqual((yield self.itemIds()), [second, first])

    @defer.inlineCallbacks
    def test_publishGivenId(self):
        """An item with an id keeps it, and its fields come back as published."""
        yield self.createNode()
        self.assertEqual((yield self.store.publish(ALICE, TUNE, item(1, id="current"))),
                         "current")
        self.assertEqual((yield self.store.getItems(ALICE, TUNE)), [item(1, id="current")])

    @defer.inlineCallbacks
    def test_publishStampDefaultsToNow(self):
        """An item published without a stamp is stamped with the current time."""
        yield self.createNode()
        before = time.time()
        yield self.store.publish(ALICE, TUNE, PubSubItem("<x/>", id="a"))
        stamp = (yield self.store.lastItem(ALICE, TUNE)).stamp
        self.assertTrue(before <= stamp <= time.time())

    @defer.inlineCallbacks
    def test_publishReplaces(self):
        """Publishing an existing id replaces that item, which becomes the newest."""
        yield self.createNode(max_items=MAX)
        yield self.publishMany(3)
        yield self.store.publish(ALICE, TUNE, item(9, id="i0", publisher=BOB))
        self.assertEqual((yield self.itemIds()), ["i0", "i2", "i1"])
        replaced = (yield self.store.getItems(ALICE, TUNE, ids=["i0"]))[0]
        self.assertEqual(replaced, item(9, id="i0", publisher=BOB))

    @defer.inlineCallbacks
    def test_maxItems(self):
        """Publishing beyond max_items drops the oldest items."""
        yield self.createNode(max_items=3)
        yield self.publishMany(5)
        self.assertEqual((yield self.itemIds()), ["i4", "i3", "i2"])

    @defer.inlineCallbacks
    def test_publishesAtOnce(self):
        """Publishes issued together are all stored in order, trimmed to max_items; one to a missing node fails alone."""
        yield self.createNode(max_items=3)
        yield self.createNode(node=BOOKMARKS, max_items=MAX)
        issued = [self.store.publish(ALICE, TUNE, item(n, id=f"i{n}")) for n in range(5)]
        issued.append(self.store.publish(ALICE, "urn:missing", item(5, id="lost")))
        issued += [self.store.publish(ALICE, BOOKMARKS, item(n, id=f"b{n}")) for n in range(6, 8)]
        issued.append(self.store.publish(ALICE, TUNE, item(8, id="i1")))
        outcomes = yield defer.DeferredList(issued, consumeErrors=True)
        self.assertEqual([ok for ok, _ in outcomes], [True] * 5 + [False] + [True] * 3)
        outcomes[5][1].trap(NodeNotFound)
        self.assertEqual([value for ok, value in outcomes if ok],
                         ["i0", "i1", "i2", "i3", "i4", "b6", "b7", "i1"])
        self.assertEqual((yield self.itemIds()), ["i1", "i4", "i3"])
        self.assertEqual((yield self.itemIds(node=BOOKMARKS)), ["b7", "b6"])

    @defer.inlineCallbacks
    def test_maxItemsOne(self):
        """With the PEP default of one item, the node holds only the last published."""
        yield self.createNode()
        yield self.publishMany(3)
        self.assertEqual((yield self.itemIds()), ["i2"])

    @defer.inlineCallbacks
    def test_maxItemsMax(self):
        """max_items "max" keeps every item."""
        yield self.createNode(max_items=MAX)
        yield self.publishMany(12)
        self.assertEqual(len((yield self.itemIds())), 12)

    @defer.inlineCallbacks
    def test_getItemsByIdAndMax(self):
        """getItems selects by ids and limits to the newest maxItems, newest first."""
        yield self.createNode(max_items=MAX)
        yield self.publishMany(5)
        self.assertEqual((yield self.itemIds(ids=["i1", "i3", "nope"])), ["i3", "i1"])
        self.assertEqual((yield self.itemIds(maxItems=2)), ["i4", "i3"])
        self.assertEqual((yield self.itemIds(ids=[])), [])

    @defer.inlineCallbacks
    def test_lastItem(self):
        """lastItem is the newest item, or None for an empty node."""
        yield self.createNode(max_items=MAX)
        self.assertIsNone((yield self.store.lastItem(ALICE, TUNE)))
        yield self.publishMany(3)
        self.assertEqual((yield self.store.lastItem(ALICE, TUNE)), item(2, id="i2"))

    @defer.inlineCallbacks
    def test_retract(self):
        """retract deletes the items and reports the ids that existed."""
        yield self.createNode(max_items=MAX)
        yield self.publishMany(4)
        self.assertEqual((yield self.store.retract(ALICE, TUNE, ["i1", "nope", "i3"])),
                         ["i1", "i3"])
        self.assertEqual((yield self.itemIds()), ["i2", "i0"])
        self.assertEqual((yield self.store.retract(ALICE, TUNE, ["i1"])), [])

    @defer.inlineCallbacks
    def test_purge(self):
        """purge deletes every item of the node and keeps the node."""
        yield self.createNode(max_items=MAX)
        yield self.publishMany(3)
        self.assertEqual((yield self.store.purge(ALICE, TUNE)), 3)
        self.assertEqual((yield self.itemIds()), [])
        self.assertIsNotNone((yield self.store.getNode(ALICE, TUNE)))

    # affiliations

    @defer.inlineCallbacks
    def test_affiliations(self):
        """Affiliations are set, changed and removed with "none"."""
        yield self.createNode()
        yield self.store.setAffiliation(ALICE, TUNE, ALICE, "owner")
        yield self.store.setAffiliation(ALICE, TUNE, BOB, "member")
        yield self.store.setAffiliation(ALICE, TUNE, "eve@example.com", "outcast")
        yield self.store.setAffiliation(ALICE, TUNE, BOB, "publisher")
        yield self.store.setAffiliation(ALICE, TUNE, "eve@example.com", "none")
        self.assertEqual((yield self.store.getAffiliations(ALICE, TUNE)),
                         {ALICE: "owner", BOB: "publisher"})

    @defer.inlineCallbacks
    def test_entityAffiliations(self):
        """getEntityAffiliations gives one entity's affiliations at one service."""
        for name in ("a", "b", "c"):
            yield self.createNode(node=name, service=SERVICE)
        yield self.createNode(node="a", service=ALICE)
        yield self.store.setAffiliation(SERVICE, "a", BOB, "owner")
        yield self.store.setAffiliation(SERVICE, "c", BOB, "member")
        yield self.store.setAffiliation(ALICE, "a", BOB, "publisher")
        self.assertEqual((yield self.store.getEntityAffiliations(SERVICE, BOB)),
                         {"a": "owner", "c": "member"})

    # subscriptions

    @defer.inlineCallbacks
    def test_subscribe(self):
        """A subscription comes back with its state, options and a subscription id."""
        yield self.createNode()
        subscription = yield self.store.subscribe(ALICE, TUNE, BOB + "/phone", "pending",
                                                  {"pubsub#digest": False})
        self.assertTrue(subscription.subid)
        self.assertEqual((yield self.store.getSubscriptions(ALICE, TUNE)), [PubSubSubscription(
            ALICE, TUNE, BOB + "/phone", "pending", subscription.subid,
            {"pubsub#digest": False})])

    @defer.inlineCallbacks
    def test_subscribeAgain(self):
        """Subscribing again updates state and options and keeps the subscription id."""
        yield self.createNode()
        first = yield self.store.subscribe(ALICE, TUNE, BOB, "pending")
        second = yield self.store.subscribe(ALICE, TUNE, BOB, "subscribed", {"a": "b"})
        self.assertEqual(second.subid, first.subid)
        [stored] = yield self.store.getSubscriptions(ALICE, TUNE)
        self.assertEqual((stored.state, stored.options, stored.subid),
                         ("subscribed", {"a": "b"}, first.subid))

    @defer.inlineCallbacks
    def test_unsubscribe(self):
        """unsubscribe removes the subscription and reports whether there was one."""
        yield self.createNode()
        yield self.store.subscribe(ALICE, TUNE, BOB)
        yield self.store.subscribe(ALICE, TUNE, "carol@example.com")
        self.assertTrue((yield self.store.unsubscribe(ALICE, TUNE, BOB)))
        self.assertFalse((yield self.store.unsubscribe(ALICE, TUNE, BOB)))
        self.assertEqual([s.jid for s in (yield self.store.getSubscriptions(ALICE, TUNE))],
                         ["carol@example.com"])

    @defer.inlineCallbacks
    def test_subscriberSubscriptions(self):
        """A subscriber's subscriptions are listed across services, or at one service."""
        yield self.createNode(service=ALICE)
        yield self.createNode(service=SERVICE, node="news")
        yield self.createNode(service=SERVICE, node="blog")
        for service, node in ((ALICE, TUNE), (SERVICE, "news"), (SERVICE, "blog")):
            yield self.store.subscribe(service, node, BOB)
        yield self.store.subscribe(SERVICE, "news", "carol@example.com")
        everywhere = yield self.store.getSubscriberSubscriptions(BOB)
        self.assertEqual([(s.service, s.node) for s in everywhere],
                         [(ALICE, TUNE), (SERVICE, "news"), (SERVICE, "blog")])
        atService = yield self.store.getSubscriberSubscriptions(BOB, SERVICE)
        self.assertEqual([s.node for s in atService], ["news", "blog"])

    # services

    @defer.inlineCallbacks
    def test_removeService(self):
        """removeService deletes every node of the service with its data, and no other's."""
        for name in ("a", "b"):
            yield self.createNode(node=name, max_items=MAX)
            yield self.publishMany(2, node=name)
            yield self.store.subscribe(ALICE, name, BOB)
            yield self.store.setAffiliation(ALICE, name, BOB, "member")
        yield self.createNode(service=BOB)
        yield self.store.publish(BOB, TUNE, item(1, id="kept"))
        yield self.store.subscribe(BOB, TUNE, BOB)
        yield self.store.removeService(ALICE)
        self.assertEqual((yield self.store.listNodes(ALICE)), [])
        self.assertEqual((yield self.store.countNodes(ALICE)), 0)
        self.assertEqual([(s.service, s.node) for s in
                          (yield self.store.getSubscriberSubscriptions(BOB))], [(BOB, TUNE)])
        self.assertEqual((yield self.itemIds(service=BOB)), ["kept"])
        yield self.createNode(node="a")
        self.assertEqual((yield self.itemIds(node="a")), [])
        self.assertEqual((yield self.store.getAffiliations(ALICE, "a")), {})


class MemoryPubSubTests(PubSubStoreTestsMixin, unittest.TestCase):
    """The PubSub store in memory."""

    def makeStore(self):
        return MemoryPubSubStore()


class SQLitePubSubTests(SQLiteDatabaseMixin, PubSubStoreTestsMixin, unittest.TestCase):
    """The PubSub store on an SQLite file."""

    def makeStore(self):
        return SQLPubSubStore(self.openDatabase())

    @defer.inlineCallbacks
    def test_publishCommitted(self):
        """When publish's Deferred fires, the item is committed: another connection sees it."""
        yield self.createNode(max_items=MAX)
        yield self.publishMany(2)
        self.assertEqual(self.countCommitted("pubsub_items"), 2)

    @defer.inlineCallbacks
    def test_survivesReopen(self):
        """Nodes, items, affiliations and subscriptions are there after reopening the database."""
        yield self.store.createNode(ALICE, TUNE, NodeConfig(max_items=5), owner=ALICE)
        yield self.publishMany(2)
        subscription = yield self.store.subscribe(ALICE, TUNE, BOB)
        yield self.store.database.close()
        self.store = self.makeStore()
        self.assertEqual((yield self.store.getNode(ALICE, TUNE)).config, NodeConfig(max_items=5))
        self.assertEqual((yield self.itemIds()), ["i1", "i0"])
        self.assertEqual((yield self.store.getAffiliations(ALICE, TUNE)), {ALICE: "owner"})
        self.assertEqual((yield self.store.getSubscriptions(ALICE, TUNE)), [subscription])


class PostgreSQLPubSubTests(PostgreSQLDatabaseMixin, PubSubStoreTestsMixin,
                            unittest.TestCase):
    """The PubSub store on PostgreSQL."""

    def makeStore(self):
        return SQLPubSubStore(self.openDatabase())

    @defer.inlineCallbacks
    def test_concurrentPublish(self):
        """Concurrent publishes from several worker threads never leave more than max_items."""
        yield self.createNode(max_items=3)
        yield defer.gatherResults([self.store.publish(ALICE, TUNE, item(n, id=f"c{n}"))
                                   for n in range(30)])
        self.assertEqual(len((yield self.itemIds())), 3)
