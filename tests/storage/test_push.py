"""
The push registration store (XEP-0357, L{IPushStore}): one set of tests run
on the memory store, on an SQLite file and on PostgreSQL.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jabberd.storage.interfaces import IPushStore, userStoreNames
from jabberd.storage.memory import MemoryStorage
from jabberd.storage.records import PushRegistration
from jabberd.storage.sql import SQLStorage
from tests.storage.test_postgresql import PostgreSQLMixin
from tests.storage.test_sqlite import TempDirMixin

APP = "push.example"
OPTIONS = ("<x xmlns='jabber:x:data' type='submit'><field var='secret'>"
           "<value>s3cret</value></field></x>")


class PushStoreTestsMixin:
    """Every behaviour of L{IPushStore}; C{makeStorage()} returns an empty storage."""

    def setUp(self):
        self.storage = self.makeStorage()
        self.addCleanup(self.storage.close)
        self.store = self.storage.push

    def test_provides(self):
        """The store provides IPushStore and is one of the username-keyed stores."""
        self.assertTrue(verifyObject(IPushStore, self.store))
        self.assertIn("push", userStoreNames())

    @defer.inlineCallbacks
    def test_none(self):
        """An account that enabled nothing has no registrations, and nobody has any."""
        self.assertEqual((yield self.store.registrations("alice")), [])
        self.assertEqual((yield self.store.users()), set())

    @defer.inlineCallbacks
    def test_enableAndList(self):
        """Registrations come back sorted by JID and node, with options, for their user only."""
        self.assertTrue((yield self.store.enable("alice", PushRegistration(APP, "n2"))))
        self.assertTrue((yield self.store.enable(
            "alice", PushRegistration(APP, "n1", OPTIONS, True))))
        yield self.store.enable("alice", PushRegistration("a.example", "n9"))
        self.assertEqual((yield self.store.registrations("alice")), [
            PushRegistration("a.example", "n9"),
            PushRegistration(APP, "n1", OPTIONS, True),
            PushRegistration(APP, "n2")])
        self.assertEqual((yield self.store.registrations("bob")), [])
        self.assertEqual((yield self.store.users()), {"alice"})

    @defer.inlineCallbacks
    def test_enableAgainReplaces(self):
        """Enabling the same JID and node again keeps one registration with the last options."""
        yield self.store.enable("alice", PushRegistration(APP, "n1", OPTIONS, True))
        yield self.store.enable("alice", PushRegistration(APP, "n1"))
        self.assertEqual((yield self.store.registrations("alice")), [PushRegistration(APP, "n1")])

    @defer.inlineCallbacks
    def test_bound(self):
        """Past maxRegistrations a new registration is refused; replacing one is not."""
        for node in ("a", "b"):
            self.assertTrue((yield self.store.enable("alice", PushRegistration(APP, node), 2)))
        self.assertFalse((yield self.store.enable("alice", PushRegistration(APP, "c"), 2)))
        self.assertTrue((yield self.store.enable("alice", PushRegistration(APP, "b", OPTIONS), 2)))
        self.assertEqual([r.node for r in (yield self.store.registrations("alice"))], ["a", "b"])
        self.assertTrue((yield self.store.enable("bob", PushRegistration(APP, "c"), 2)))

    @defer.inlineCallbacks
    def test_disableNode(self):
        """Disabling with a node removes that combination only."""
        yield self.store.enable("alice", PushRegistration(APP, "n1"))
        yield self.store.enable("alice", PushRegistration(APP, "n2"))
        self.assertEqual((yield self.store.disable("alice", APP, "n1")), 1)
        self.assertEqual((yield self.store.registrations("alice")), [PushRegistration(APP, "n2")])
        self.assertEqual((yield self.store.disable("alice", APP, "nope")), 0)

    @defer.inlineCallbacks
    def test_disableService(self):
        """Disabling without a node removes every node of that service and nothing else."""
        yield self.store.enable("alice", PushRegistration(APP, "n1"))
        yield self.store.enable("alice", PushRegistration(APP, "n2"))
        yield self.store.enable("alice", PushRegistration("other.example", "n1"))
        self.assertEqual((yield self.store.disable("alice", APP)), 2)
        self.assertEqual((yield self.store.registrations("alice")),
                         [PushRegistration("other.example", "n1")])
        yield self.store.disable("alice", "other.example")
        self.assertEqual((yield self.store.users()), set())

    @defer.inlineCallbacks
    def test_deleteUser(self):
        """Deleting an account deletes its registrations and keeps other users'."""
        yield self.storage.accounts.create("alice", {"password": "x"})
        yield self.store.enable("alice", PushRegistration(APP, "n1"))
        yield self.store.enable("bob", PushRegistration(APP, "n2"))
        yield self.storage.deleteUser("alice")
        self.assertEqual((yield self.store.registrations("alice")), [])
        self.assertEqual((yield self.store.users()), {"bob"})


class MemoryPushTests(PushStoreTestsMixin, unittest.TestCase):
    """The push store in memory."""

    def makeStorage(self):
        return MemoryStorage()


class SQLitePushTests(TempDirMixin, PushStoreTestsMixin, unittest.TestCase):
    """The push store on an SQLite file."""

    def makeStorage(self):
        self.path = os.path.join(self.tempDir(), "jabberd.db")
        return SQLStorage("sqlite:///" + self.path)

    @defer.inlineCallbacks
    def test_survivesReopen(self):
        """A committed registration is there after closing and opening the database again."""
        yield self.store.enable("alice", PushRegistration(APP, "n1", OPTIONS, True))
        yield self.storage.close()
        self.storage = self.openFile(self.path)
        self.assertEqual((yield self.storage.push.registrations("alice")),
                         [PushRegistration(APP, "n1", OPTIONS, True)])


class PostgreSQLPushTests(PostgreSQLMixin, PushStoreTestsMixin, unittest.TestCase):
    """The push store on PostgreSQL."""

    def setUp(self):
        self.makeSchema()
        super().setUp()
