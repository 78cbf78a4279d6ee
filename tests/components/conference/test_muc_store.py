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


    @defer.inlineCallbacks
    def test_subject(self):
        """A stored room's subject and its setter come back; saving the room again keeps them."""
        yield self.store.saveRoom(ROOM, {"name": "x"})
        [fresh] = yield self.store.loadRooms()
        self.assertEqual((fresh.subject, fresh.subjectFrom), (None, None))
        yield self.store.setSubject(ROOM, "Lunch at noon", ROOM + "/chef")
        yield self.store.saveRoom(ROOM, {"name": "y"}, {"a@localhost": ("owner", "")})
        [room] = yield self.store.loadRooms()
        self.assertEqual((room.subject, room.subjectFrom), ("Lunch at noon", ROOM + "/chef"))
        self.assertEqual(room.config, {"name": "y"})

    @defer.inlineCallbacks
    def test_subjectOfUnstoredRoom(self):
        """Setting the subject of a room that is not stored stores nothing."""
        yield self.store.setSubject(ROOM, "nobody", ROOM)
        self.assertEqual((yield self.store.loadRooms()), [])


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


class RoomMigrationTests(unittest.TestCase):
    """The component's own migration chain on SQLite."""

    @defer.inlineCallbacks
    def test_takesOverTablesMadeBeforeTheChain(self):
        """Rooms in tables the store once made itself survive the chain taking over."""
        from sqlalchemy import create_engine, text
        from components.conference.migrations import CONFERENCE
        url = "sqlite:///" + os.path.join(self.mktemp(), "old.db")
        os.makedirs(os.path.dirname(url[len("sqlite:///"):]))
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE muc_rooms (jid VARCHAR(3071) PRIMARY KEY, "
                              "config JSON NOT NULL)"))
            conn.execute(text("CREATE TABLE muc_affiliations (room VARCHAR(3071), "
                              "jid VARCHAR(3071), affiliation VARCHAR(16) NOT NULL, "
                              "reason TEXT NOT NULL, PRIMARY KEY (room, jid))"))
            conn.execute(text("INSERT INTO muc_rooms VALUES ('old@conference.localhost', "
                              "'{\"name\": \"Old\"}')"))
        engine.dispose()
        store = SQLRoomStore(url)
        self.addCleanup(store.close)
        [room] = yield store.loadRooms()
        self.assertEqual((room.jid, room.config, room.subject), (
            "old@conference.localhost", {"name": "Old"}, None))
        yield store.setSubject(room.jid, "kept", room.jid)
        [room] = yield store.loadRooms()
        self.assertEqual(room.subject, "kept")
        with store.database.engine.connect() as conn:
            self.assertEqual(CONFERENCE.current(conn), CONFERENCE.head)

    def test_schemaMatchesTables(self):
        """The chain builds exactly the tables the store declares."""
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext
        from components.conference.store import metadata
        store = SQLRoomStore("sqlite:///" + os.path.join(self.mktemp(), "rooms.db"))
        self.addCleanup(store.close)
        with store.database.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "version_table": "alembic_version_conference"})
            self.assertEqual(compare_metadata(context, metadata), [])

    def test_separateFromCoreChain(self):
        """Rooms in the server's own database leave the core chain at its head."""
        from jabberd.storage.sql import SQLStorage
        from jabberd.storage.migrations import CORE
        url = "sqlite:///" + os.path.join(self.mktemp(), "jabberd.db")
        core = SQLStorage(url)
        self.addCleanup(core.close)
        rooms = SQLRoomStore(url)
        self.addCleanup(rooms.close)
        with core.database.engine.connect() as conn:
            self.assertEqual(CORE.current(conn), CORE.head)


class SharedDatabaseTests(unittest.TestCase):
    """Rooms in the server's own database share its Database."""

    @defer.inlineCallbacks
    def test_sharesTheServersDatabase(self):
        """With the server's URL the store uses the server's Database and leaves it open on close."""
        from jabberd.storage.migrations import CORE
        from components.conference.migrations import CONFERENCE
        from jabberd.storage.sql import SQLStorage
        url = "sqlite:///" + os.path.join(self.mktemp(), "jabberd.db")
        core = SQLStorage(url)
        self.addCleanup(core.close)
        store = openRoomStore(url, database=core.database)
        self.assertIs(store.database, core.database)
        yield store.saveRoom(ROOM, {"name": "Kitchen"})
        yield store.close()
        again = openRoomStore(url, database=core.database)
        self.addCleanup(again.close)
        self.assertEqual([r.jid for r in (yield again.loadRooms())], [ROOM])
        yield core.accounts.create("alice", {})
        with core.database.engine.connect() as conn:
            self.assertEqual((CORE.current(conn), CONFERENCE.current(conn)),
                             (CORE.head, CONFERENCE.head))

    def test_otherURLOwnDatabase(self):
        """With another URL the store opens a database of its own, without the core tables."""
        from jabberd.storage.migrations import CORE
        from jabberd.storage.sql import SQLStorage
        directory = self.mktemp()
        core = SQLStorage("sqlite:///" + os.path.join(directory, "jabberd.db"))
        self.addCleanup(core.close)
        store = openRoomStore("sqlite:///" + os.path.join(directory, "rooms.db"),
                              database=core.database)
        self.addCleanup(store.close)
        self.assertIsNot(store.database, core.database)
        with store.database.engine.connect() as conn:
            self.assertIsNone(CORE.current(conn))


def test_openRoomStore():
    """memory: opens the memory store."""
    assert isinstance(openRoomStore("memory:"), MemoryRoomStore)
