"""Tests for L{jabberd.storage.cached}: the session manager's storage with the roster caches."""

from zope.interface.verify import verifyObject

from jabberd.storage import RosterItem
from jabberd.storage.cached import CachedStorage
from jabberd.storage.interfaces import IStorage, storeNames
from jabberd.storage.memory import MemoryStorage
from jabberd.storage.pendingindex import PendingIndex
from jabberd.storage.rostercache import RosterCache
from tests.storage.helpers import value


def test_sharesEveryStoreButTheRoster():
    """Every store but the roster is the wrapped storage's own; the roster is cached over it."""
    storage = MemoryStorage()
    cached = CachedStorage(storage)
    assert verifyObject(IStorage, cached)
    for name in storeNames():
        if name != "roster":
            assert getattr(cached, name) is getattr(storage, name)
    assert isinstance(cached.roster, RosterCache)
    assert isinstance(cached.roster.store, PendingIndex)
    assert cached.roster.store.store is storage.roster


def test_deleteUserDropsTheCachedRoster():
    """Deleting a pinned user removes their data and the cached copy of their roster."""
    storage = MemoryStorage()
    value(storage.accounts.create("alice", {}))
    cached = CachedStorage(storage)
    value(cached.roster.set("alice", RosterItem("bob@localhost")))
    cached.roster.pin("alice")
    assert len(value(cached.roster.items("alice"))) == 1
    assert value(cached.deleteUser("alice")) is True
    assert value(storage.accounts.exists("alice")) is False
    assert value(cached.roster.items("alice")) == []


def test_closeClosesTheStorage():
    """Closing the cached storage closes the wrapped one."""
    closed = []
    storage = MemoryStorage()
    storage.close = lambda: closed.append(True)
    CachedStorage(storage).close()
    assert closed == [True]
