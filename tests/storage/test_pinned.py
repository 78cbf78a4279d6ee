"""Tests for L{jabberd.storage.pinned}: per-user values read once while pinned."""

from twisted.internet import defer

from jabberd.storage.pinned import PinnedValues
from tests.storage.helpers import value


class Reads:
    """A read function whose reads are held until the test answers them."""

    def __init__(self):
        self.held = []

    def __call__(self, username):
        d = defer.Deferred()
        self.held.append((username, d))
        return d


def test_unpinnedIsNotPinned():
    """A user is pinned between their first pin and their last unpin."""
    values = PinnedValues(Reads())
    assert not values.pinned("alice")
    values.pin("alice")
    values.pin("alice")
    values.unpin("alice")
    assert values.pinned("alice")
    values.unpin("alice")
    assert not values.pinned("alice")


def test_oneReadForEveryoneWaiting():
    """Everyone asking while the read is under way gets its answer; later ones get the copy."""
    reads = Reads()
    values = PinnedValues(reads)
    values.pin("alice")
    waiting = [values.get("alice") for _ in range(3)]
    assert len(reads.held) == 1
    reads.held[0][1].callback("value")
    assert [value(d) for d in waiting] == ["value"] * 3
    assert value(values.get("alice")) == "value"
    assert len(reads.held) == 1


def test_readAcrossAnUnpinIsNotKept():
    """A read that was under way when the user's last session ended is not kept after a new pin."""
    reads = Reads()
    values = PinnedValues(reads)
    values.pin("alice")
    old = values.get("alice")
    values.unpin("alice")
    values.pin("alice")
    new = values.get("alice")
    assert len(reads.held) == 2
    reads.held[0][1].callback("old")
    reads.held[1][1].callback("new")
    assert value(old) == "old" and value(new) == "new"
    assert values.cached("alice") == "new"


def test_writeMakesLaterCallersReadAgain():
    """After a write starts, a new call does not share the read begun before it."""
    reads = Reads()
    values = PinnedValues(reads)
    values.pin("alice")
    values.get("alice")
    values.written("alice")
    values.get("alice")
    assert len(reads.held) == 2
    reads.held[0][1].callback("before")
    assert values.cached("alice") is None
    reads.held[1][1].callback("after")
    assert values.cached("alice") == "after"
