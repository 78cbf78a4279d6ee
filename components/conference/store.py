# -*- test-case-name: tests.components.conference.test_muc_store -*-
"""
Storage of persistent rooms (XEP-0045 section 4.2, "Persistent Room":
its configuration and affiliations outlive its occupants and restarts).

A small interface with two implementations, like the core storage: every
method returns a Deferred.  L{MemoryRoomStore} answers at once and serves
unit tests; L{SQLRoomStore} keeps two SQLAlchemy Core tables and runs its
blocking calls in the reactor's thread pool, one at a time so writes land
in the order they were made.

Temporary rooms are never stored.
"""

import os
from dataclasses import dataclass, field

from sqlalchemy import (JSON, Column, MetaData, String, Table, Text,
                        create_engine, delete, insert, select)
from twisted.internet import defer, threads

__all__ = ["StoredRoom", "MemoryRoomStore", "SQLRoomStore", "openRoomStore", "metadata"]


@dataclass
class StoredRoom:
    """
    A persistent room as stored.

    @ivar config: the L{RoomConfig.toDict} dictionary.
    @ivar affiliations: bare JID -> (affiliation, reason).
    """

    jid: str
    config: dict
    affiliations: dict = field(default_factory=dict)


class MemoryRoomStore:
    """Rooms in dictionaries; the reference implementation."""

    def __init__(self):
        self.rooms = {}
        self.affiliations = {}

    def loadRooms(self):
        """All stored rooms, as L{StoredRoom}s."""
        return defer.succeed([
            StoredRoom(jid, dict(config), dict(self.affiliations.get(jid, {})))
            for jid, config in sorted(self.rooms.items())])

    def saveRoom(self, jid, config, affiliations=None):
        """
        Store the room C{jid} with C{config}; C{affiliations} (bare JID ->
        (affiliation, reason)), when given, replace the stored ones.
        """
        self.rooms[jid] = dict(config)
        if affiliations is not None:
            self.affiliations[jid] = dict(affiliations)
        return defer.succeed(None)

    def deleteRoom(self, jid):
        """Forget the room C{jid} and its affiliations."""
        self.rooms.pop(jid, None)
        self.affiliations.pop(jid, None)
        return defer.succeed(None)

    def setAffiliation(self, room, jid, affiliation, reason=""):
        """Record one affiliation; C{none} removes it."""
        stored = self.affiliations.setdefault(room, {})
        if affiliation == "none":
            stored.pop(jid, None)
        else:
            stored[jid] = (affiliation, reason or "")
        return defer.succeed(None)

    def flush(self):
        """A Deferred that fires once earlier writes are done."""
        return defer.succeed(None)

    def close(self):
        return defer.succeed(None)


metadata = MetaData()

# COMPAT: prefixed names, so the rooms share a database with the core
# tables (and a later XEP-0060 "affiliations") without a clash.
roomsTable = Table(
    "muc_rooms", metadata,
    Column("jid", String(3071), primary_key=True),
    Column("config", JSON, nullable=False),
)

affiliationsTable = Table(
    "muc_affiliations", metadata,
    Column("room", String(3071), primary_key=True),
    Column("jid", String(3071), primary_key=True),
    Column("affiliation", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
)


class SQLRoomStore:
    """
    Rooms in an SQL database through SQLAlchemy Core.

    The tables are created at start-up (C{createTables}); they belong in
    the server's schema migrations once those exist.
    """

    def __init__(self, url, reactor=None, threadpool=None, createTables=True):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.threadpool = threadpool or reactor.getThreadPool()
        _ensureSQLiteDirectory(url)
        self.engine = create_engine(url, future=True)
        self._lock = defer.DeferredLock()
        if createTables:
            metadata.create_all(self.engine)
        # Writes queue one at a time; let them finish before the reactor
        # stops its thread pool.
        self._trigger = reactor.addSystemEventTrigger("before", "shutdown", self.flush)

    def _run(self, function, *args):
        return self._lock.run(threads.deferToThreadPool, self.reactor,
                              self.threadpool, function, *args)

    def loadRooms(self):
        return self._run(self._loadRooms)

    def _loadRooms(self):
        with self.engine.connect() as conn:
            rooms = {row.jid: StoredRoom(row.jid, dict(row.config))
                     for row in conn.execute(select(roomsTable))}
            for row in conn.execute(select(affiliationsTable)):
                if row.room in rooms:
                    rooms[row.room].affiliations[row.jid] = (row.affiliation, row.reason)
        return [rooms[jid] for jid in sorted(rooms)]

    def saveRoom(self, jid, config, affiliations=None):
        return self._run(self._saveRoom, jid, dict(config),
                         None if affiliations is None else dict(affiliations))

    def _saveRoom(self, jid, config, affiliations):
        with self.engine.begin() as conn:
            conn.execute(delete(roomsTable).where(roomsTable.c.jid == jid))
            conn.execute(insert(roomsTable).values(jid=jid, config=config))
            if affiliations is None:
                return
            conn.execute(delete(affiliationsTable).where(affiliationsTable.c.room == jid))
            rows = [{"room": jid, "jid": bare, "affiliation": a, "reason": r or ""}
                    for bare, (a, r) in affiliations.items()]
            if rows:
                conn.execute(insert(affiliationsTable), rows)

    def deleteRoom(self, jid):
        return self._run(self._deleteRoom, jid)

    def _deleteRoom(self, jid):
        with self.engine.begin() as conn:
            conn.execute(delete(affiliationsTable).where(affiliationsTable.c.room == jid))
            conn.execute(delete(roomsTable).where(roomsTable.c.jid == jid))

    def setAffiliation(self, room, jid, affiliation, reason=""):
        return self._run(self._setAffiliation, room, jid, affiliation, reason or "")

    def _setAffiliation(self, room, jid, affiliation, reason):
        table = affiliationsTable
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.room == room, table.c.jid == jid))
            if affiliation != "none":
                conn.execute(insert(table).values(room=room, jid=jid,
                                                  affiliation=affiliation, reason=reason))

    def flush(self):
        """A Deferred that fires once earlier writes are done."""
        return self._run(lambda: None)

    def close(self):
        """Release the connection pool once pending writes are done."""
        if self._trigger is not None:
            self.reactor.removeSystemEventTrigger(self._trigger)
            self._trigger = None
        return self._run(self.engine.dispose)


def _ensureSQLiteDirectory(url):
    prefix = "sqlite:///"
    if url.startswith(prefix) and len(url) > len(prefix):
        directory = os.path.dirname(url[len(prefix):])
        if directory:
            os.makedirs(directory, exist_ok=True)


def openRoomStore(url, **kwargs):
    """C{memory:} for a L{MemoryRoomStore}, any SQLAlchemy URL for SQL."""
    if url in ("memory:", "memory://"):
        return MemoryRoomStore()
    return SQLRoomStore(url, **kwargs)
