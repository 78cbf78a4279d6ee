# -*- test-case-name: tests.components.conference.test_muc_store -*-
"""
Storage of persistent rooms (XEP-0045 section 4.2, "Persistent Room":
its configuration, affiliations and subject outlive its occupants and
restarts).

A small interface with two implementations, like the core storage: every
method returns a Deferred.  L{MemoryRoomStore} answers at once and serves
unit tests; L{SQLRoomStore} keeps two SQLAlchemy Core tables, migrated by
the component's own chain (L{components.conference.migrations}), and runs
its blocking calls in the reactor's thread pool, one at a time so writes
land in the order they were made.

Temporary rooms are never stored.
"""

import os
from dataclasses import dataclass, field

from sqlalchemy import (JSON, Column, MetaData, String, Table, Text,
                        create_engine, delete, insert, select, update)
from twisted.internet import defer, threads

__all__ = ["StoredRoom", "MemoryRoomStore", "SQLRoomStore", "openRoomStore", "metadata"]


@dataclass
class StoredRoom:
    """
    A persistent room as stored.

    @ivar config: the L{RoomConfig.toDict} dictionary.
    @ivar affiliations: bare JID -> (affiliation, reason).
    @ivar subject: the room subject (section 8.1), None if never set.
    @ivar subjectFrom: the occupant JID (or room JID) that set it.
    """

    jid: str
    config: dict
    affiliations: dict = field(default_factory=dict)
    subject: str = None
    subjectFrom: str = None


class MemoryRoomStore:
    """Rooms in dictionaries; the reference implementation."""

    def __init__(self):
        self.rooms = {}
        self.affiliations = {}
        self.subjects = {}

    def loadRooms(self):
        """All stored rooms, as L{StoredRoom}s."""
        return defer.succeed([
            StoredRoom(jid, dict(config), dict(self.affiliations.get(jid, {})),
                       *self.subjects.get(jid, (None, None)))
            for jid, config in sorted(self.rooms.items())])

    def saveRoom(self, jid, config, affiliations=None):
        """
        Store the room C{jid} with C{config}; C{affiliations} (bare JID ->
        (affiliation, reason)), when given, replace the stored ones.  A
        stored subject is kept.
        """
        self.rooms[jid] = dict(config)
        if affiliations is not None:
            self.affiliations[jid] = dict(affiliations)
        return defer.succeed(None)

    def setSubject(self, jid, subject, subjectFrom):
        """Record the subject of the stored room C{jid} (nothing if not stored)."""
        if jid in self.rooms:
            self.subjects[jid] = (subject, subjectFrom)
        return defer.succeed(None)

    def deleteRoom(self, jid):
        """Forget the room C{jid}, its affiliations and subject."""
        self.rooms.pop(jid, None)
        self.affiliations.pop(jid, None)
        self.subjects.pop(jid, None)
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
# tables (and with any other service's) without a clash.
roomsTable = Table(
    "muc_rooms", metadata,
    Column("jid", String(3071), primary_key=True),
    Column("config", JSON, nullable=False),
    Column("subject", Text, nullable=True),
    Column("subject_from", String(3071), nullable=True),
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

    At start-up (C{migrate}) the tables are brought to the head of the
    component's migration chain, blocking, before the reactor runs.
    """

    def __init__(self, url, reactor=None, threadpool=None, migrate=True):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.threadpool = threadpool or reactor.getThreadPool()
        _ensureSQLiteDirectory(url)
        self.engine = create_engine(url, future=True)
        self._lock = defer.DeferredLock()
        if migrate:
            from components.conference.migrations import CONFERENCE
            with self.engine.begin() as connection:
                CONFERENCE.upgrade(connection)
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
            rooms = {row.jid: StoredRoom(row.jid, dict(row.config), {}, row.subject,
                                         row.subject_from)
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
            updated = conn.execute(update(roomsTable).where(roomsTable.c.jid == jid)
                                   .values(config=config))
            if updated.rowcount == 0:
                conn.execute(insert(roomsTable).values(jid=jid, config=config))
            if affiliations is None:
                return
            conn.execute(delete(affiliationsTable).where(affiliationsTable.c.room == jid))
            rows = [{"room": jid, "jid": bare, "affiliation": a, "reason": r or ""}
                    for bare, (a, r) in affiliations.items()]
            if rows:
                conn.execute(insert(affiliationsTable), rows)

    def setSubject(self, jid, subject, subjectFrom):
        return self._run(self._setSubject, jid, subject, subjectFrom)

    def _setSubject(self, jid, subject, subjectFrom):
        with self.engine.begin() as conn:
            conn.execute(update(roomsTable).where(roomsTable.c.jid == jid)
                         .values(subject=subject, subject_from=subjectFrom))

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
