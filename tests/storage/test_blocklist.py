"""
The block list store (XEP-0191, L{IBlockListStore}): one set of tests run
on the memory store, on an SQLite file and on PostgreSQL.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jabberd.storage.interfaces import IBlockListStore, userStoreNames
from jabberd.storage.memory import MemoryStorage
from jabberd.storage.sql import SQLStorage
from tests.storage.test_postgresql import PostgreSQLMixin
from tests.storage.test_sqlite import TempDirMixin

BOB = "bob@example.com"
SPAM = "spam.example"


class BlockListStoreTestsMixin:
    """Every behaviour of L{IBlockListStore}; C{makeStorage()} returns an empty storage."""

    def setUp(self):
        self.storage = self.makeStorage()
        self.addCleanup(self.storage.close)
        self.store = self.storage.blocklist

    def test_provides(self):
        """The store provides IBlockListStore and is one of the username-keyed stores."""
        self.assertTrue(verifyObject(IBlockListStore, self.store))
        self.assertIn("blocklist", userStoreNames())

    @defer.inlineCallbacks
    def test_users(self):
        """users() names exactly the users whose list is not empty."""
        yield self.store.block("alice", [BOB])
        yield self.store.block("carol", [SPAM])
        yield self.store.unblockAll("carol")
        self.assertEqual((yield self.store.users()), {"alice"})

    @defer.inlineCallbacks
    def test_emptyList(self):
        """A user who never blocked anyone has an empty list."""
        self.assertEqual((yield self.store.items("alice")), [])

    @defer.inlineCallbacks
    def test_blockAndList(self):
        """Blocked JIDs of every form come back sorted, each once, for their user only."""
        yield self.store.block("alice", [BOB, SPAM, "carol@example.com/phone"])
        yield self.store.block("alice", [BOB, "spam.example/bot"])
        self.assertEqual((yield self.store.items("alice")),
                         [BOB, "carol@example.com/phone", SPAM, "spam.example/bot"])
        self.assertEqual((yield self.store.items("bob")), [])

    @defer.inlineCallbacks
    def test_blockNothing(self):
        """Blocking an empty list changes nothing."""
        yield self.store.block("alice", [])
        self.assertEqual((yield self.store.items("alice")), [])

    @defer.inlineCallbacks
    def test_unblock(self):
        """Unblocking removes the named JIDs and ignores JIDs not on the list."""
        yield self.store.block("alice", [BOB, SPAM])
        yield self.store.unblock("alice", [BOB, "nobody@example.com"])
        self.assertEqual((yield self.store.items("alice")), [SPAM])
        yield self.store.unblock("alice", [SPAM])
        self.assertEqual((yield self.store.items("alice")), [])

    @defer.inlineCallbacks
    def test_unblockAll(self):
        """Unblocking all empties the list, returns what was on it, and leaves others alone."""
        yield self.store.block("alice", [SPAM, BOB])
        yield self.store.block("bob", [SPAM])
        self.assertEqual((yield self.store.unblockAll("alice")), [BOB, SPAM])
        self.assertEqual((yield self.store.items("alice")), [])
        self.assertEqual((yield self.store.items("bob")), [SPAM])
        self.assertEqual((yield self.store.unblockAll("alice")), [])

    @defer.inlineCallbacks
    def test_deleteUser(self):
        """Deleting an account deletes its block list and keeps other users' lists."""
        yield self.storage.accounts.create("alice", {"password": "x"})
        yield self.store.block("alice", [BOB])
        yield self.store.block("bob", [SPAM])
        yield self.storage.deleteUser("alice")
        self.assertEqual((yield self.store.items("alice")), [])
        self.assertEqual((yield self.store.items("bob")), [SPAM])


class MemoryBlockListTests(BlockListStoreTestsMixin, unittest.TestCase):
    """The block list store in memory."""

    def makeStorage(self):
        return MemoryStorage()


class SQLiteBlockListTests(TempDirMixin, BlockListStoreTestsMixin, unittest.TestCase):
    """The block list store on an SQLite file."""

    def makeStorage(self):
        self.path = os.path.join(self.tempDir(), "jabberd.db")
        return SQLStorage("sqlite:///" + self.path)

    @defer.inlineCallbacks
    def test_survivesReopen(self):
        """A committed block list is there after closing and opening the database again."""
        yield self.store.block("alice", [BOB, SPAM])
        yield self.storage.close()
        self.storage = self.openFile(self.path)
        self.assertEqual((yield self.storage.blocklist.items("alice")), [BOB, SPAM])


class PostgreSQLBlockListTests(PostgreSQLMixin, BlockListStoreTestsMixin, unittest.TestCase):
    """The block list store on PostgreSQL."""

    def setUp(self):
        self.makeSchema()
        super().setUp()
