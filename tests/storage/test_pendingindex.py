"""Tests for L{jabberd.storage.pendingindex}: no per-login read for users without requests."""

from twisted.internet import defer

from jabberd.storage.memory import MemoryStorage
from jabberd.storage.pendingindex import PendingIndex


class HeldStorage(MemoryStorage):
    """Counts request reads; can hold reads, writes and the load back, as a busy worker would."""

    def __init__(self):
        MemoryStorage.__init__(self)
        self.reads = 0
        self.holdReads = self.holdWrites = self.holdLoad = False
        self.held = []

    def _maybeHold(self, hold, d):
        if not hold:
            return d
        later = defer.Deferred()
        self.held.append((later, d.result))
        return later

    def release(self):
        held, self.held = self.held, []
        for later, result in held:
            later.callback(result)

    def getPendingSubscriptions(self, username):
        self.reads += 1
        return self._maybeHold(self.holdReads,
                               MemoryStorage.getPendingSubscriptions(self, username))

    def addPendingSubscription(self, username, jid, xml):
        return self._maybeHold(self.holdWrites,
                               MemoryStorage.addPendingSubscription(self, username, jid, xml))

    def pendingSubscriptionUsers(self):
        return self._maybeHold(self.holdLoad, MemoryStorage.pendingSubscriptionUsers(self))


def value(d):
    results = []
    d.addBoth(results.append)
    assert results, "Deferred has not fired"
    return results[0]


def test_noReadForUsersWithout():
    """Once loaded, users with no stored request get none without a storage read."""
    storage = HeldStorage()
    value(storage.addPendingSubscription("alice", "bob@localhost", "<p/>"))
    index = PendingIndex(storage)
    assert value(index.getPendingSubscriptions("carol")) == []
    assert storage.reads == 0
    assert value(index.getPendingSubscriptions("alice")) == [("bob@localhost", "<p/>")]
    assert storage.reads == 1


def test_storedRequestIsRead():
    """A request stored through the index is read back at the next login."""
    storage = HeldStorage()
    index = PendingIndex(storage)
    value(index.addPendingSubscription("carol", "bob@localhost", "<p/>"))
    assert value(index.getPendingSubscriptions("carol")) == [("bob@localhost", "<p/>")]


def test_answeredRequestsLeaveTheIndex():
    """After the last request is removed, one read finds none and later logins read nothing."""
    storage = HeldStorage()
    index = PendingIndex(storage)
    value(index.addPendingSubscription("carol", "bob@localhost", "<p/>"))
    value(index.removePendingSubscription("carol", "bob@localhost"))
    assert value(index.getPendingSubscriptions("carol")) == []
    assert value(index.getPendingSubscriptions("carol")) == []
    assert storage.reads == 1


def test_readBeforeLoadGoesToStorage():
    """Until the set of holders is loaded every read goes to storage."""
    storage = HeldStorage()
    storage.holdLoad = True
    index = PendingIndex(storage)
    assert value(index.getPendingSubscriptions("carol")) == []
    assert storage.reads == 1


def test_storedDuringLoad():
    """A request stored while the holders load is not lost when the load completes."""
    storage = HeldStorage()
    storage.holdLoad = True
    index = PendingIndex(storage)
    storage.holdLoad = False
    value(index.addPendingSubscription("carol", "bob@localhost", "<p/>"))
    storage.release()  # the load answers with a set taken before the request
    storage.held = []
    assert value(index.getPendingSubscriptions("carol")) == [("bob@localhost", "<p/>")]


def test_readOverlappingAStore():
    """An empty read that raced a request being stored does not drop the user."""
    storage = HeldStorage()
    index = PendingIndex(storage)
    value(index.addPendingSubscription("carol", "old@localhost", "<p/>"))
    value(index.removePendingSubscription("carol", "old@localhost"))
    storage.holdReads = True
    read = index.getPendingSubscriptions("carol")  # sees the table before the store
    storage.holdReads = False
    value(index.addPendingSubscription("carol", "bob@localhost", "<p/>"))
    storage.release()
    assert value(read) == []
    assert value(index.getPendingSubscriptions("carol")) == [("bob@localhost", "<p/>")]


def test_readWhileStoreInFlight():
    """An empty read that returns before a pending store commits keeps the user indexed."""
    storage = HeldStorage()
    index = PendingIndex(storage)
    storage.holdWrites = True
    stored = index.addPendingSubscription("carol", "bob@localhost", "<p/>")
    [(laterWrite, _)] = storage.held
    storage.held = []
    storage.pending.clear()  # the read runs before the write reached the table
    assert value(index.getPendingSubscriptions("carol")) == []
    value(MemoryStorage.addPendingSubscription(storage, "carol", "bob@localhost", "<p/>"))
    laterWrite.callback(None)
    value(stored)
    assert value(index.getPendingSubscriptions("carol")) == [("bob@localhost", "<p/>")]


def test_loadFailureReadsEverything():
    """If the holders cannot be loaded the index steps aside and every login reads storage."""
    storage = HeldStorage()
    storage.pendingSubscriptionUsers = lambda: defer.fail(RuntimeError("database gone"))
    index = PendingIndex(storage)
    assert value(index.getPendingSubscriptions("carol")) == []
    assert value(index.getPendingSubscriptions("carol")) == []
    assert storage.reads == 2


def test_otherCallsPassThrough():
    """Everything else is the wrapped storage's."""
    storage = HeldStorage()
    index = PendingIndex(storage)
    assert index.getRoster == storage.getRoster
