"""Tests for L{jabberd.storage.lastcache}: online users' last logout served from memory."""

from twisted.internet import defer

from zope.interface.verify import verifyObject

from jabberd.storage.interfaces import ILastActivityStore
from jabberd.storage.lastcache import LastActivityCache
from jabberd.storage.memory import MemoryStorage
from tests.storage.helpers import value


class CountingStore:
    """The memory last-activity store, counting reads; can hold them back."""

    def __init__(self):
        self.store = MemoryStorage().last
        self.reads = 0
        self.held = None

    def get(self, username):
        self.reads += 1
        d = self.store.get(username)
        if self.held is not None:
            later = defer.Deferred()
            self.held.append((later, d.result))
            return later
        return d

    def set(self, username, stamp, status):
        return self.store.set(username, stamp, status)


def makeCache():
    store = CountingStore()
    value(store.set("alice", 100.0, "gone"))
    return store, LastActivityCache(store)


def test_provides():
    """The cache is a last activity store."""
    assert verifyObject(ILastActivityStore, makeCache()[1])


def test_pinnedReadOnce():
    """A pinned user's last logout is read from storage once, however many ask at once."""
    store, cache = makeCache()
    cache.pin("alice")
    store.held = []
    waiting = [cache.get("alice") for _ in range(5)]
    assert store.reads == 1
    later, result = store.held.pop()
    later.callback(result)
    assert [value(d) for d in waiting] == [(100.0, "gone")] * 5
    store.held = None
    assert value(cache.get("alice")) == (100.0, "gone")
    assert store.reads == 1


def test_unknownUserIsCachedAsNone():
    """A pinned user who never logged out reads as None, once."""
    store, cache = makeCache()
    cache.pin("bob")
    assert value(cache.get("bob")) is None
    assert value(cache.get("bob")) is None
    assert store.reads == 1


def test_unpinnedPassesThrough():
    """Users without a session are read from storage every time."""
    store, cache = makeCache()
    value(cache.get("alice"))
    value(cache.get("alice"))
    assert store.reads == 2


def test_writeReachesTheCopy():
    """A logout recorded for a pinned user is what the next read answers, from memory."""
    store, cache = makeCache()
    cache.pin("alice")
    value(cache.get("alice"))
    value(cache.set("alice", 200.0, "bye"))
    assert value(cache.get("alice")) == (200.0, "bye")
    assert value(store.get("alice")) == (200.0, "bye")
    assert store.reads == 2  # the cache's one read and this test's own


def test_readRacingAWriteIsNotKept():
    """A read under way when a write starts is answered but not kept."""
    store, cache = makeCache()
    cache.pin("alice")
    store.held = []
    pending = cache.get("alice")
    value(cache.set("alice", 200.0, "bye"))
    later, stale = store.held.pop()
    later.callback(stale)
    assert value(pending) == (100.0, "gone")
    store.held = None
    assert value(cache.get("alice")) == (200.0, "bye")


def test_lastUnpinForgets():
    """The entry is dropped when the user's last session ends."""
    store, cache = makeCache()
    cache.pin("alice")
    cache.pin("alice")
    value(cache.get("alice"))
    cache.unpin("alice")
    value(cache.get("alice"))
    assert store.reads == 1
    cache.unpin("alice")
    value(cache.get("alice"))
    assert store.reads == 2


def test_forgetDropsTheCopy():
    """Forgetting a user (account deleted) drops the copy; the next read asks storage."""
    store, cache = makeCache()
    cache.pin("alice")
    value(cache.get("alice"))
    cache.forget("alice")
    value(cache.get("alice"))
    assert store.reads == 2


def test_peekAnswersOnlyWhatMemoryHolds():
    """peek gives a pinned user's entry once read, and the default before or when unpinned."""
    store, cache = makeCache()
    missing = object()
    assert cache.peek("alice", missing) is missing
    cache.pin("alice")
    assert cache.peek("alice", missing) is missing
    value(cache.get("alice"))
    assert cache.peek("alice", missing) == (100.0, "gone")
    cache.pin("bob")
    value(cache.get("bob"))
    assert cache.peek("bob", missing) is None  # read: no logout recorded
    cache.unpin("alice")
    assert cache.peek("alice", missing) is missing
    assert store.reads == 2
