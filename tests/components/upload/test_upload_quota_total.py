"""
Tests for the upload service's total quota and its running totals
(L{components.upload.slots.SlotManager.quotaTotal}, L{SlotManager.usage}).
"""

import io

import pytest
from twisted.internet.task import Clock

from components.upload.options import UploadOptions
from components.upload.slots import QuotaExceeded, SlotManager
from jabberd import config as configmod
from tests.components.upload.test_upload_store import makeStore, slot


class StubStore:
    """Stored usage per owner from a dict, with its total."""

    def __init__(self, usage=None):
        self.stored = usage or {}

    def usage(self, owner):
        return self.stored.get(owner, 0)

    @property
    def totalUsage(self):
        return sum(self.stored.values())


def makeSlots(quotaTotal, usage=None, quota=0):
    clock = Clock()
    return SlotManager(StubStore(usage), 1000, quota, 300, clock, quotaTotal), clock


def test_totalQuotaAcrossAccounts():
    """Many accounts together cannot open more than the total quota."""
    slots, _ = makeSlots(quotaTotal=2500, usage={"old@localhost": 500})
    for n in range(2):
        slots.request(f"user{n}@localhost", "f", "1000")
    with pytest.raises(QuotaExceeded):
        slots.request("user2@localhost", "f", "1")


def test_endedSlotsFreeTheTotal():
    """Cancelled, released and expired slots stop counting towards either quota."""
    slots, clock = makeSlots(quotaTotal=1000, quota=1000)
    first = slots.request("a@localhost", "f", "1000")
    slots.cancel(first.token)
    second = slots.request("a@localhost", "f", "1000")
    slots.claim(second.token)
    assert slots.usage("a@localhost") == 1000
    slots.release(second.token)
    assert slots.usage("a@localhost") == 0 and slots.totalUsage() == 0
    slots.request("b@localhost", "f", "1000")
    clock.advance(301)
    assert slots.expireSlots() == 1
    assert slots.totalUsage() == 0
    third = slots.request("b@localhost", "f", "1000")
    clock.advance(301)
    assert slots.pending(third.token) is None and slots.usage("b@localhost") == 0


def test_usageDoesNotScanSlots():
    """usage() reads running totals: it costs the same with thousands of open slots."""
    slots, _ = makeSlots(quotaTotal=0)
    for n in range(2000):
        slots.request(f"user{n}@localhost", "f", "1")
    slots._pending = None  # a scan would fail here
    slots._inFlight = None
    assert slots.usage("user7@localhost") == 1
    assert slots.totalUsage() == 2000


def test_configured():
    """quota_total is read with K/M/G sizes; 10 GB by default, 0 for none."""
    text = "[server]\ndomains = localhost\n[component:upload.localhost]\nplugin = upload\n{extra}"
    for extra, expected in (("", 10 * 1024 ** 3), ("quota_total = 5G\n", 5 * 1024 ** 3),
                            ("quota_total = 0\n", 0)):
        config = configmod.parse(text.format(extra=extra))
        options = UploadOptions.fromConfig(config, config.components["upload.localhost"])
        assert options.quotaTotal == expected


def test_storeKeepsItsTotal(tmp_path):
    """The file store's total follows stores, expiry and a restart (read from the metadata)."""
    store, clock = makeStore(tmp_path, expireAfter=10)
    store.add(slot("t1", "a@localhost", 5), io.BytesIO(b"hello"))
    store.add(slot("t2", "b@localhost", 3), io.BytesIO(b"hey"))
    assert store.totalUsage == 8
    again, _ = makeStore(tmp_path)
    assert again.totalUsage == 8
    clock.advance(11)
    store.expire()
    assert store.totalUsage == 0
