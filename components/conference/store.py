# -*- test-case-name: tests.components.conference.test_muc_store -*-
"""
Storage of persistent rooms (XEP-0045 section 4.2, "Persistent Room":
its configuration, affiliations and subject outlive its occupants and
restarts).

A small interface with two implementations, like the core storage: every
method returns a Deferred.  L{MemoryRoomStore} answers at once and serves
unit tests; L{SQLRoomStore} keeps two SQLAlchemy Core tables, migrated by
the component's own chain (L{components.conference.migrations}), on the
core's L{jabberd.storage.sql.database.Database} machinery (the server's
own database when the URL is the same), one call at a time so writes land
in the order they were made.

Temporary rooms are never stored.
"""

from dataclasses import dataclass, field

from sqlalchemy import JSON, Column, MetaData, String, Table, Text, delete, insert, select, update
from twisted.internet import defer

from components.conference.migrations import CONFERENCE
from jabberd.storage.sql.database import Database

__all__ = ["StoredRoom", "MemoryRoomStore", "SQLRoomStore", "RoomDatabase", "openRoomStore",
           "metadata"]


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


class RoomDatabase(Database):
    """
    A database the rooms have to themselves: opening it migrates the
    conference chain, not the core's.
    """

    chains = (CONFERENCE,)


class SQLRoomStore:
    """
    Rooms in an SQL database through SQLAlchemy Core.

    The rooms share the server's L{Database} (C{database}) or open a
    L{RoomDatabase} of their own at C{url}; either way, at start-up the
    tables are brought to the head of the component's migration chain,
    blocking, before the reactor runs.  Calls run one at a time, reads
    included, so writes land in the order they were made whatever the
    database's thread count.

    @ivar database: the L{Database} the rooms are in.
    """

    def __init__(self, url=None, reactor=None, database=None):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        if database is None:
            self._owned = database = RoomDatabase(url, reactor=reactor)
        else:
            self._owned = None
            database.migrate(CONFERENCE)
        self.database = database
        self._lock = defer.DeferredLock()
        # Writes queue one at a time; let them reach the database before
        # it finishes its queued work at shutdown.
        self._trigger = reactor.addSystemEventTrigger("before", "shutdown", self.flush)

    def _read(self, work, *args):
        return self._lock.run(self.database.read, work, *args)

    def _write(self, work, *args):
        return self._lock.run(self.database.write, work, *args)

    def loadRooms(self):
        return self._read(_loadRooms)

    def saveRoom(self, jid, config, affiliations=None):
        return self._write(_saveRoom, jid, dict(config),
                           None if affiliations is None else dict(affiliations))

    def setSubject(self, jid, subject, subjectFrom):
        return self._write(_setSubject, jid, subject, subjectFrom)

    def deleteRoom(self, jid):
        return self._write(_deleteRoom, jid)

    def setAffiliation(self, room, jid, affiliation, reason=""):
        return self._write(_setAffiliation, room, jid, affiliation, reason or "")

    def flush(self):
        """A Deferred that fires once earlier writes are done."""
        return self._lock.run(defer.succeed, None)

    def close(self):
        """
        Once pending writes are done, close the database if it is the
        rooms' own (the server closes its shared one).
        """
        if self._trigger is not None:
            self.reactor.removeSystemEventTrigger(self._trigger)
            self._trigger = None
        if self._owned is None:
            return self.flush()
        return self._lock.run(self._owned.close)


def _loadRooms(conn):
    rooms = {row.jid: StoredRoom(row.jid, dict(row.config), {}, row.subject,
                                 row.subject_from)
             for row in conn.execute(select(roomsTable))}
    for row in conn.execute(select(affiliationsTable)):
        if row.room in rooms:
            rooms[row.room].affiliations[row.jid] = (row.affiliation, row.reason)
    return [rooms[jid] for jid in sorted(rooms)]


def _saveRoom(conn, jid, config, affiliations):
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


def _setSubject(conn, jid, subject, subjectFrom):
    conn.execute(update(roomsTable).where(roomsTable.c.jid == jid)
                 .values(subject=subject, subject_from=subjectFrom))


def _deleteRoom(conn, jid):
    conn.execute(delete(affiliationsTable).where(affiliationsTable.c.room == jid))
    conn.execute(delete(roomsTable).where(roomsTable.c.jid == jid))


def _setAffiliation(conn, room, jid, affiliation, reason):
    table = affiliationsTable
    conn.execute(delete(table).where(table.c.room == room, table.c.jid == jid))
    if affiliation != "none":
        conn.execute(insert(table).values(room=room, jid=jid,
                                          affiliation=affiliation, reason=reason))


def openRoomStore(url, database=None, **kwargs):
    """
    C{memory:} for a L{MemoryRoomStore}, any SQLAlchemy URL for SQL: in
    C{database} (the server's L{Database}) when C{url} names it, else in a
    database of the rooms' own.
    """
    if url in ("memory:", "memory://"):
        return MemoryRoomStore()
    if database is not None and database.serves(url):
        return SQLRoomStore(database=database, **kwargs)
    return SQLRoomStore(url, **kwargs)
