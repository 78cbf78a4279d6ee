# -*- test-case-name: tests.storage.test_database -*-
"""
One SQL database for the stores: the SQLAlchemy 2 engine, the schema
migrations run when it opens, and the worker threads its blocking work
runs in, never on the reactor thread.

SQLite (the default, one file) gets a single writer thread, which
serialises writes, and runs in WAL mode with C{synchronous=FULL}, so a
commit (an acknowledged offline message) is on disk before its Deferred
fires and survives a crash or power loss; in WAL mode readers may run
beside the writer, so a file database gets reader threads of its own.
Its writer commits the writes queued together at once
(L{jabberd.storage.sql.groupcommit}), on an engine of its own, so that
one sync of the log covers them all.
PostgreSQL (psycopg 3) gets several threads that both read and write.

The constructor is the one blocking exception: it creates the engine and
migrates the schema to the head revision (L{jabberd.storage.migrations})
at start-up, before the reactor runs.
"""

import os

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from twisted.internet import defer

from jabberd.logs import Logger
from jabberd.storage.migrations import CORE
from jabberd.storage.sql.groupcommit import GroupCommit, explicitBegin
from jabberd.storage.workers import Workers

__all__ = ["Database", "StorageClosed", "normaliseURL", "SQLITE_READERS"]

SQLITE_READERS = 2


class StorageClosed(Exception):
    """The database was used after L{Database.close}."""


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


class Database:
    """
    An SQL database with its worker threads.

    @cvar chains: the L{MigrationChain}s brought to their head at open: the
        core tables.  A component keeping its tables in a database of its
        own opens a subclass naming its chain instead (or none, and calls
        L{migrate}).
    @ivar engine: the SQLAlchemy engine (use it only from the workers, or
        at start-up); an SQLite file's writer has one of its own (L{engines}).
    @ivar url: the database URL, password hidden, for messages.
    @ivar dialect: the backend's name, C{"sqlite"} or C{"postgresql"}.
    @ivar threadCount: the number of writer threads.
    """

    log = Logger()
    chains = (CORE,)

    def __init__(self, url, threads=None, reactor=None, **engineKwargs):
        """
        Open the database at C{url} and migrate it.

        @param threads: writer threads; always 1 for SQLite, default 4.
        @param reactor: the reactor results are delivered on.
        @param engineKwargs: passed to L{sqlalchemy.create_engine}.
        """
        if reactor is None:
            from twisted.internet import reactor
        self._reactor = reactor
        self._parsed = normaliseURL(url)
        self.url = self._parsed.render_as_string(hide_password=True)
        self.dialect = self._parsed.get_backend_name()
        isSQLite = self.dialect == "sqlite"
        self.threadCount = 1 if isSQLite else (threads or 4)
        self.engine = _makeEngine(self._parsed, dict(engineKwargs), self.threadCount)
        try:
            for chain in self.chains:
                self.migrate(chain)
        except BaseException:
            self.engine.dispose()
            raise
        self._writers = Workers(reactor, self.threadCount, "storage")
        self._groupCommit = self._writerEngine = None
        # SQLite has one writer, so a commit's fsync would hold up every
        # read queued behind it.
        self._readers = self._writers
        if isSQLite and _sqliteFile(self._parsed) is not None:
            self._readers = Workers(reactor, SQLITE_READERS, "storage-read")
            self._writerEngine = _makeEngine(self._parsed, dict(engineKwargs), 1)
            explicitBegin(self._writerEngine)
            self._groupCommit = GroupCommit(reactor, self._writerEngine)
        self._shutdownTrigger = None
        self._closed = False

    @property
    def engines(self):
        """Every engine of this database: the readers' (and migrations'), and the writer's own."""
        if self._writerEngine is None:
            return (self.engine,)
        return (self.engine, self._writerEngine)

    def migrate(self, chain):
        """
        Bring C{chain}'s tables to its head revision.  Blocking: for
        start-up only.
        """
        with self.engine.begin() as connection:
            chain.upgrade(connection)
        self.log.info("Database {url} at {table} revision {revision}",
                      url=self.url, table=chain.versionTable, revision=chain.head)

    def serves(self, url):
        """Whether C{url} names this database."""
        return (normaliseURL(url).render_as_string(hide_password=False)
                == self._parsed.render_as_string(hide_password=False))

    def _run(self, function, workers):
        """Run C{function()} in C{workers}; a Deferred of its result."""
        if self._closed:
            return defer.fail(StorageClosed(self.url))
        self._watchShutdown()
        return workers.submit(function)

    def _watchShutdown(self):
        if self._shutdownTrigger is None:
            # Queued writes are acknowledged work: finish them at shutdown
            # (the workers are daemon threads, which exit would cut off).
            self._shutdownTrigger = self._reactor.addSystemEventTrigger(
                "during", "shutdown", self._reactorShutdown)

    def read(self, work, *args):
        """
        Run C{work(connection, *args)} in a reader thread.

        @return: a Deferred of its result, fired on the reactor thread;
            it fails with L{StorageClosed} after L{close}.
        """
        def run():
            with self.engine.connect() as connection:
                return work(connection, *args)
        return self._run(run, self._readers)

    def write(self, work, *args):
        """
        Run C{work(connection, *args)} in one transaction on a writer
        thread; the transaction commits if C{work} returns and rolls back
        if it raises.

        @return: a Deferred of its result, fired once committed.
        """
        if self._groupCommit is not None:
            if self._closed:
                return defer.fail(StorageClosed(self.url))
            self._watchShutdown()
            return self._groupCommit.submit(work, *args)

        def run():
            with self.engine.begin() as connection:
                return work(connection, *args)
        return self._run(run, self._writers)

    def _reactorShutdown(self):
        self._shutdownTrigger = None
        self.close()

    def close(self):
        """
        Finish queued work, stop the threads and release the connections.
        Joining the workers blocks for at most the statements in flight.

        @return: a Deferred fired once closed.
        """
        if self._closed:
            return defer.succeed(None)
        self._closed = True
        if self._shutdownTrigger is not None:
            self._reactor.removeSystemEventTrigger(self._shutdownTrigger)
            self._shutdownTrigger = None
        for workers in {self._writers, self._readers}:
            workers.stop()  # runs the queued work first, then joins the workers
        if self._groupCommit is not None:
            self._groupCommit.stop()
            self._writerEngine.dispose()
        self.engine.dispose()
        return defer.succeed(None)
