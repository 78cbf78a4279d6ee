"""Tests for L{components.upload.store}: files, metadata, usage and expiry."""

import io
import json
import os

from twisted.internet import defer
from twisted.internet.task import Clock

from components.upload.slots import Slot
from components.upload.store import FileStore


def inline(f, *args):
    """Run the store's file work at once instead of in a thread."""
    return defer.maybeDeferred(f, *args)


def makeStore(tmp_path, expireAfter=0):
    clock = Clock()
    store = FileStore(str(tmp_path / "uploads"), expireAfter, clock, inline)
    store.load()
    return store, clock


def slot(token="tok", owner="a@localhost", size=5):
    return Slot(token, owner, "hello.txt", size, "text/plain", 1e9)


def test_addFromFileObject(tmp_path):
    """A body in memory is written with its metadata and counted as usage."""
    store, clock = makeStore(tmp_path)
    clock.advance(42)
    results = []
    store.add(slot(), io.BytesIO(b"hello")).addCallback(results.append)
    [record] = results
    assert record.created == 42 and record.expires == 0
    assert open(store.dataPath("tok"), "rb").read() == b"hello"
    meta = json.load(open(store.dataPath("tok") + ".json"))
    assert meta["owner"] == "a@localhost" and meta["contentType"] == "text/plain"
    assert store.get("tok") == record and store.usage("a@localhost") == 5


def test_addFromPathMoves(tmp_path):
    """A spooled body is moved into place, not copied."""
    store, _ = makeStore(tmp_path)
    spooled = tmp_path / "body"
    spooled.write_bytes(b"hello")
    store.add(slot(), str(spooled))
    assert not spooled.exists()
    assert open(store.dataPath("tok"), "rb").read() == b"hello"


def test_loadReadsBack(tmp_path):
    """A new store finds the files of the previous run and drops partial writes."""
    store, _ = makeStore(tmp_path)
    store.add(slot(), io.BytesIO(b"hello"))
    partial = store.dataPath("crashed") + ".part"
    open(partial, "wb").close()
    again, _ = makeStore(tmp_path)
    assert again.get("tok").filename == "hello.txt"
    assert again.usage("a@localhost") == 5
    assert not os.path.exists(partial)


def test_expiry(tmp_path):
    """Files disappear after expire_after: unserved at once, deleted by the sweep."""
    store, clock = makeStore(tmp_path, expireAfter=100)
    store.add(slot(), io.BytesIO(b"hello"))
    clock.advance(99)
    assert store.get("tok") is not None
    clock.advance(1)
    assert store.get("tok") is None
    removed = []
    store.expire().addCallback(removed.append)
    assert removed == [1] and store.usage("a@localhost") == 0
    assert os.listdir(store.directory) == []


def test_neverExpires(tmp_path):
    """With expire_after 0, files are kept forever."""
    store, clock = makeStore(tmp_path, expireAfter=0)
    store.add(slot(), io.BytesIO(b"hello"))
    clock.advance(10 ** 9)
    removed = []
    store.expire().addCallback(removed.append)
    assert removed == [0] and store.get("tok") is not None
