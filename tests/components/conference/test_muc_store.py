"""
Tests for components.conference.store: one mixin run on the memory store
and on the SQL store (SQLite in a temporary directory).
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from components.conference.store import MemoryRoomStore, SQLRoomStore, openRoomStore

ROOM = "room@conference.localhost"


class RoomStoreMixin:
    """The store contract; subclasses provide C{makeStore}."""

    def setUp(self):
        self.store = self.makeStore()
        self.addCleanup(self.store.close)

    @defer.inlineCallbacks
    def test_saveAndLoad(self):
        """A saved room comes back with its configuration and affiliations."""
        yield self.store.saveRoom(ROOM, {"name": "Kitchen", "persistent": True},
                                  {"owner@localhost": ("owner", ""),
                                   "eve@localhost": ("outcast", "spam")})
        [room] = yield self.store.loadRooms()
        self.assertEqual(room.jid, ROOM)
        self.assertEqual(room.config, {"name": "Kitchen", "persistent": True})
        self.assertEqual(room.affiliations, {"owner@localhost": ("owner", ""),
                                             "eve@localhost": ("outcast", "spam")})

    @defer.inlineCallbacks
    def test_saveReplacesAffiliations(self):
        """Saving again with affiliations replaces the stored ones; without keeps them."""
        yield self.store.saveRoom(ROOM, {}, {"a@localhost": ("member", "")})
        yield self.store.saveRoom(ROOM, {"name": "x"}, {"b@localhost": ("admin", "")})
        yield self.store.saveRoom(ROOM, {"name": "y"})
        [room] = yield self.store.loadRooms()
        self.assertEqual(room.config, {"name": "y"})
        self.assertEqual(room.affiliations, {"b@localhost": ("admin", "")})

    @defer.inlineCallbacks
    def test_setAffiliation(self):
        """Single affiliation changes are stored; none removes the entry."""
        yield self.store.saveRoom(ROOM, {})
        yield self.store.setAffiliation(ROOM, "a@localhost", "member", "friend")
        yield self.store.setAffiliation(ROOM, "a@localhost", "admin", "")
        yield self.store.setAffiliation(ROOM, "b@localhost", "member", "")
        yield self.store.setAffiliation(ROOM, "b@localhost", "none", "")
        [room] = yield self.store.loadRooms()
        self.assertEqual(room.affiliations, {"a@localhost": ("admin", "")})

    @defer.inlineCallbacks
    def test_deleteRoom(self):
        """A deleted room and its affiliations are gone; other rooms stay."""
        yield self.store.saveRoom(ROOM, {}, {"a@localhost": ("owner", "")})
        yield self.store.saveRoom("other@conference.localhost", {})
        yield self.store.deleteRoom(ROOM)
        rooms = yield self.store.loadRooms()
        self.assertEqual([r.jid for r in rooms], ["other@conference.localhost"])
        self.assertEqual(rooms[0].affiliations, {})


class MemoryRoomStoreTests(RoomStoreMixin, unittest.TestCase):
    def makeStore(self):
        return MemoryRoomStore()


class SQLRoomStoreTests(RoomStoreMixin, unittest.TestCase):
    def makeStore(self):
        path = os.path.join(self.mktemp(), "rooms.db")
        return SQLRoomStore("sqlite:///" + path)

    @defer.inlineCallbacks
    def test_writesKeepTheirOrder(self):
        """Writes issued back to back are applied in the order they were made."""
        writes = [self.store.setAffiliation(ROOM, "a@localhost", a, "")
                  for a in ("member", "admin", "outcast", "owner")]
        yield self.store.saveRoom(ROOM, {})
        yield defer.gatherResults(writes)
        [room] = yield self.store.loadRooms()
        self.assertEqual(room.affiliations["a@localhost"][0], "owner")


def test_openRoomStore():
    """memory: opens the memory store."""
    assert isinstance(openRoomStore("memory:"), MemoryRoomStore)
