"""
Tests for L{jabberd.storage.sql.database}: the engine, migrations at open
and the worker threads behind every SQL store, on SQLite files.
"""

import os
import threading

from sqlalchemy import text
from twisted.internet import defer
from twisted.trial import unittest

from jabberd.storage.migrations import CORE
from jabberd.storage.sql.database import Database, StorageClosed


class DatabaseTests(unittest.TestCase):
    """L{Database} on an SQLite file in a temporary directory."""

    def open(self, name="j.db", **kwargs):
        path = os.path.join(self.mktemp(), name)
        database = Database("sqlite:///" + path, **kwargs)
        self.addCleanup(database.close)
        return database

    def test_attributes(self):
        """A database reports its URL, its dialect and its engine, migrated to the core head."""
        database = self.open()
        self.assertTrue(database.url.startswith("sqlite:///"))
        self.assertEqual(database.dialect, "sqlite")
        with database.engine.connect() as connection:
            self.assertEqual(CORE.current(connection), CORE.head)

    @defer.inlineCallbacks
    def test_writeCommits(self):
        """write runs the work with its arguments in a worker thread and commits it."""
        database = self.open()
        threads = []

        def work(connection, name):
            threads.append(threading.get_ident())
            connection.execute(text("INSERT INTO users VALUES (:n, '{}')"), {"n": name})
            return "done"

        self.assertEqual((yield database.write(work, "alice")), "done")
        count = yield database.read(
            lambda c: c.execute(text("SELECT count(*) FROM users")).scalar())
        self.assertEqual(count, 1)
        self.assertNotIn(threading.get_ident(), threads)

    @defer.inlineCallbacks
    def test_writeRollsBack(self):
        """A write whose work raises fails with that error and changes nothing."""
        database = self.open()

        def work(connection):
            connection.execute(text("INSERT INTO users VALUES ('alice', '{}')"))
            raise ValueError("no")

        yield self.assertFailure(database.write(work), ValueError)
        count = yield database.read(
            lambda c: c.execute(text("SELECT count(*) FROM users")).scalar())
        self.assertEqual(count, 0)

    @defer.inlineCallbacks
    def test_readerThreads(self):
        """An SQLite file is read in reader threads, apart from the single writer."""
        database = self.open()
        readers, writers = set(), set()
        yield defer.gatherResults(
            [database.read(lambda c: readers.add(threading.current_thread().name))
             for _ in range(4)]
            + [database.write(lambda c: writers.add(threading.current_thread().name))])
        self.assertEqual(database.threadCount, 1)
        self.assertTrue(all(name.startswith("storage-read-") for name in readers), readers)
        self.assertEqual(writers, {"storage-0"})

    @defer.inlineCallbacks
    def test_closed(self):
        """After close, reads and writes fail with StorageClosed."""
        database = self.open()
        yield database.close()
        yield self.assertFailure(database.read(lambda c: None), StorageClosed)
        yield self.assertFailure(database.write(lambda c: None), StorageClosed)

    def test_serves(self):
        """serves tells whether a URL names this database."""
        path = os.path.join(self.mktemp(), "j.db")
        database = Database("sqlite:///" + path)
        self.addCleanup(database.close)
        self.assertTrue(database.serves("sqlite:///" + path))
        self.assertFalse(database.serves("sqlite:///" + path + "x"))

    def test_chains(self):
        """A subclass naming no chain leaves the database unmigrated until it calls migrate."""

        class Bare(Database):
            chains = ()

        path = os.path.join(self.mktemp(), "bare.db")
        database = Bare("sqlite:///" + path)
        self.addCleanup(database.close)
        with database.engine.connect() as connection:
            self.assertIsNone(CORE.current(connection))
        database.migrate(CORE)
        with database.engine.connect() as connection:
            self.assertEqual(CORE.current(connection), CORE.head)
