"""
The start-up index of users with a stored record (L{jabberd.sm.userindex}).
"""

from twisted.internet import defer

from jabberd.logs import Logger
from jabberd.sm.userindex import UserIndex


def test_everyoneMayHaveUntilLoaded():
    """Before the start-up read answers, every user may have a record."""
    index = UserIndex()
    index.load(defer.Deferred(), Logger(), "records")
    assert index.mayHave("alice") and index.known is None


def test_onlyIndexedUsersAfterLoad():
    """Once read, only the users named have a record."""
    index = UserIndex()
    index.load(defer.succeed({"alice"}), Logger(), "records")
    assert index.mayHave("alice") and not index.mayHave("bob")


def test_recordsAddedDuringTheReadKept():
    """A record written while the start-up read runs is not lost from the index."""
    index, pending = UserIndex(), defer.Deferred()
    index.load(pending, Logger(), "records")
    index.add("bob")
    pending.callback({"alice"})
    assert index.known == {"alice", "bob"}
    index.add("carol")
    assert index.mayHave("carol")


def test_failedReadLeavesEveryoneReading():
    """If the start-up read fails, every user may have a record (each login reads its own)."""
    index, pending = UserIndex(), defer.Deferred()
    index.load(pending, Logger(), "records")
    pending.errback(RuntimeError("database gone"))
    assert index.mayHave("anyone") and index.known is None
