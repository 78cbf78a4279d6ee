"""Tests for L{jabberd.storage.rostercache}: online users' rosters served from memory."""

from twisted.internet import defer

from zope.interface.verify import verifyObject

from jabberd.storage import RosterItem
from jabberd.storage.interfaces import IRosterStore
from jabberd.storage.memory import MemoryRosterStore
from jabberd.storage.rostercache import RosterCache
from tests.storage.helpers import value


class CountingStore(MemoryRosterStore):
    """Counts roster reads; can hold them back to imitate a busy thread pool."""

    def __init__(self):
        MemoryRosterStore.__init__(self)
        self.reads = 0
        self.held = None

    def items(self, username):
        self.reads += 1
        d = MemoryRosterStore.items(self, username)
        if self.held is not None:
            later = defer.Deferred()
            self.held.append((later, d.result))
            return later
        return d


def makeCache():
    storage = CountingStore()
    value(storage.set("alice", RosterItem("bob@localhost", subscription="both")))
    return storage, RosterCache(storage)


def test_pinnedRosterReadOnce():
    """A pinned user's roster and items are read from storage once."""
    storage, cache = makeCache()
    cache.pin("alice")
    assert [i.jid for i in value(cache.items("alice"))] == ["bob@localhost"]
    assert value(cache.item("alice", "bob@localhost")).subscription == "both"
    assert value(cache.item("alice", "nobody@localhost")) is None
    assert storage.reads == 1


def test_concurrentReadsShareOne():
    """Calls made while a pinned user's roster is being read wait for that one read."""
    storage, cache = makeCache()
    cache.pin("alice")
    storage.held = []
    pending = [cache.items("alice"), cache.item("alice", "bob@localhost"), cache.items("alice")]
    assert storage.reads == 1
    later, result = storage.held.pop()
    later.callback(result)
    assert [i.jid for i in value(pending[0])] == ["bob@localhost"]
    assert value(pending[1]).subscription == "both"
    assert [i.jid for i in value(pending[2])] == ["bob@localhost"]
    storage.held = None
    value(cache.items("alice"))
    assert storage.reads == 1


def test_readAfterAWriteStartedIsNew():
    """A call made after a write started does not wait for the read begun before it."""
    storage, cache = makeCache()
    cache.pin("alice")
    storage.held = []
    before = cache.items("alice")
    written = cache.set("alice", RosterItem("carol@localhost"))
    after = cache.items("alice")
    assert storage.reads == 2
    for later, result in storage.held:
        later.callback(result)
    assert [i.jid for i in value(before)] == ["bob@localhost"]
    value(written)
    assert {i.jid for i in value(after)} == {"bob@localhost", "carol@localhost"}


def test_failedReadFailsEveryWaiter():
    """A read that fails fails every call waiting for it, and the next call reads again."""
    storage, cache = makeCache()
    cache.pin("alice")
    storage.held = []
    first, second = cache.items("alice"), cache.items("alice")
    later, _ = storage.held.pop()
    later.errback(RuntimeError("database gone"))
    for d in (first, second):
        failures = []
        d.addErrback(failures.append)
        assert failures and failures[0].check(RuntimeError)
    storage.held = None
    assert [i.jid for i in value(cache.items("alice"))] == ["bob@localhost"]
    assert storage.reads == 2


def test_unpinnedPassesThrough():
    """Users without a session are read from storage every time."""
    storage, cache = makeCache()
    value(cache.items("alice"))
    value(cache.items("alice"))
    assert storage.reads == 2


def test_writesReachTheCopy():
    """Setting and removing items updates the cached roster and the storage."""
    storage, cache = makeCache()
    cache.pin("alice")
    value(cache.items("alice"))
    value(cache.set("alice", RosterItem("carol@localhost", name="C")))
    value(cache.remove("alice", "bob@localhost"))
    assert [i.jid for i in value(cache.items("alice"))] == ["carol@localhost"]
    assert [i.jid for i in value(storage.items("alice"))] == ["carol@localhost"]
    assert storage.reads == 2


def test_itemsAreCopies():
    """Changing a returned item changes neither the cache nor storage."""
    _, cache = makeCache()
    cache.pin("alice")
    item = value(cache.item("alice", "bob@localhost"))
    item.subscription = "none"
    item.groups.append("X")
    again = value(cache.item("alice", "bob@localhost"))
    assert again.subscription == "both" and again.groups == []


def test_readRacingAWriteIsNotCached():
    """A read under way when a write starts is answered but not kept."""
    storage, cache = makeCache()
    cache.pin("alice")
    storage.held = []
    pending = cache.items("alice")
    value(cache.set("alice", RosterItem("carol@localhost")))
    later, stale = storage.held.pop()
    later.callback(stale)
    assert [i.jid for i in value(pending)] == ["bob@localhost"]
    storage.held = None
    assert {i.jid for i in value(cache.items("alice"))} == {"bob@localhost", "carol@localhost"}


def test_lastUnpinForgets():
    """The roster is dropped when the user's last session ends."""
    storage, cache = makeCache()
    cache.pin("alice")
    cache.pin("alice")
    value(cache.items("alice"))
    cache.unpin("alice")
    value(cache.items("alice"))
    assert storage.reads == 1
    cache.unpin("alice")
    value(cache.items("alice"))
    assert storage.reads == 2


def test_otherCallsPassThrough():
    """Versions and pending requests are the wrapped store's."""
    storage, cache = makeCache()
    value(cache.addPending("alice", "dave@localhost", "<p/>"))
    assert value(storage.pending("alice")) == [("dave@localhost", "<p/>")]
    assert value(cache.pendingUsers()) == {"alice"}
    assert value(cache.version("alice")) == value(storage.version("alice")) == 1


def test_forgetDropsTheCopy():
    """After forget (the account is deleted) a pinned user's roster is read from the store again."""
    storage, cache = makeCache()
    cache.pin("alice")
    value(cache.items("alice"))
    cache.forget("alice")
    storage.forget("alice")
    assert value(cache.items("alice")) == []
    assert storage.reads == 2


def test_provides():
    """The cache is a roster store itself."""
    assert verifyObject(IRosterStore, makeCache()[1])
