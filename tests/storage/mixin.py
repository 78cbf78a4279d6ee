"""
One set of tests for the storage interface of L{jabberd.storage}, run on
every implementation: mix L{StorageTestsMixin} into a
L{twisted.trial.unittest.TestCase} and define C{makeStorage()}.
"""

import time

from twisted.internet import defer

from jabberd.storage import OfflineMessage, RosterItem, UserExists

CREDS = {
    "SCRAM-SHA-256": {"salt": "c2FsdA==", "iterations": 4096,
                      "storedKey": "c3RvcmVk", "serverKey": "c2VydmVy"},
    "plain": "sécret",
}

MESSAGE = "<message xmlns='jabber:client' to='alice@example.com'><body>héllo ✓</body></message>"


def item(jid, **kwargs):
    return RosterItem(jid=jid, **kwargs)


class StorageTestsMixin:
    """
    Tests of the whole storage API.  C{makeStorage()} returns a fresh,
    empty store; it is closed after each test.
    """

    def setUp(self):
        self.storage = self.makeStorage()
        self.addCleanup(self.storage.close)

    @defer.inlineCallbacks
    def fillUser(self, username):
        """Give C{username} an account and one of every kind of data."""
        s = self.storage
        yield s.createUser(username, CREDS)
        yield s.setRosterItem(username, item("bob@example.com", groups=["Friends"]))
        yield s.addPendingSubscription(username, "carol@example.com", "<presence type='subscribe'/>")
        yield s.storeOffline(username, MESSAGE)
        yield s.setVCard(username, "<vCard xmlns='vcard-temp'/>")
        yield s.setPrivate(username, "{storage:bookmarks}storage", "<storage/>")
        yield s.setLast(username, 1000.0, "gone")

    # accounts

    @defer.inlineCallbacks
    def test_createUser(self):
        """A created user exists and the unknown one does not."""
        yield self.storage.createUser("alice", CREDS)
        self.assertTrue((yield self.storage.userExists("alice")))
        self.assertFalse((yield self.storage.userExists("bob")))

    @defer.inlineCallbacks
    def test_createUserTwice(self):
        """Creating a taken username fails with UserExists and keeps the first credentials."""
        yield self.storage.createUser("alice", CREDS)
        yield self.assertFailure(self.storage.createUser("alice", {"plain": "other"}), UserExists)
        self.assertEqual((yield self.storage.getCredentials("alice")), CREDS)

    @defer.inlineCallbacks
    def test_getCredentials(self):
        """The credentials dict comes back as it was stored, nested values and non-ASCII included."""
        yield self.storage.createUser("alice", CREDS)
        self.assertEqual((yield self.storage.getCredentials("alice")), CREDS)

    @defer.inlineCallbacks
    def test_getCredentialsUnknown(self):
        """Credentials of an unknown user are None."""
        self.assertIsNone((yield self.storage.getCredentials("nobody")))

    @defer.inlineCallbacks
    def test_credentialsAreCopies(self):
        """Changing a returned credentials dict does not change the stored one."""
        yield self.storage.createUser("alice", CREDS)
        creds = yield self.storage.getCredentials("alice")
        creds["plain"] = "changed"
        self.assertEqual((yield self.storage.getCredentials("alice"))["plain"], "sécret")

    @defer.inlineCallbacks
    def test_setCredentials(self):
        """setCredentials replaces the credentials of an existing user and reports True."""
        yield self.storage.createUser("alice", CREDS)
        self.assertTrue((yield self.storage.setCredentials("alice", {"plain": "new"})))
        self.assertEqual((yield self.storage.getCredentials("alice")), {"plain": "new"})

    @defer.inlineCallbacks
    def test_setCredentialsUnknown(self):
        """setCredentials for an unknown user reports False and creates no account."""
        self.assertFalse((yield self.storage.setCredentials("nobody", CREDS)))
        self.assertFalse((yield self.storage.userExists("nobody")))

    @defer.inlineCallbacks
    def test_listUsers(self):
        """listUsers returns every username, sorted."""
        for name in ("carol", "alice", "bob"):
            yield self.storage.createUser(name, CREDS)
        self.assertEqual((yield self.storage.listUsers()), ["alice", "bob", "carol"])

    @defer.inlineCallbacks
    def test_deleteUser(self):
        """Deleting a user reports True and the account is gone."""
        yield self.storage.createUser("alice", CREDS)
        self.assertTrue((yield self.storage.deleteUser("alice")))
        self.assertFalse((yield self.storage.userExists("alice")))
        self.assertEqual((yield self.storage.listUsers()), [])

    @defer.inlineCallbacks
    def test_deleteUserUnknown(self):
        """Deleting an unknown user reports False."""
        self.assertFalse((yield self.storage.deleteUser("nobody")))

    @defer.inlineCallbacks
    def test_deleteUserCascades(self):
        """Deleting a user removes all of its data and leaves other users' data alone."""
        s = self.storage
        yield self.fillUser("alice")
        yield self.fillUser("bob")
        yield s.deleteUser("alice")
        self.assertIsNone((yield s.getCredentials("alice")))
        self.assertEqual((yield s.getRoster("alice")), [])
        self.assertEqual((yield s.getRosterVersion("alice")), 0)
        self.assertEqual((yield s.getPendingSubscriptions("alice")), [])
        self.assertEqual((yield s.countOffline("alice")), 0)
        self.assertIsNone((yield s.getVCard("alice")))
        self.assertIsNone((yield s.getPrivate("alice", "{storage:bookmarks}storage")))
        self.assertIsNone((yield s.getLast("alice")))
        self.assertEqual(len((yield s.getRoster("bob"))), 1)
        self.assertEqual((yield s.countOffline("bob")), 1)
        self.assertEqual((yield s.getLast("bob")), (1000.0, "gone"))

    @defer.inlineCallbacks
    def test_recreatedUserStartsEmpty(self):
        """A user created again after deletion has no data from the old account."""
        yield self.fillUser("alice")
        yield self.storage.deleteUser("alice")
        yield self.storage.createUser("alice", {"plain": "x"})
        self.assertEqual((yield self.storage.getRoster("alice")), [])
        self.assertEqual((yield self.storage.getOffline("alice")), [])

    # roster

    @defer.inlineCallbacks
    def test_emptyRoster(self):
        """A user without items has an empty roster at version 0."""
        self.assertEqual((yield self.storage.getRoster("alice")), [])
        self.assertEqual((yield self.storage.getRosterVersion("alice")), 0)

    @defer.inlineCallbacks
    def test_setRosterItem(self):
        """A stored roster item comes back with every field, groups included."""
        stored = item("bob@example.com", name="Böb", subscription="both",
                      ask="subscribe", approved=True, groups=["Friends", "Wörk"])
        yield self.storage.setRosterItem("alice", stored)
        self.assertEqual((yield self.storage.getRosterItem("alice", "bob@example.com")), stored)
        self.assertEqual((yield self.storage.getRoster("alice")), [stored])

    @defer.inlineCallbacks
    def test_setRosterItemDefaults(self):
        """An item with only a JID comes back with the RosterItem defaults."""
        yield self.storage.setRosterItem("alice", item("bob@example.com"))
        got = yield self.storage.getRosterItem("alice", "bob@example.com")
        self.assertEqual(got, RosterItem(jid="bob@example.com"))

    @defer.inlineCallbacks
    def test_setRosterItemReplaces(self):
        """Setting an item for the same JID replaces it rather than adding another."""
        yield self.storage.setRosterItem("alice", item("bob@example.com", groups=["A"]))
        yield self.storage.setRosterItem("alice", item("bob@example.com", subscription="to"))
        roster = yield self.storage.getRoster("alice")
        self.assertEqual(roster, [item("bob@example.com", subscription="to")])

    @defer.inlineCallbacks
    def test_getRosterItemUnknown(self):
        """An item not on the roster is None."""
        self.assertIsNone((yield self.storage.getRosterItem("alice", "bob@example.com")))

    @defer.inlineCallbacks
    def test_rosterItemsAreCopies(self):
        """Changing a returned roster item does not change the stored one."""
        yield self.storage.setRosterItem("alice", item("bob@example.com", groups=["A"]))
        got = yield self.storage.getRosterItem("alice", "bob@example.com")
        got.groups.append("B")
        got.name = "changed"
        again = yield self.storage.getRosterItem("alice", "bob@example.com")
        self.assertEqual((again.name, again.groups), ("", ["A"]))

    @defer.inlineCallbacks
    def test_rosterVersion(self):
        """Each set and remove returns a new, higher roster version, which getRosterVersion reports."""
        s = self.storage
        v1 = yield s.setRosterItem("alice", item("bob@example.com"))
        v2 = yield s.setRosterItem("alice", item("carol@example.com"))
        v3 = yield s.removeRosterItem("alice", "bob@example.com")
        self.assertTrue(0 < v1 < v2 < v3)
        self.assertEqual((yield s.getRosterVersion("alice")), v3)

    @defer.inlineCallbacks
    def test_removeRosterItem(self):
        """A removed item is gone and the others stay."""
        yield self.storage.setRosterItem("alice", item("bob@example.com"))
        yield self.storage.setRosterItem("alice", item("carol@example.com"))
        yield self.storage.removeRosterItem("alice", "bob@example.com")
        self.assertIsNone((yield self.storage.getRosterItem("alice", "bob@example.com")))
        self.assertEqual([i.jid for i in (yield self.storage.getRoster("alice"))],
                         ["carol@example.com"])

    @defer.inlineCallbacks
    def test_rostersArePerUser(self):
        """Roster items and versions of one user are invisible to another."""
        yield self.storage.setRosterItem("alice", item("bob@example.com"))
        self.assertEqual((yield self.storage.getRoster("carol")), [])
        self.assertEqual((yield self.storage.getRosterVersion("carol")), 0)

    # pending subscriptions

    @defer.inlineCallbacks
    def test_pendingSubscriptions(self):
        """Stored subscription requests come back as (jid, xml) pairs."""
        yield self.storage.addPendingSubscription("alice", "bob@example.com", "<p1/>")
        yield self.storage.addPendingSubscription("alice", "carol@example.com", "<p2/>")
        got = yield self.storage.getPendingSubscriptions("alice")
        self.assertEqual(sorted(got), [("bob@example.com", "<p1/>"), ("carol@example.com", "<p2/>")])

    @defer.inlineCallbacks
    def test_pendingSubscriptionReplaces(self):
        """A second request from the same JID replaces the first."""
        yield self.storage.addPendingSubscription("alice", "bob@example.com", "<p1/>")
        yield self.storage.addPendingSubscription("alice", "bob@example.com", "<p2/>")
        self.assertEqual((yield self.storage.getPendingSubscriptions("alice")),
                         [("bob@example.com", "<p2/>")])

    @defer.inlineCallbacks
    def test_removePendingSubscription(self):
        """A removed request is gone; removing an absent one is harmless."""
        yield self.storage.addPendingSubscription("alice", "bob@example.com", "<p1/>")
        yield self.storage.removePendingSubscription("alice", "bob@example.com")
        yield self.storage.removePendingSubscription("alice", "nobody@example.com")
        self.assertEqual((yield self.storage.getPendingSubscriptions("alice")), [])

    @defer.inlineCallbacks
    def test_pendingSubscriptionUsers(self):
        """The users with stored requests are listed once each; one whose requests are gone is not."""
        self.assertEqual((yield self.storage.pendingSubscriptionUsers()), set())
        yield self.storage.addPendingSubscription("alice", "bob@example.com", "<p1/>")
        yield self.storage.addPendingSubscription("alice", "carol@example.com", "<p2/>")
        yield self.storage.addPendingSubscription("dave", "bob@example.com", "<p3/>")
        yield self.storage.removePendingSubscription("dave", "bob@example.com")
        self.assertEqual((yield self.storage.pendingSubscriptionUsers()), {"alice"})

    # offline messages

    @defer.inlineCallbacks
    def test_storeOffline(self):
        """Stored messages come back oldest first with distinct ids, their XML and stamps."""
        s = self.storage
        id1 = yield s.storeOffline("alice", MESSAGE, 1000.5)
        id2 = yield s.storeOffline("alice", "<message/>", 999.0)
        self.assertNotEqual(id1, id2)
        self.assertEqual((yield s.getOffline("alice")),
                         [OfflineMessage(id1, MESSAGE, 1000.5), OfflineMessage(id2, "<message/>", 999.0)])

    @defer.inlineCallbacks
    def test_storeOfflineStamp(self):
        """A message stored without a stamp is stamped with the current time."""
        before = time.time()
        yield self.storage.storeOffline("alice", MESSAGE)
        [message] = yield self.storage.getOffline("alice")
        self.assertTrue(before - 1 <= message.stamp <= time.time() + 1)

    @defer.inlineCallbacks
    def test_countOffline(self):
        """countOffline counts one user's messages only."""
        for _ in range(3):
            yield self.storage.storeOffline("alice", MESSAGE)
        yield self.storage.storeOffline("bob", MESSAGE)
        self.assertEqual((yield self.storage.countOffline("alice")), 3)
        self.assertEqual((yield self.storage.countOffline("carol")), 0)

    @defer.inlineCallbacks
    def test_offlineUsers(self):
        """offlineUsers names exactly the users who have messages stored."""
        self.assertEqual((yield self.storage.offlineUsers()), set())
        yield self.storage.storeOffline("alice", MESSAGE)
        yield self.storage.storeOffline("alice", MESSAGE)
        bobId = yield self.storage.storeOffline("bob", MESSAGE)
        yield self.storage.removeOffline("bob", [bobId])
        self.assertEqual((yield self.storage.offlineUsers()), {"alice"})

    @defer.inlineCallbacks
    def test_removeOffline(self):
        """removeOffline removes the given ids of that user only."""
        s = self.storage
        ids = []
        for n in range(3):
            ids.append((yield s.storeOffline("alice", "<m%d/>" % n)))
        bobs = yield s.storeOffline("bob", "<b/>")
        yield s.removeOffline("alice", [ids[0], ids[2], bobs])
        self.assertEqual([m.xml for m in (yield s.getOffline("alice"))], ["<m1/>"])
        self.assertEqual((yield s.countOffline("bob")), 1)

    @defer.inlineCallbacks
    def test_removeOfflineNothing(self):
        """removeOffline with no ids removes nothing."""
        yield self.storage.storeOffline("alice", MESSAGE)
        yield self.storage.removeOffline("alice", [])
        self.assertEqual((yield self.storage.countOffline("alice")), 1)

    @defer.inlineCallbacks
    def test_largeOfflineMessage(self):
        """A large message is stored and returned unchanged."""
        xml = "<message><body>%s</body></message>" % ("x€" * 100000)
        yield self.storage.storeOffline("alice", xml)
        self.assertEqual([m.xml for m in (yield self.storage.getOffline("alice"))], [xml])

    # vCard and private XML

    @defer.inlineCallbacks
    def test_vCard(self):
        """A user has no vCard until one is set; setting again replaces it."""
        self.assertIsNone((yield self.storage.getVCard("alice")))
        yield self.storage.setVCard("alice", "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>")
        yield self.storage.setVCard("alice", "<vCard xmlns='vcard-temp'><FN>Ä</FN></vCard>")
        self.assertEqual((yield self.storage.getVCard("alice")),
                         "<vCard xmlns='vcard-temp'><FN>Ä</FN></vCard>")
        self.assertIsNone((yield self.storage.getVCard("bob")))

    @defer.inlineCallbacks
    def test_private(self):
        """Private XML is kept per user and per key, and setting again replaces it."""
        s = self.storage
        key, other = "{storage:bookmarks}storage", "{storage:rosternotes}storage"
        self.assertIsNone((yield s.getPrivate("alice", key)))
        yield s.setPrivate("alice", key, "<storage xmlns='storage:bookmarks'/>")
        yield s.setPrivate("alice", key, "<storage xmlns='storage:bookmarks'><x/></storage>")
        yield s.setPrivate("alice", other, "<storage xmlns='storage:rosternotes'/>")
        self.assertEqual((yield s.getPrivate("alice", key)),
                         "<storage xmlns='storage:bookmarks'><x/></storage>")
        self.assertEqual((yield s.getPrivate("alice", other)), "<storage xmlns='storage:rosternotes'/>")
        self.assertIsNone((yield s.getPrivate("bob", key)))

    # last activity

    @defer.inlineCallbacks
    def test_last(self):
        """Last activity is None until set, then the latest (stamp, status)."""
        self.assertIsNone((yield self.storage.getLast("alice")))
        yield self.storage.setLast("alice", 1000.25, "first")
        yield self.storage.setLast("alice", 2000.5, "Gone fishing ✓")
        self.assertEqual((yield self.storage.getLast("alice")), (2000.5, "Gone fishing ✓"))
