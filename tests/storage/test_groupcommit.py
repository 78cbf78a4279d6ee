"""
Tests for L{jabberd.storage.sql.groupcommit}: the SQLite writer commits the
writes queued together once, and each write still succeeds or fails alone.
"""

import os

from sqlalchemy import text
from twisted.internet import defer
from twisted.trial import unittest

from jabberd.storage.sql.database import Database


def insert(name):
    def work(connection):
        connection.execute(text("INSERT INTO users VALUES (:n, '{}')"), {"n": name})
        return name
    return work


def count(connection):
    return connection.execute(text("SELECT count(*) FROM users")).scalar()


class GroupCommitTests(unittest.TestCase):
    """L{Database.write} on an SQLite file: group commit through L{GroupCommit}."""

    def setUp(self):
        self.path = os.path.join(self.mktemp(), "j.db")
        self.database = Database("sqlite:///" + self.path)
        self.addCleanup(lambda: self.database.close())

    @defer.inlineCallbacks
    def test_queuedWritesShareCommits(self):
        """Writes queued at once all commit, in fewer transactions than writes."""
        names = [f"user{i}" for i in range(200)]
        results = yield defer.gatherResults([self.database.write(insert(n)) for n in names])
        self.assertEqual(results, names)
        self.assertEqual((yield self.database.read(count)), 200)
        self.assertLess(self.database._groupCommit.commits, 200)

    @defer.inlineCallbacks
    def test_failureIsolated(self):
        """A write that raises in a batch fails alone; the others of the batch are kept."""
        def bad(connection):
            connection.execute(text("INSERT INTO users VALUES ('bad', '{}')"))
            raise ValueError("no")
        ds = [self.database.write(insert("a")), self.database.write(bad),
              self.database.write(insert("a")), self.database.write(insert("b"))]
        outcomes = yield defer.DeferredList(ds, consumeErrors=True)
        self.assertEqual([ok for ok, _ in outcomes], [True, False, False, True])
        self.assertTrue(outcomes[1][1].check(ValueError))
        self.assertTrue(outcomes[2][1].check(Exception))  # the duplicate 'a'
        rows = yield self.database.read(
            lambda c: sorted(c.execute(text("SELECT username FROM users")).scalars()))
        self.assertEqual(rows, ["a", "b"])

    @defer.inlineCallbacks
    def test_durableAfterReopen(self):
        """Acknowledged writes of a batch are in the file when another database opens it."""
        yield defer.gatherResults([self.database.write(insert(f"u{i}")) for i in range(50)])
        other = Database("sqlite:///" + self.path)
        try:
            with other.engine.connect() as connection:
                self.assertEqual(count(connection), 50)
        finally:
            other.close()

    @defer.inlineCallbacks
    def test_closeFinishesQueued(self):
        """Writes queued before close are committed by it, later ones fail."""
        ds = [self.database.write(insert(f"u{i}")) for i in range(30)]
        yield self.database.close()
        yield defer.gatherResults(ds)
        other = Database("sqlite:///" + self.path)
        try:
            with other.engine.connect() as connection:
                self.assertEqual(count(connection), 30)
        finally:
            other.close()
