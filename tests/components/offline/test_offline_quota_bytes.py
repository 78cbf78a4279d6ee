"""Tests for the offline spool's quota in bytes (L{components.offline.spool.OfflineSpool})."""

import pytest

from components.offline import makeHost
from components.offline.spool import DEFAULT_QUOTA_BYTES, OfflineSpool, QuotaExceeded
from jabberd import config as configmod
from jabberd.storage.memory import MemoryStorage
from tests.components.offline.offlinehelpers import result


def _message(size):
    """A stored message of exactly C{size} bytes."""
    return "<m>" + "x" * (size - 7) + "</m>"


def test_bytesQuotaRefuses():
    """A message that would pass quota_bytes is refused; smaller ones still fit."""
    spool = OfflineSpool(MemoryStorage(), quota=0, quotaBytes=1000)
    result(spool.store("bob", _message(600)))
    with pytest.raises(QuotaExceeded):
        result(spool.store("bob", _message(500)))
    result(spool.store("bob", _message(400)))
    with pytest.raises(QuotaExceeded):
        result(spool.store("bob", _message(8)))
    assert result(spool.count("bob")) == 2
    result(spool.store("carol", _message(900)))  # per account


def test_bytesCountedInUTF8():
    """The bound is on encoded bytes, not characters."""
    spool = OfflineSpool(MemoryStorage(), quota=0, quotaBytes=20)
    with pytest.raises(QuotaExceeded):
        result(spool.store("bob", "<m>" + "\u00e9" * 8 + "</m>"))  # 23 bytes, 15 characters


def test_deliveryFreesTheQuota():
    """Once the messages are delivered the account may receive as much again."""
    spool = OfflineSpool(MemoryStorage(), quota=0, quotaBytes=1000)
    result(spool.store("bob", _message(900)))
    assert result(spool.drain("bob", lambda m: None)) == 1
    result(spool.store("bob", _message(900)))


def test_totalSurvivesRestart():
    """A new spool on the same storage (a restart) counts the bytes already kept."""
    storage = MemoryStorage()
    result(OfflineSpool(storage, quota=0, quotaBytes=1000).store("bob", _message(900)))
    with pytest.raises(QuotaExceeded):
        result(OfflineSpool(storage, quota=0, quotaBytes=1000).store("bob", _message(200)))


def test_changeBehindTheSpoolNoticed():
    """Messages removed directly in storage (an account deleted) stop counting."""
    storage = MemoryStorage()
    spool = OfflineSpool(storage, quota=0, quotaBytes=1000)
    result(spool.store("bob", _message(900)))
    ids = [m.id for m in result(storage.offline.list("bob"))]
    result(storage.offline.remove("bob", ids))
    result(spool.store("bob", _message(900)))


def test_runningTotalReadsNoListing():
    """After the first store, further stores do not list the account's messages again."""
    storage = MemoryStorage()
    spool = OfflineSpool(storage, quota=0, quotaBytes=10000)
    result(spool.store("bob", _message(100)))
    listings = []
    original = storage.offline.list
    storage.offline.list = lambda username: listings.append(username) or original(username)
    for _ in range(5):
        result(spool.store("bob", _message(100)))
    assert listings == []


def test_configured():
    """quota_bytes is read from the component's section, with K/M/G sizes; 10 MB by default."""
    text = ("[server]\ndomains = localhost\n[component:offline.localhost]\nplugin = offline\n"
            "trusted = yes\n{extra}")
    for extra, expected in (("", DEFAULT_QUOTA_BYTES), ("quota_bytes = 2M\n", 2 * 1024 * 1024),
                            ("quota_bytes = 0\n", 0)):
        config = configmod.parse(text.format(extra=extra))
        host = makeHost(config, config.components["offline.localhost"], MemoryStorage())
        [store] = [h for h in host.handlers if type(h).__name__ == "StoreHandler"]
        assert store.spool.quotaBytes == expected


def test_waitingMessagesCountAgainstTheQuota():
    """While storage is slow, messages waiting to be stored count: past the quota they are refused at once, not queued."""
    from twisted.internet import defer

    storage = MemoryStorage()
    spool = OfflineSpool(storage, quota=0, quotaBytes=1000)
    result(spool.store("bob", _message(100)))  # the total is known from here on
    gate = defer.Deferred()
    realStore = storage.offline.store
    storage.offline.store = lambda *a: gate.addCallback(lambda _: realStore(*a))
    waiting = [spool.store("bob", _message(400)), spool.store("bob", _message(400))]
    refused = spool.store("bob", _message(400))
    assert refused.called  # answered without waiting for storage
    with pytest.raises(QuotaExceeded):
        result(refused)
    storage.offline.store = realStore
    gate.callback(None)
    assert [bool(result(d)) for d in waiting] == [True, True]
    assert result(spool.count("bob")) == 3
    result(spool.store("carol", _message(900)))  # other accounts are not held up
