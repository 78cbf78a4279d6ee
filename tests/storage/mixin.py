"""
The tests of the storage interfaces (L{jabberd.storage.interfaces}), one
mixin per interface, run on every implementation: mix L{StorageTestsMixin}
(all of them) or single ones into a L{twisted.trial.unittest.TestCase}
and define C{makeStorage()}, which returns a fresh, empty L{IStorage}.
"""

import time

from twisted.internet import defer
from zope.interface.verify import verifyObject

from jabberd.storage import OfflineMessage, RosterItem, UserExists
from jabberd.storage.records import ArchivedMessage
from jabberd.storage.interfaces import (IAccountStore, IArchiveStore, IPubSubStore, ILastActivityStore,
                                        IOfflineStore, IPrivateStore,
                                        IRosterStore, IStorage, IVCardStore,
                                        storeNames)

CREDS = {
    "SCRAM-SHA-256": {"salt": "c2FsdA==", "iterations": 4096,
                      "storedKey": "c3RvcmVk", "serverKey": "c2VydmVy"},
    "plain": "sécret",
}

MESSAGE = "<message xmlns='jabber:client' to='alice@example.com'><body>héllo ✓</body></message>"


def item(jid, **kwargs):
    return RosterItem(jid=jid, **kwargs)


class StoreTestsBase:
    """
    Opens C{self.storage = self.makeStorage()} for each test and closes it
    afterwards.
    """

    def setUp(self):
        self.storage = self.makeStorage()
        self.addCleanup(self.storage.close)

    @defer.inlineCallbacks
    def fillUser(self, username):
        """Give C{username} an account and one of every kind of data."""
        s = self.storage
        yield s.accounts.create(username, CREDS)
        yield s.roster.set(username, item("bob@example.com", groups=["Friends"]))
        yield s.roster.addPending(username, "carol@example.com", "<presence type='subscribe'/>")
        yield s.offline.store(username, MESSAGE)
        yield s.vcards.set(username, "<vCard xmlns='vcard-temp'/>")
        yield s.private.set(username, "{storage:bookmarks}storage", "<storage/>")
        yield s.last.set(username, 1000.0, "gone")


class AccountStoreTests(StoreTestsBase):
    """The L{IAccountStore} (C{storage.accounts})."""

    @defer.inlineCallbacks
    def test_createUser(self):
        """A created user exists and the unknown one does not."""
        yield self.storage.accounts.create("alice", CREDS)
        self.assertTrue((yield self.storage.accounts.exists("alice")))
        self.assertFalse((yield self.storage.accounts.exists("bob")))

    @defer.inlineCallbacks
    def test_createUserTwice(self):
        """Creating a taken username fails with UserExists and keeps the first credentials."""
        yield self.storage.accounts.create("alice", CREDS)
        yield self.assertFailure(self.storage.accounts.create("alice", {"plain": "other"}), UserExists)
        self.assertEqual((yield self.storage.accounts.get("alice")), CREDS)

    @defer.inlineCallbacks
    def test_getCredentials(self):
        """The credentials dict comes back as it was stored, nested values and non-ASCII included."""
        yield self.storage.accounts.create("alice", CREDS)
        self.assertEqual((yield self.storage.accounts.get("alice")), CREDS)

    @defer.inlineCallbacks
    def test_getCredentialsUnknown(self):
        """Credentials of an unknown user are None."""
        self.assertIsNone((yield self.storage.accounts.get("nobody")))

    @defer.inlineCallbacks
    def test_credentialsAreCopies(self):
        """Changing a returned credentials dict does not change the stored one."""
        yield self.storage.accounts.create("alice", CREDS)
        creds = yield self.storage.accounts.get("alice")
        creds["plain"] = "changed"
        self.assertEqual((yield self.storage.accounts.get("alice"))["plain"], "sécret")

    @defer.inlineCallbacks
    def test_setCredentials(self):
        """accounts.set replaces the credentials of an existing user and reports True."""
        yield self.storage.accounts.create("alice", CREDS)
        self.assertTrue((yield self.storage.accounts.set("alice", {"plain": "new"})))
        self.assertEqual((yield self.storage.accounts.get("alice")), {"plain": "new"})

    @defer.inlineCallbacks
    def test_setCredentialsUnknown(self):
        """accounts.set for an unknown user reports False and creates no account."""
        self.assertFalse((yield self.storage.accounts.set("nobody", CREDS)))
        self.assertFalse((yield self.storage.accounts.exists("nobody")))

    @defer.inlineCallbacks
    def test_listUsers(self):
        """accounts.list returns every username, sorted."""
        for name in ("carol", "alice", "bob"):
            yield self.storage.accounts.create(name, CREDS)
        self.assertEqual((yield self.storage.accounts.list()), ["alice", "bob", "carol"])

    @defer.inlineCallbacks
    def test_deleteAccount(self):
        """accounts.delete removes the account and reports whether there was one."""
        yield self.storage.accounts.create("alice", CREDS)
        self.assertTrue((yield self.storage.accounts.delete("alice")))
        self.assertFalse((yield self.storage.accounts.exists("alice")))
        self.assertFalse((yield self.storage.accounts.delete("alice")))

    def test_providesAccountStore(self):
        """The account store provides IAccountStore."""
        self.assertTrue(verifyObject(IAccountStore, self.storage.accounts))


class RosterStoreTests(StoreTestsBase):
    """The L{IRosterStore} (C{storage.roster}): items, versions and pending requests."""

    @defer.inlineCallbacks
    def test_emptyRoster(self):
        """A user without items has an empty roster at version 0."""
        self.assertEqual((yield self.storage.roster.items("alice")), [])
        self.assertEqual((yield self.storage.roster.version("alice")), 0)

    @defer.inlineCallbacks
    def test_setRosterItem(self):
        """A stored roster item comes back with every field, groups included."""
        stored = item("bob@example.com", name="Böb", subscription="both",
                      ask="subscribe", approved=True, groups=["Friends", "Wörk"])
        yield self.storage.roster.set("alice", stored)
        self.assertEqual((yield self.storage.roster.item("alice", "bob@example.com")), stored)
        self.assertEqual((yield self.storage.roster.items("alice")), [stored])

    @defer.inlineCallbacks
    def test_setRosterItemDefaults(self):
        """An item with only a JID comes back with the RosterItem defaults."""
        yield self.storage.roster.set("alice", item("bob@example.com"))
        got = yield self.storage.roster.item("alice", "bob@example.com")
        self.assertEqual(got, RosterItem(jid="bob@example.com"))

    @defer.inlineCallbacks
    def test_setRosterItemReplaces(self):
        """Setting an item for the same JID replaces it rather than adding another."""
        yield self.storage.roster.set("alice", item("bob@example.com", groups=["A"]))
        yield self.storage.roster.set("alice", item("bob@example.com", subscription="to"))
        roster = yield self.storage.roster.items("alice")
        self.assertEqual(roster, [item("bob@example.com", subscription="to")])

    @defer.inlineCallbacks
    def test_getRosterItemUnknown(self):
        """An item not on the roster is None."""
        self.assertIsNone((yield self.storage.roster.item("alice", "bob@example.com")))

    @defer.inlineCallbacks
    def test_rosterItemsAreCopies(self):
        """Changing a returned roster item does not change the stored one."""
        yield self.storage.roster.set("alice", item("bob@example.com", groups=["A"]))
        got = yield self.storage.roster.item("alice", "bob@example.com")
        got.groups.append("B")
        got.name = "changed"
        again = yield self.storage.roster.item("alice", "bob@example.com")
        self.assertEqual((again.name, again.groups), ("", ["A"]))

    @defer.inlineCallbacks
    def test_rosterVersion(self):
        """Each set and remove returns a new, higher roster version, which version() reports."""
        s = self.storage
        v1 = yield s.roster.set("alice", item("bob@example.com"))
        v2 = yield s.roster.set("alice", item("carol@example.com"))
        v3 = yield s.roster.remove("alice", "bob@example.com")
        self.assertTrue(0 < v1 < v2 < v3)
        self.assertEqual((yield s.roster.version("alice")), v3)

    @defer.inlineCallbacks
    def test_removeRosterItem(self):
        """A removed item is gone and the others stay."""
        yield self.storage.roster.set("alice", item("bob@example.com"))
        yield self.storage.roster.set("alice", item("carol@example.com"))
        yield self.storage.roster.remove("alice", "bob@example.com")
        self.assertIsNone((yield self.storage.roster.item("alice", "bob@example.com")))
        self.assertEqual([i.jid for i in (yield self.storage.roster.items("alice"))],
                         ["carol@example.com"])

    @defer.inlineCallbacks
    def test_rostersArePerUser(self):
        """Roster items and versions of one user are invisible to another."""
        yield self.storage.roster.set("alice", item("bob@example.com"))
        self.assertEqual((yield self.storage.roster.items("carol")), [])
        self.assertEqual((yield self.storage.roster.version("carol")), 0)

    @defer.inlineCallbacks
    def test_pendingSubscriptions(self):
        """Stored subscription requests come back as (jid, xml) pairs."""
        yield self.storage.roster.addPending("alice", "bob@example.com", "<p1/>")
        yield self.storage.roster.addPending("alice", "carol@example.com", "<p2/>")
        got = yield self.storage.roster.pending("alice")
        self.assertEqual(sorted(got), [("bob@example.com", "<p1/>"), ("carol@example.com", "<p2/>")])

    @defer.inlineCallbacks
    def test_pendingSubscriptionReplaces(self):
        """A second request from the same JID replaces the first."""
        yield self.storage.roster.addPending("alice", "bob@example.com", "<p1/>")
        yield self.storage.roster.addPending("alice", "bob@example.com", "<p2/>")
        self.assertEqual((yield self.storage.roster.pending("alice")),
                         [("bob@example.com", "<p2/>")])

    @defer.inlineCallbacks
    def test_removePendingSubscription(self):
        """A removed request is gone; removing an absent one is harmless."""
        yield self.storage.roster.addPending("alice", "bob@example.com", "<p1/>")
        yield self.storage.roster.removePending("alice", "bob@example.com")
        yield self.storage.roster.removePending("alice", "nobody@example.com")
        self.assertEqual((yield self.storage.roster.pending("alice")), [])

    @defer.inlineCallbacks
    def test_pendingSubscriptionUsers(self):
        """The users with stored requests are listed once each; one whose requests are gone is not."""
        self.assertEqual((yield self.storage.roster.pendingUsers()), set())
        yield self.storage.roster.addPending("alice", "bob@example.com", "<p1/>")
        yield self.storage.roster.addPending("alice", "carol@example.com", "<p2/>")
        yield self.storage.roster.addPending("dave", "bob@example.com", "<p3/>")
        yield self.storage.roster.removePending("dave", "bob@example.com")
        self.assertEqual((yield self.storage.roster.pendingUsers()), {"alice"})

    def test_providesRosterStore(self):
        """The roster store provides IRosterStore."""
        self.assertTrue(verifyObject(IRosterStore, self.storage.roster))


class OfflineStoreTests(StoreTestsBase):
    """The L{IOfflineStore} (C{storage.offline})."""

    @defer.inlineCallbacks
    def test_storeOffline(self):
        """Stored messages come back oldest first with distinct ids, their XML and stamps."""
        s = self.storage
        id1 = yield s.offline.store("alice", MESSAGE, 1000.5)
        id2 = yield s.offline.store("alice", "<message/>", 999.0)
        self.assertNotEqual(id1, id2)
        self.assertEqual((yield s.offline.list("alice")),
                         [OfflineMessage(id1, MESSAGE, 1000.5), OfflineMessage(id2, "<message/>", 999.0)])

    @defer.inlineCallbacks
    def test_storeOfflineStamp(self):
        """A message stored without a stamp is stamped with the current time."""
        before = time.time()
        yield self.storage.offline.store("alice", MESSAGE)
        [message] = yield self.storage.offline.list("alice")
        self.assertTrue(before - 1 <= message.stamp <= time.time() + 1)

    @defer.inlineCallbacks
    def test_countOffline(self):
        """offline.count counts one user's messages only."""
        for _ in range(3):
            yield self.storage.offline.store("alice", MESSAGE)
        yield self.storage.offline.store("bob", MESSAGE)
        self.assertEqual((yield self.storage.offline.count("alice")), 3)
        self.assertEqual((yield self.storage.offline.count("carol")), 0)

    @defer.inlineCallbacks
    def test_offlineUsers(self):
        """offline.users names exactly the users who have messages stored."""
        self.assertEqual((yield self.storage.offline.users()), set())
        yield self.storage.offline.store("alice", MESSAGE)
        yield self.storage.offline.store("alice", MESSAGE)
        bobId = yield self.storage.offline.store("bob", MESSAGE)
        yield self.storage.offline.remove("bob", [bobId])
        self.assertEqual((yield self.storage.offline.users()), {"alice"})

    @defer.inlineCallbacks
    def test_removeOffline(self):
        """offline.remove removes the given ids of that user only."""
        s = self.storage
        ids = []
        for n in range(3):
            ids.append((yield s.offline.store("alice", "<m%d/>" % n)))
        bobs = yield s.offline.store("bob", "<b/>")
        yield s.offline.remove("alice", [ids[0], ids[2], bobs])
        self.assertEqual([m.xml for m in (yield s.offline.list("alice"))], ["<m1/>"])
        self.assertEqual((yield s.offline.count("bob")), 1)

    @defer.inlineCallbacks
    def test_removeOfflineNothing(self):
        """offline.remove with no ids removes nothing."""
        yield self.storage.offline.store("alice", MESSAGE)
        yield self.storage.offline.remove("alice", [])
        self.assertEqual((yield self.storage.offline.count("alice")), 1)

    @defer.inlineCallbacks
    def test_largeOfflineMessage(self):
        """A large message is stored and returned unchanged."""
        xml = "<message><body>%s</body></message>" % ("x€" * 100000)
        yield self.storage.offline.store("alice", xml)
        self.assertEqual([m.xml for m in (yield self.storage.offline.list("alice"))], [xml])

    def test_providesOfflineStore(self):
        """The offline store provides IOfflineStore."""
        self.assertTrue(verifyObject(IOfflineStore, self.storage.offline))


class VCardStoreTests(StoreTestsBase):
    """The L{IVCardStore} (C{storage.vcards})."""

    @defer.inlineCallbacks
    def test_vCard(self):
        """A user has no vCard until one is set; setting again replaces it."""
        self.assertIsNone((yield self.storage.vcards.get("alice")))
        yield self.storage.vcards.set("alice", "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>")
        yield self.storage.vcards.set("alice", "<vCard xmlns='vcard-temp'><FN>Ä</FN></vCard>")
        self.assertEqual((yield self.storage.vcards.get("alice")),
                         "<vCard xmlns='vcard-temp'><FN>Ä</FN></vCard>")
        self.assertIsNone((yield self.storage.vcards.get("bob")))

    @defer.inlineCallbacks
    def test_vCardUsers(self):
        """The users with a stored vCard are listed, no one else."""
        self.assertEqual((yield self.storage.vcards.users()), set())
        yield self.storage.vcards.set("alice", "<vCard xmlns='vcard-temp'/>")
        self.assertEqual((yield self.storage.vcards.users()), {"alice"})

    def test_providesVCardStore(self):
        """The vCard store provides IVCardStore."""
        self.assertTrue(verifyObject(IVCardStore, self.storage.vcards))


class PrivateStoreTests(StoreTestsBase):
    """The L{IPrivateStore} (C{storage.private})."""

    @defer.inlineCallbacks
    def test_private(self):
        """Private XML is kept per user and per key, and setting again replaces it."""
        s = self.storage
        key, other = "{storage:bookmarks}storage", "{storage:rosternotes}storage"
        self.assertIsNone((yield s.private.get("alice", key)))
        yield s.private.set("alice", key, "<storage xmlns='storage:bookmarks'/>")
        yield s.private.set("alice", key, "<storage xmlns='storage:bookmarks'><x/></storage>")
        yield s.private.set("alice", other, "<storage xmlns='storage:rosternotes'/>")
        self.assertEqual((yield s.private.get("alice", key)),
                         "<storage xmlns='storage:bookmarks'><x/></storage>")
        self.assertEqual((yield s.private.get("alice", other)), "<storage xmlns='storage:rosternotes'/>")
        self.assertIsNone((yield s.private.get("bob", key)))

    def test_providesPrivateStore(self):
        """The private XML store provides IPrivateStore."""
        self.assertTrue(verifyObject(IPrivateStore, self.storage.private))


class LastActivityStoreTests(StoreTestsBase):
    """The L{ILastActivityStore} (C{storage.last})."""

    @defer.inlineCallbacks
    def test_last(self):
        """Last activity is None until set, then the latest (stamp, status)."""
        self.assertIsNone((yield self.storage.last.get("alice")))
        yield self.storage.last.set("alice", 1000.25, "first")
        yield self.storage.last.set("alice", 2000.5, "Gone fishing ✓")
        self.assertEqual((yield self.storage.last.get("alice")), (2000.5, "Gone fishing ✓"))

    def test_providesLastActivityStore(self):
        """The last activity store provides ILastActivityStore."""
        self.assertTrue(verifyObject(ILastActivityStore, self.storage.last))


class ContainerTests(StoreTestsBase):
    """The L{IStorage} itself: deleting a user from every store."""

    @defer.inlineCallbacks
    def test_deleteUser(self):
        """deleteUser reports True and the account is gone."""
        yield self.storage.accounts.create("alice", CREDS)
        self.assertTrue((yield self.storage.deleteUser("alice")))
        self.assertFalse((yield self.storage.accounts.exists("alice")))
        self.assertEqual((yield self.storage.accounts.list()), [])

    @defer.inlineCallbacks
    def test_deleteUserUnknown(self):
        """deleteUser of an unknown user reports False."""
        self.assertFalse((yield self.storage.deleteUser("nobody")))

    @defer.inlineCallbacks
    def test_deleteUserCascades(self):
        """deleteUser removes all of its data and leaves other users' data alone."""
        s = self.storage
        yield self.fillUser("alice")
        yield self.fillUser("bob")
        yield s.deleteUser("alice")
        self.assertIsNone((yield s.accounts.get("alice")))
        self.assertEqual((yield s.roster.items("alice")), [])
        self.assertEqual((yield s.roster.version("alice")), 0)
        self.assertEqual((yield s.roster.pending("alice")), [])
        self.assertEqual((yield s.offline.count("alice")), 0)
        self.assertIsNone((yield s.vcards.get("alice")))
        self.assertIsNone((yield s.private.get("alice", "{storage:bookmarks}storage")))
        self.assertIsNone((yield s.last.get("alice")))
        self.assertEqual(len((yield s.roster.items("bob"))), 1)
        self.assertEqual((yield s.offline.count("bob")), 1)
        self.assertEqual((yield s.last.get("bob")), (1000.0, "gone"))

    @defer.inlineCallbacks
    def test_recreatedUserStartsEmpty(self):
        """A user created again after deletion has no data from the old account."""
        yield self.fillUser("alice")
        yield self.storage.deleteUser("alice")
        yield self.storage.accounts.create("alice", {"plain": "x"})
        self.assertEqual((yield self.storage.roster.items("alice")), [])
        self.assertEqual((yield self.storage.offline.list("alice")), [])

    def test_providesStorage(self):
        """The storage provides IStorage, which names the six stores."""
        self.assertTrue(verifyObject(IStorage, self.storage))
        self.assertLessEqual({"accounts", "roster", "offline", "vcards", "private", "last"},
                             set(storeNames()))

    def test_holdsArchiveAndPubSubStores(self):
        """The storage holds a message archive and a PubSub store providing their interfaces."""
        self.assertTrue(verifyObject(IArchiveStore, self.storage.archive))
        self.assertTrue(verifyObject(IPubSubStore, self.storage.pubsub))

    @defer.inlineCallbacks
    def test_deleteUserLeavesJIDStores(self):
        """deleteUser empties the username stores; the JID-keyed archive is its handlers' to clear."""
        yield self.storage.accounts.create("alice", {"password": "x"})
        message = ArchivedMessage(peer="bob@example.org", direction="in", type="chat",
                                  xml="<message/>")
        yield self.storage.archive.append("alice@localhost", message)
        yield self.storage.deleteUser("alice")
        self.assertFalse((yield self.storage.accounts.exists("alice")))
        self.assertEqual((yield self.storage.archive.countOwner("alice@localhost")), 1)


class StorageTestsMixin(AccountStoreTests, RosterStoreTests, OfflineStoreTests,
                        VCardStoreTests, PrivateStoreTests, LastActivityStoreTests,
                        ContainerTests):
    """Every interface's tests."""
