"""Tests for L{components.offline.spool}: quota, draining, per-account ordering."""

import pytest
from twisted.internet import defer

from components.offline.spool import DEFAULT_QUOTA, OfflineSpool, QuotaExceeded
from jabberd.storage.memory import MemoryOfflineStore, MemoryStorage
from tests.components.offline.offlinehelpers import SlowStorage, result


def test_storeAndDrainInOrder():
    """Stored messages are handed out oldest first, then forgotten."""
    spool = OfflineSpool(MemoryStorage())
    for text in ("<a/>", "<b/>", "<c/>"):
        result(spool.store("bob", text))
    seen = []
    assert result(spool.drain("bob", lambda m: seen.append(m.xml))) == 3
    assert seen == ["<a/>", "<b/>", "<c/>"]
    assert result(spool.count("bob")) == 0


def test_quotaRefusesWhenFull():
    """Once an account holds C{quota} messages the next one fails with QuotaExceeded."""
    spool = OfflineSpool(MemoryStorage(), quota=2)
    result(spool.store("bob", "<a/>"))
    result(spool.store("bob", "<b/>"))
    with pytest.raises(QuotaExceeded):
        result(spool.store("bob", "<c/>"))
    assert result(spool.count("bob")) == 2
    result(spool.store("carol", "<c/>"))  # the quota is per account


def test_zeroQuotaMeansNoLimit():
    """A quota of 0 never refuses."""
    spool = OfflineSpool(MemoryStorage(), quota=0)
    for n in range(5):
        result(spool.store("bob", f"<m n='{n}'/>"))
    assert result(spool.count("bob")) == 5


def test_defaultQuota():
    """The default quota is 1000 messages."""
    assert OfflineSpool(MemoryStorage()).quota == DEFAULT_QUOTA == 1000


def test_storeKeepsGivenStamp():
    """A stamp given with the message is stored instead of now."""
    spool = OfflineSpool(MemoryStorage())
    result(spool.store("bob", "<a/>", 1000.5))
    [message] = result(spool.messages("bob"))
    assert message.stamp == 1000.5


def test_operationsOnOneAccountWaitForEachOther():
    """A drain asked for while a store is in flight sees the stored message."""
    storage = SlowStorage()
    spool = OfflineSpool(storage, quota=0)
    stored = spool.store("bob", "<a/>")
    seen = []
    drained = spool.drain("bob", lambda m: seen.append(m.xml))
    storage.flush()
    assert result(stored) is not None
    assert result(drained) == 1 and seen == ["<a/>"]


def test_otherAccountsDoNotWait():
    """An operation on one account does not wait for another account's."""
    storage = SlowStorage()
    spool = OfflineSpool(storage, quota=0)
    spool.store("bob", "<a/>")
    counted = spool.count("carol")
    assert len(storage.queue) == 2  # both reached the store at once
    storage.flush()
    assert result(counted) == 0


def test_failureDoesNotBlockTheNextOperation():
    """A refused store lets the account's next operation run."""
    spool = OfflineSpool(MemoryStorage(), quota=1)
    result(spool.store("bob", "<a/>"))
    refused = spool.store("bob", "<b/>")
    refused.addErrback(lambda f: f.trap(QuotaExceeded))
    assert result(spool.count("bob")) == 1
    assert not spool._tails


def test_purgeForgetsAll():
    """Purge removes every message of the account and no other."""
    spool = OfflineSpool(MemoryStorage())
    result(spool.store("bob", "<a/>"))
    result(spool.store("carol", "<b/>"))
    result(spool.purge("bob"))
    assert result(spool.count("bob")) == 0 and result(spool.count("carol")) == 1


class CountingOfflineStore(MemoryOfflineStore):
    """Counts reads of the messages."""

    reads = 0

    def list(self, username):
        self.reads += 1
        return MemoryOfflineStore.list(self, username)


class CountingStorage(MemoryStorage):
    """A memory storage counting reads of offline messages (C{reads})."""

    def __init__(self):
        MemoryStorage.__init__(self)
        self.offline = CountingOfflineStore()

    @property
    def reads(self):
        return self.offline.reads


def test_drainWithoutMessagesReadsNothing():
    """A user with no stored messages (the usual login) costs no storage read."""
    storage = CountingStorage()
    spool = OfflineSpool(storage)
    assert result(spool.drain("bob", lambda m: None)) == 0
    assert storage.reads == 0


def test_indexSeesMessagesStoredBeforeStart():
    """Messages already in storage when the spool starts are delivered."""
    storage = CountingStorage()
    result(storage.offline.store("bob", "<a/>"))
    spool = OfflineSpool(storage)
    seen = []
    assert result(spool.drain("bob", lambda m: seen.append(m.xml))) == 1
    assert seen == ["<a/>"]
    assert result(spool.drain("bob", lambda m: None)) == 0
    assert storage.reads == 1


def test_storeWhileIndexLoadsIsKept():
    """A message stored before the start-up index read finishes is not forgotten."""
    storage = MemoryStorage()
    pending = []
    storage.offline.users = lambda: pending.append(defer.Deferred()) or pending[-1]
    spool = OfflineSpool(storage)
    result(spool.store("bob", "<a/>"))
    pending[0].callback(set())
    seen = []
    assert result(spool.drain("bob", lambda m: seen.append(m.xml))) == 1
