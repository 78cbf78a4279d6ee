"""Tests for L{jabberd.storage.cached}: the session manager's storage with the roster caches."""

from zope.interface.verify import verifyObject

from jabberd.storage import RosterItem
from jabberd.storage.cached import CachedStorage
from jabberd.storage.interfaces import IStorage, storeNames
from jabberd.storage.lastcache import LastActivityCache
from jabberd.storage.memory import MemoryStorage
from jabberd.storage.pendingindex import PendingIndex
from jabberd.storage.rostercache import RosterCache
from tests.storage.helpers import value


def test_sharesEveryStoreButTheRosterAndLast():
    """Every store but the roster and last activity is the wrapped storage's own; those two are cached over it."""
    storage = MemoryStorage()
    cached = CachedStorage(storage)
    assert verifyObject(IStorage, cached)
    for name in storeNames():
        if name not in ("roster", "last"):
            assert getattr(cached, name) is getattr(storage, name)
    assert isinstance(cached.roster, RosterCache)
    assert isinstance(cached.roster.store, PendingIndex)
    assert cached.roster.store.store is storage.roster
    assert isinstance(cached.last, LastActivityCache)
    assert cached.last.store is storage.last


def test_pinKeepsRosterAndLastInMemory():
    """A pinned user's roster and last logout are read once; after the last unpin, every time."""
    storage = MemoryStorage()
    value(storage.last.set("alice", 10.0, "away"))
    reads = []
    get = storage.last.get
    storage.last.get = lambda username: reads.append(username) or get(username)
    cached = CachedStorage(storage)
    cached.pin("alice")
    assert value(cached.last.get("alice")) == (10.0, "away")
    assert value(cached.last.get("alice")) == (10.0, "away")
    assert reads == ["alice"]
    cached.unpin("alice")
    value(cached.last.get("alice"))
    assert reads == ["alice", "alice"]


def test_deleteUserDropsTheCachedRoster():
    """Deleting a pinned user removes their data and the cached copies of their roster and last logout."""
    storage = MemoryStorage()
    value(storage.accounts.create("alice", {}))
    cached = CachedStorage(storage)
    value(cached.roster.set("alice", RosterItem("bob@localhost")))
    value(cached.last.set("alice", 10.0, "bye"))
    cached.pin("alice")
    assert len(value(cached.roster.items("alice"))) == 1
    assert value(cached.last.get("alice")) == (10.0, "bye")
    assert value(cached.deleteUser("alice")) is True
    assert value(storage.accounts.exists("alice")) is False
    assert value(cached.roster.items("alice")) == []
    assert value(cached.last.get("alice")) is None


def test_closeClosesTheStorage():
    """Closing the cached storage closes the wrapped one."""
    closed = []
    storage = MemoryStorage()
    storage.close = lambda: closed.append(True)
    CachedStorage(storage).close()
    assert closed == [True]
