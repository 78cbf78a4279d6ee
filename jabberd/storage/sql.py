# -*- test-case-name: tests.storage.test_sqlite -*-
"""
The SQL store: the storage interface of L{jabberd.storage} on SQLAlchemy 2
Core, for SQLite (the default, one file) and PostgreSQL (psycopg 3).

Blocking database work runs in a thread pool of this store's own, never on
the reactor thread; every method returns a Deferred fired on the reactor
thread.  Each write is one committed transaction.  SQLite gets a single
worker thread, which serialises writes, and runs in WAL mode with
C{synchronous=FULL}, so a commit (an acknowledged offline message) is on
disk before its Deferred fires and survives a crash or power loss.

The constructor is the one blocking exception: it creates the engine and
migrates the schema to the head revision (L{jabberd.storage.migrations})
at start-up.
"""

import json
import os
import time

from sqlalchemy import create_engine, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from twisted.internet import defer
from jabberd.logs import Logger

from jabberd.storage import OfflineMessage, RosterItem, UserExists, migrations
from jabberd.storage.workers import Workers
from jabberd.storage.schema import (USER_DATA, lastActivity, offlineMessages,
                                    pendingSubscriptions, privateXML,
                                    rosterItems, rosterVersions, users, vcards)

__all__ = ["SQLStorage", "StorageClosed", "normaliseURL"]

# INSERT ... ON CONFLICT DO UPDATE, where the dialect has it.
_UPSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class StorageClosed(Exception):
    """The store was used after L{SQLStorage.close}."""


def normaliseURL(url):
    """
    Parse C{url}; plain C{postgresql://} (and C{postgres://}) means the
    psycopg 3 driver, the one jabberd depends on.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqliteFile(url):
    """The file path of an SQLite URL, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


SQLITE_READERS = 2


def _sqlitePragmas(dbapiConnection, connectionRecord):
    # WAL: readers (jabberdctl, a backup) do not block the server's writer.
    # FULL: the WAL is synced at every commit, so a committed write
    # survives power loss, not only a process crash.
    cursor = dbapiConnection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _makeEngine(url, kwargs, threadCount):
    """Create the engine with the per-backend settings described above."""
    if url.get_backend_name() == "sqlite":
        connectArgs = kwargs.setdefault("connect_args", {})
        # Connections are made at start-up and used in the worker thread.
        connectArgs.setdefault("check_same_thread", False)
        # Wait for another process's write (jabberdctl) instead of failing.
        connectArgs.setdefault("timeout", 30)
        path = _sqliteFile(url)
        if path is None:
            # One shared connection: each new one would be an empty database.
            kwargs.setdefault("poolclass", StaticPool)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlitePragmas)
        return engine
    kwargs.setdefault("pool_size", threadCount)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _rowToItem(row):
    return RosterItem(jid=row.jid, name=row.name, subscription=row.subscription,
                      ask=row.ask, approved=bool(row.approved),
                      groups=json.loads(row.groups))


def _itemValues(item):
    return {"name": item.name or "", "subscription": item.subscription,
            "ask": item.ask or "", "approved": bool(item.approved),
            "groups": json.dumps(list(item.groups))}


def _upsert(connection, table, keys, values):
    """Insert the row at C{keys}, or update it with C{values} if it exists."""
    dialectInsert = _UPSERT.get(connection.dialect.name)
    if dialectInsert is not None:
        statement = dialectInsert(table).values(**keys, **values)
        connection.execute(statement.on_conflict_do_update(
            index_elements=list(keys), set_=values))
        return
    match = [table.c[k] == v for k, v in keys.items()]
    if connection.execute(update(table).where(*match).values(**values)).rowcount == 0:
        connection.execute(insert(table).values(**keys, **values))


def _bumpRosterVersion(connection, username):
    """Increment (or start at 1) the roster version and return it."""
    dialectInsert = _UPSERT.get(connection.dialect.name)
    if dialectInsert is not None:
        statement = dialectInsert(rosterVersions).values(username=username, version=1)
        statement = statement.on_conflict_do_update(
            index_elements=["username"],
            set_={"version": rosterVersions.c.version + 1})
        return connection.execute(statement.returning(rosterVersions.c.version)).scalar_one()
    _upsert(connection, rosterVersions, {"username": username},
            {"version": rosterVersions.c.version + 1})
    return connection.execute(select(rosterVersions.c.version).where(
        rosterVersions.c.username == username)).scalar_one()


class SQLStorage:
    """
    The storage interface on an SQL database.

    @ivar engine: the SQLAlchemy engine (use it only from the thread pool).
    @ivar url: the database URL, password hidden, for messages.
    @ivar threadCount: the number of worker threads.
    """

    log = Logger()

    def __init__(self, url, threads=None, reactor=None, **kwargs):
        """
        Open the database at C{url} and migrate it to the head revision.

        @param threads: worker threads; always 1 for SQLite, default 4.
        @param reactor: the reactor results are delivered on.
        @param kwargs: passed to L{sqlalchemy.create_engine}.
        """
        if reactor is None:
            from twisted.internet import reactor
        self._reactor = reactor
        parsed = normaliseURL(url)
        self.url = parsed.render_as_string(hide_password=True)
        isSQLite = parsed.get_backend_name() == "sqlite"
        self.threadCount = 1 if isSQLite else (threads or 4)
        self.engine = _makeEngine(parsed, dict(kwargs), self.threadCount)
        try:
            with self.engine.begin() as connection:
                migrations.upgrade(connection)
        except BaseException:
            self.engine.dispose()
            raise
        self._pool = Workers(reactor, self.threadCount, "storage")
        # SQLite has one writer, so a commit's fsync would hold up every
        # read queued behind it; in WAL mode readers may run beside the
        # writer, so a file database gets a pool of its own for reads.
        self._readPool = self._pool
        if isSQLite and _sqliteFile(parsed) is not None:
            self._readPool = Workers(reactor, SQLITE_READERS, "storage-read")
        self._shutdownTrigger = None
        self._closed = False
        self.log.info("Storage {url} at schema revision {revision}",
                      url=self.url, revision=migrations.headRevision())

    # the worker threads

    def _run(self, function, pool=None):
        """Run C{function()} in C{pool} (the writer's); a Deferred of its result."""
        if self._closed:
            return defer.fail(StorageClosed(self.url))
        pool = pool or self._pool
        if self._shutdownTrigger is None:
            # Queued writes are acknowledged work: finish them at shutdown
            # (the workers are daemon threads, which exit would cut off).
            self._shutdownTrigger = self._reactor.addSystemEventTrigger(
                "during", "shutdown", self._reactorShutdown)
        return pool.submit(function)

    def _read(self, function, *args):
        def work():
            with self.engine.connect() as connection:
                return function(connection, *args)
        return self._run(work, self._readPool)

    def _write(self, function, *args):
        def work():
            with self.engine.begin() as connection:
                return function(connection, *args)
        return self._run(work)

    def _reactorShutdown(self):
        self._shutdownTrigger = None
        self.close()

    def close(self):
        """
        Finish queued work, stop the threads and release the connections.
        Joining the workers blocks for at most the statements in flight.
        """
        if self._closed:
            return defer.succeed(None)
        self._closed = True
        if self._shutdownTrigger is not None:
            self._reactor.removeSystemEventTrigger(self._shutdownTrigger)
            self._shutdownTrigger = None
        for pool in {self._pool, self._readPool}:
            pool.stop()  # runs the queued work first, then joins the workers
        self.engine.dispose()
        return defer.succeed(None)

    # accounts

    def createUser(self, username, credentials):
        """Create an account; fails with L{UserExists} if taken."""
        def work(connection):
            try:
                connection.execute(insert(users).values(
                    username=username, credentials=json.dumps(credentials)))
            except IntegrityError:
                # Raised inside the transaction, so it is rolled back.
                raise UserExists(username) from None
        return self._write(work)

    def userExists(self, username):
        def work(connection):
            return connection.execute(select(users.c.username).where(
                users.c.username == username)).first() is not None
        return self._read(work)

    def getCredentials(self, username):
        """Return the stored credentials dict, or None for no such user."""
        def work(connection):
            raw = connection.execute(select(users.c.credentials).where(
                users.c.username == username)).scalar()
            return json.loads(raw) if raw is not None else None
        return self._read(work)

    def setCredentials(self, username, credentials):
        """Replace the credentials; False if there is no such user."""
        def work(connection):
            result = connection.execute(update(users).where(
                users.c.username == username).values(credentials=json.dumps(credentials)))
            return result.rowcount > 0
        return self._write(work)

    def deleteUser(self, username):
        """Remove the account and every piece of its data, in one transaction."""
        def work(connection):
            existed = False
            for table in USER_DATA:
                result = connection.execute(delete(table).where(table.c.username == username))
                existed = existed or (table is users and result.rowcount > 0)
            return existed
        return self._write(work)

    def listUsers(self):
        def work(connection):
            return list(connection.execute(
                select(users.c.username).order_by(users.c.username)).scalars())
        return self._read(work)

    # roster (RFC 6121 section 2)

    def getRoster(self, username):
        def work(connection):
            rows = connection.execute(select(rosterItems).where(
                rosterItems.c.username == username).order_by(rosterItems.c.jid))
            return [_rowToItem(row) for row in rows]
        return self._read(work)

    def getRosterItem(self, username, jid):
        def work(connection):
            row = connection.execute(select(rosterItems).where(
                rosterItems.c.username == username, rosterItems.c.jid == jid)).first()
            return _rowToItem(row) if row is not None else None
        return self._read(work)

    def setRosterItem(self, username, item):
        """Add or replace C{item}; returns the new roster version."""
        values = _itemValues(item)

        def work(connection):
            _upsert(connection, rosterItems, {"username": username, "jid": item.jid}, values)
            return _bumpRosterVersion(connection, username)
        return self._write(work)

    def removeRosterItem(self, username, jid):
        """Remove the item for C{jid}; returns the new roster version."""
        def work(connection):
            connection.execute(delete(rosterItems).where(
                rosterItems.c.username == username, rosterItems.c.jid == jid))
            return _bumpRosterVersion(connection, username)
        return self._write(work)

    def getRosterVersion(self, username):
        def work(connection):
            version = connection.execute(select(rosterVersions.c.version).where(
                rosterVersions.c.username == username)).scalar()
            return version or 0
        return self._read(work)

    # inbound subscription requests awaiting the user's answer (section 3.1.3)

    def addPendingSubscription(self, username, jid, xml):
        def work(connection):
            _upsert(connection, pendingSubscriptions,
                    {"username": username, "jid": jid}, {"xml": xml})
        return self._write(work)

    def getPendingSubscriptions(self, username):
        """Return [(jid, xml)] of stored inbound subscription requests."""
        def work(connection):
            rows = connection.execute(
                select(pendingSubscriptions.c.jid, pendingSubscriptions.c.xml)
                .where(pendingSubscriptions.c.username == username)
                .order_by(pendingSubscriptions.c.jid))
            return [tuple(row) for row in rows]
        return self._read(work)

    def removePendingSubscription(self, username, jid):
        def work(connection):
            connection.execute(delete(pendingSubscriptions).where(
                pendingSubscriptions.c.username == username,
                pendingSubscriptions.c.jid == jid))
        return self._write(work)

    def pendingSubscriptionUsers(self):
        """The usernames that have stored subscription requests."""
        def work(connection):
            return {row.username for row in connection.execute(
                select(pendingSubscriptions.c.username).distinct())}
        return self._read(work)

    # offline messages (XEP-0160)

    def storeOffline(self, username, xml, stamp=None):
        """Store a message; returns its id once it is committed."""
        values = {"username": username, "xml": xml,
                  "stamp": stamp if stamp is not None else time.time()}

        def work(connection):
            result = connection.execute(insert(offlineMessages).values(**values))
            return result.inserted_primary_key[0]
        return self._write(work)

    def offlineUsers(self):
        """The usernames that have offline messages stored."""
        def work(connection):
            return {row.username for row in connection.execute(
                select(offlineMessages.c.username).distinct())}
        return self._read(work)

    def countOffline(self, username):
        def work(connection):
            return connection.execute(select(func.count()).select_from(offlineMessages).where(
                offlineMessages.c.username == username)).scalar_one()
        return self._read(work)

    def getOffline(self, username):
        """Return the stored L{OfflineMessage}s, oldest first."""
        def work(connection):
            rows = connection.execute(
                select(offlineMessages.c.id, offlineMessages.c.xml, offlineMessages.c.stamp)
                .where(offlineMessages.c.username == username)
                .order_by(offlineMessages.c.id))
            return [OfflineMessage(row.id, row.xml, row.stamp) for row in rows]
        return self._read(work)

    def removeOffline(self, username, ids):
        ids = list(ids)
        if not ids:
            return defer.succeed(None)

        def work(connection):
            connection.execute(delete(offlineMessages).where(
                offlineMessages.c.username == username, offlineMessages.c.id.in_(ids)))
        return self._write(work)

    # vCard (XEP-0054) and private XML (XEP-0049)

    def getVCard(self, username):
        def work(connection):
            return connection.execute(select(vcards.c.xml).where(
                vcards.c.username == username)).scalar()
        return self._read(work)

    def setVCard(self, username, xml):
        def work(connection):
            _upsert(connection, vcards, {"username": username}, {"xml": xml})
        return self._write(work)

    def getPrivate(self, username, key):
        """C{key} is C{"{namespace}name"} of the stored element."""
        def work(connection):
            return connection.execute(select(privateXML.c.xml).where(
                privateXML.c.username == username, privateXML.c.key == key)).scalar()
        return self._read(work)

    def setPrivate(self, username, key, xml):
        def work(connection):
            _upsert(connection, privateXML, {"username": username, "key": key}, {"xml": xml})
        return self._write(work)

    # last activity (XEP-0012)

    def setLast(self, username, stamp, status):
        def work(connection):
            _upsert(connection, lastActivity, {"username": username},
                    {"stamp": stamp, "status": status or ""})
        return self._write(work)

    def getLast(self, username):
        """Return (stamp, status) of the last logout, or None."""
        def work(connection):
            row = connection.execute(select(lastActivity.c.stamp, lastActivity.c.status).where(
                lastActivity.c.username == username)).first()
            return (row.stamp, row.status) if row is not None else None
        return self._read(work)
