"""Tests for L{jabberd.storage.pendingindex}: no per-login read for users without requests."""

from twisted.internet import defer

from zope.interface.verify import verifyObject

from jabberd.storage import RosterItem
from jabberd.storage.interfaces import IRosterStore
from jabberd.storage.memory import MemoryRosterStore
from jabberd.storage.pendingindex import PendingIndex
from tests.storage.helpers import value


class HeldStore(MemoryRosterStore):
    """Counts request reads; can hold reads, writes and the load back, as a busy worker would."""

    def __init__(self):
        MemoryRosterStore.__init__(self)
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

    def pending(self, username):
        self.reads += 1
        return self._maybeHold(self.holdReads, MemoryRosterStore.pending(self, username))

    def addPending(self, username, jid, xml):
        return self._maybeHold(self.holdWrites,
                               MemoryRosterStore.addPending(self, username, jid, xml))

    def pendingUsers(self):
        return self._maybeHold(self.holdLoad, MemoryRosterStore.pendingUsers(self))


def test_noReadForUsersWithout():
    """Once loaded, users with no stored request get none without a storage read."""
    storage = HeldStore()
    value(storage.addPending("alice", "bob@localhost", "<p/>"))
    index = PendingIndex(storage)
    assert value(index.pending("carol")) == []
    assert storage.reads == 0
    assert value(index.pending("alice")) == [("bob@localhost", "<p/>")]
    assert storage.reads == 1


def test_storedRequestIsRead():
    """A request stored through the index is read back at the next login."""
    storage = HeldStore()
    index = PendingIndex(storage)
    value(index.addPending("carol", "bob@localhost", "<p/>"))
    assert value(index.pending("carol")) == [("bob@localhost", "<p/>")]


def test_answeredRequestsLeaveTheIndex():
    """After the last request is removed, one read finds none and later logins read nothing."""
    storage = HeldStore()
    index = PendingIndex(storage)
    value(index.addPending("carol", "bob@localhost", "<p/>"))
    value(index.removePending("carol", "bob@localhost"))
    assert value(index.pending("carol")) == []
    assert value(index.pending("carol")) == []
    assert storage.reads == 1


def test_readBeforeLoadGoesToStorage():
    """Until the set of holders is loaded every read goes to storage."""
    storage = HeldStore()
    storage.holdLoad = True
    index = PendingIndex(storage)
    assert value(index.pending("carol")) == []
    assert storage.reads == 1


def test_storedDuringLoad():
    """A request stored while the holders load is not lost when the load completes."""
    storage = HeldStore()
    storage.holdLoad = True
    index = PendingIndex(storage)
    storage.holdLoad = False
    value(index.addPending("carol", "bob@localhost", "<p/>"))
    storage.release()  # the load answers with a set taken before the request
    storage.held = []
    assert value(index.pending("carol")) == [("bob@localhost", "<p/>")]


def test_readOverlappingAStore():
    """An empty read that raced a request being stored does not drop the user."""
    storage = HeldStore()
    index = PendingIndex(storage)
    value(index.addPending("carol", "old@localhost", "<p/>"))
    value(index.removePending("carol", "old@localhost"))
    storage.holdReads = True
    read = index.pending("carol")  # sees the table before the store
    storage.holdReads = False
    value(index.addPending("carol", "bob@localhost", "<p/>"))
    storage.release()
    assert value(read) == []
    assert value(index.pending("carol")) == [("bob@localhost", "<p/>")]


def test_readWhileStoreInFlight():
    """An empty read that returns before a pending store commits keeps the user indexed."""
    storage = HeldStore()
    index = PendingIndex(storage)
    storage.holdWrites = True
    stored = index.addPending("carol", "bob@localhost", "<p/>")
    [(laterWrite, _)] = storage.held
    storage.held = []
    storage.requests.clear()  # the read runs before the write reached the table
    assert value(index.pending("carol")) == []
    value(MemoryRosterStore.addPending(storage, "carol", "bob@localhost", "<p/>"))
    laterWrite.callback(None)
    value(stored)
    assert value(index.pending("carol")) == [("bob@localhost", "<p/>")]


def test_loadFailureReadsEverything():
    """If the holders cannot be loaded the index steps aside and every login reads storage."""
    storage = HeldStore()
    storage.pendingUsers = lambda: defer.fail(RuntimeError("database gone"))
    index = PendingIndex(storage)
    assert value(index.pending("carol")) == []
    assert value(index.pending("carol")) == []
    assert storage.reads == 2


def test_otherCallsPassThrough():
    """Roster items and versions are the wrapped store's."""
    storage = HeldStore()
    index = PendingIndex(storage)
    assert value(index.set("alice", RosterItem("bob@localhost"))) == 1
    assert value(storage.item("alice", "bob@localhost")) == RosterItem("bob@localhost")
    assert [i.jid for i in value(index.items("alice"))] == ["bob@localhost"]
    assert value(index.item("alice", "bob@localhost")) == RosterItem("bob@localhost")
    assert value(index.remove("alice", "bob@localhost")) == 2
    assert value(index.version("alice")) == 2 and value(storage.items("alice")) == []


def test_provides():
    """The index is a roster store itself."""
    assert verifyObject(IRosterStore, PendingIndex(HeldStore()))
