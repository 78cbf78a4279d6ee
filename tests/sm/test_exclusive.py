"""Tests for L{jabberd.sm.exclusive}: work serialised by key."""

from twisted.internet import defer

from jabberd.sm.exclusive import KeyedLocks
from tests.sm.helpers import result


def test_workForOneKeyRunsInArrivalOrder():
    """Work for one key waits for the earlier work; another key's runs at once."""
    locks, ran, gate = KeyedLocks(), [], defer.Deferred()

    async def slow():
        ran.append("slow")
        await gate
        ran.append("slow done")

    async def quick(name):
        ran.append(name)
        return name

    first = locks.run("alice", slow)
    second = locks.run("alice", quick, "after")
    other = locks.run("bob", quick, "bob")
    assert ran == ["slow", "bob"] and result(other) == "bob"
    gate.callback(None)
    assert ran == ["slow", "bob", "slow done", "after"]
    assert result(second) == "after" and result(first) is None


def test_idleKeysAreDropped():
    """Once a key's work is done, failed or not, its lock is gone."""
    locks = KeyedLocks()

    def fails():
        raise ValueError("no")

    failed = locks.run("alice", fails)
    failed.addErrback(lambda f: f.trap(ValueError))
    assert len(locks) == 0 and locks.locks == {}
