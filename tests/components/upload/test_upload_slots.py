"""Tests for L{components.upload.slots}: limits, quota, expiry, single use."""

import pytest
from twisted.internet.task import Clock

from components.upload.slots import (DEFAULT_CONTENT_TYPE, BadRequest, FileTooLarge,
                                     QuotaExceeded, SlotManager, cleanFilename)


class StubStore:
    """Reports stored usage per owner from a dict."""

    def __init__(self, usage=None):
        self.stored = usage or {}

    def usage(self, owner):
        return self.stored.get(owner, 0)


def makeSlots(maxFileSize=1000, quota=0, lifetime=300, usage=None):
    clock = Clock()
    return SlotManager(StubStore(usage), maxFileSize, quota, lifetime, clock), clock


def test_requestGrantsSlot():
    """A valid request yields a pending slot with an unguessable token and a deadline."""
    slots, clock = makeSlots()
    clock.advance(10)
    slot = slots.request("a@localhost", "photo.jpg", "123", "image/jpeg")
    assert (slot.owner, slot.filename, slot.size, slot.contentType) == \
        ("a@localhost", "photo.jpg", 123, "image/jpeg")
    assert slot.expires == 310
    assert len(slot.token) >= 32 and slots.pending(slot.token) == slot


def test_tokensAreUnique():
    """Every slot gets its own token."""
    slots, _ = makeSlots()
    tokens = {slots.request("a@localhost", "f", "1").token for _ in range(50)}
    assert len(tokens) == 50


def test_fileTooLarge():
    """A size over the limit is refused with the limit attached."""
    slots, _ = makeSlots(maxFileSize=1000)
    with pytest.raises(FileTooLarge) as e:
        slots.request("a@localhost", "big.bin", "1001")
    assert e.value.maxFileSize == 1000
    assert slots.request("a@localhost", "ok.bin", "1000").size == 1000


@pytest.mark.parametrize("size", [None, "", "-1", "12k", "1.5", "\u00b2"])
def test_invalidSize(size):
    """A missing, negative or non-decimal size is a bad request."""
    slots, _ = makeSlots()
    with pytest.raises(BadRequest):
        slots.request("a@localhost", "f.txt", size)


@pytest.mark.parametrize("raw, clean", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\cat.png", "cat.png"),
    ("tr\u00e8s cool\n.jpg", "tr\u00e8s cool.jpg"),
])
def test_filenameCleaned(raw, clean):
    """Path components and control characters are stripped from file names."""
    assert cleanFilename(raw) == clean


@pytest.mark.parametrize("raw", [None, "", "dir/", "..", "x" * 256])
def test_unusableFilename(raw):
    """A missing, empty, dot-only or overlong file name is a bad request."""
    slots, _ = makeSlots()
    with pytest.raises(BadRequest):
        slots.request("a@localhost", raw, "1")


def test_contentType():
    """A missing type defaults to octet-stream; a malformed one is refused."""
    slots, _ = makeSlots()
    assert slots.request("a@localhost", "f", "1").contentType == DEFAULT_CONTENT_TYPE
    assert slots.request("a@localhost", "f", "1", "text/plain; charset=utf-8").contentType \
        == "text/plain; charset=utf-8"
    with pytest.raises(BadRequest):
        slots.request("a@localhost", "f", "1", "text/html\r\nX-Evil: 1")


def test_quotaCountsPendingSlots():
    """Open slots count against the quota, so parallel requests cannot exceed it."""
    slots, _ = makeSlots(quota=1000)
    slots.request("a@localhost", "one", "600")
    with pytest.raises(QuotaExceeded):
        slots.request("a@localhost", "two", "600")
    assert slots.request("b@localhost", "other user", "600").size == 600


def test_quotaCountsStoredFiles():
    """Bytes already stored count against the quota."""
    slots, _ = makeSlots(quota=1000, usage={"a@localhost": 900})
    with pytest.raises(QuotaExceeded):
        slots.request("a@localhost", "f", "101")
    assert slots.usage("a@localhost") == 900


def test_slotExpires():
    """A slot not used within its lifetime is gone and frees the quota."""
    slots, clock = makeSlots(quota=1000, lifetime=300)
    slot = slots.request("a@localhost", "f", "1000")
    clock.advance(299)
    assert slots.pending(slot.token) is not None
    clock.advance(1)
    assert slots.pending(slot.token) is None and slots.claim(slot.token) is None
    assert slots.usage("a@localhost") == 0


def test_claimIsSingleUse():
    """A claimed slot cannot be claimed again, but counts until released."""
    slots, _ = makeSlots(quota=1000)
    slot = slots.request("a@localhost", "f", "700")
    assert slots.claim(slot.token) == slot
    assert slots.claim(slot.token) is None and slots.pending(slot.token) is None
    assert slots.usage("a@localhost") == 700
    slots.release(slot.token)
    assert slots.usage("a@localhost") == 0


def test_expireSlotsSweeps():
    """The sweep forgets expired pending slots and reports how many."""
    slots, clock = makeSlots(lifetime=10)
    slots.request("a@localhost", "f", "1")
    clock.advance(5)
    slots.request("a@localhost", "g", "1")
    clock.advance(5)
    assert slots.expireSlots() == 1
    assert slots.expireSlots() == 0
