"""Tests for L{jabberd.keyedlocks}: work for one key in turn, other keys alongside."""

from twisted.internet import defer
from twisted.trial import unittest

from jabberd.keyedlocks import KeyedLocks


class KeyedLocksTests(unittest.TestCase):

    def setUp(self):
        self.locks = KeyedLocks()
        self.started = []
        self.pending = {}

    def work(self, name):
        """Record that C{name} started; finish when the test fires its Deferred."""
        self.started.append(name)
        d = self.pending[name] = defer.Deferred()
        return d

    def test_oneKeyInTurn(self):
        """Work for one key starts only when the earlier work for it has finished, in arrival order."""
        first = self.locks.run("alice", self.work, "one")
        second = self.locks.run("alice", self.work, "two")
        self.assertEqual(self.started, ["one"])
        self.pending["one"].callback(1)
        self.assertEqual(self.successResultOf(first), 1)
        self.assertEqual(self.started, ["one", "two"])
        self.pending["two"].callback(2)
        self.assertEqual(self.successResultOf(second), 2)

    def test_otherKeysAlongside(self):
        """Work for another key does not wait."""
        self.locks.run("alice", self.work, "alice")
        self.locks.run("bob", self.work, "bob")
        self.assertEqual(self.started, ["alice", "bob"])

    def test_idleLockDropped(self):
        """A key's lock goes once nothing holds or waits for it, after success or failure."""
        d = self.locks.run("alice", self.work, "one")
        failing = self.locks.run("alice", self.work, "two")
        self.pending["one"].callback(None)
        self.assertIn("alice", self.locks.locks)
        self.pending["two"].errback(ValueError("refused"))
        self.failureResultOf(failing, ValueError)
        self.successResultOf(d)
        self.assertEqual(self.locks.locks, {})

    def test_coroutineAndPlainValue(self):
        """A coroutine function's result and a plain function's value come back alike."""
        async def coroutine():
            return "from a coroutine"

        self.assertEqual(self.successResultOf(self.locks.run("k", coroutine)), "from a coroutine")
        self.assertEqual(self.successResultOf(self.locks.run("k", lambda: 3)), 3)
