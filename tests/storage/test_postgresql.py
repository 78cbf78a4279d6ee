"""
The SQL store on PostgreSQL (psycopg 3): the shared storage tests, each in
a schema of its own that is dropped afterwards.

The server is C{JABBERD_TEST_POSTGRESQL} or
C{postgresql://postgres@127.0.0.1:5432/test}.  Without a reachable server
the tests are skipped, except under CI (C{CI} set), where they fail.
"""

import os
import threading
import uuid

from sqlalchemy import event
from sqlalchemy.engine import make_url
from twisted.internet import defer
from twisted.trial import unittest

from jabberd.storage import RosterItem
from jabberd.storage.migrations import currentRevision, headRevision
from jabberd.storage.sql import Database, SQLStorage, normaliseURL
from tests.storage.mixin import CREDS, StorageTestsMixin

URL = os.environ.get("JABBERD_TEST_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test")


def _connect():
    """A psycopg connection to the test server, or a skip/failure saying why not."""
    try:
        import psycopg
        return psycopg.connect(URL, autocommit=True, connect_timeout=3)
    except Exception as e:  # ImportError or any connection error: report it
        if os.environ.get("CI"):
            raise
        raise unittest.SkipTest(f"PostgreSQL at {URL} is unreachable ({e}); set CI to fail instead")


class PostgreSQLMixin:
    """Open stores in a fresh schema (through search_path), dropped after the test."""

    def makeSchema(self):
        admin = _connect()
        self.schema = "jabberd_test_" + uuid.uuid4().hex[:12]
        admin.execute(f'CREATE SCHEMA "{self.schema}"')

        def drop():
            admin.execute(f'DROP SCHEMA "{self.schema}" CASCADE')
            admin.close()
        self.addCleanup(drop)

    def makeStorage(self):
        return SQLStorage(URL, connect_args={"options": f"-csearch_path={self.schema}"})

    def openStore(self):
        storage = self.makeStorage()
        self.addCleanup(storage.close)
        return storage


class PostgreSQLStorageTests(PostgreSQLMixin, StorageTestsMixin, unittest.TestCase):
    """The storage API on L{SQLStorage} with PostgreSQL."""

    def setUp(self):
        self.makeSchema()
        # The mixin's setUp opens the store; it is closed before the schema is dropped.
        super().setUp()


class PostgreSQLTests(PostgreSQLMixin, unittest.TestCase):
    """Behaviour specific to the PostgreSQL store."""

    def setUp(self):
        self.makeSchema()

    @defer.inlineCallbacks
    def test_openTwice(self):
        """Opening a migrated schema again keeps it at the head revision with its data."""
        first = self.openStore()
        yield first.accounts.create("alice", CREDS)
        yield first.close()
        second = self.openStore()
        with second.database.engine.connect() as connection:
            self.assertEqual(currentRevision(connection), headRevision())
        self.assertEqual((yield second.accounts.list()), ["alice"])

    def test_database(self):
        """The database names its dialect and hides the URL's password."""
        url = make_url(URL).set(password="s3cret-pw").render_as_string(hide_password=False)
        database = Database(url, connect_args={"options": f"-csearch_path={self.schema}"})
        self.addCleanup(database.close)
        self.assertEqual(database.dialect, "postgresql")
        self.assertNotIn("s3cret-pw", database.url)
        self.assertTrue(database.serves(url))

    @defer.inlineCallbacks
    def test_concurrentRosterWrites(self):
        """Concurrent roster changes from several worker threads get distinct versions."""
        storage = self.openStore()
        versions = yield defer.gatherResults([
            storage.roster.set("alice", RosterItem(jid=f"c{n}@example.com"))
            for n in range(12)])
        self.assertEqual(sorted(versions), list(range(1, 13)))
        self.assertEqual(len((yield storage.roster.items("alice"))), 12)

    @defer.inlineCallbacks
    def test_threadPool(self):
        """The PostgreSQL store uses several worker threads by default."""
        storage = self.openStore()
        threads = set()
        event.listen(storage.database.engine, "before_cursor_execute",
                     lambda *args: threads.add(threading.get_ident()))
        yield defer.gatherResults([storage.offline.count("alice") for _ in range(8)])
        self.assertEqual(storage.database.threadCount, 4)
        self.assertNotIn(threading.get_ident(), threads)


class URLTests(unittest.TestCase):
    """PostgreSQL URLs select the psycopg 3 driver (no server needed)."""

    def test_plainURL(self):
        """postgresql:// is mapped to postgresql+psycopg://, keeping the rest of the URL."""
        url = normaliseURL("postgresql://user:pw@db.example:5433/jabberd")
        self.assertEqual(url.drivername, "postgresql+psycopg")
        self.assertEqual((url.username, url.password, url.host, url.port, url.database),
                         ("user", "pw", "db.example", 5433, "jabberd"))

    def test_postgresAlias(self):
        """postgres:// is mapped to the psycopg driver too."""
        self.assertEqual(normaliseURL("postgres://db/j").drivername, "postgresql+psycopg")

    def test_explicitDriverKept(self):
        """A URL naming its driver is left as it is."""
        self.assertEqual(normaliseURL("sqlite:///x.db").drivername, "sqlite")
        self.assertEqual(normaliseURL("postgresql+psycopg://db/j").drivername,
                         "postgresql+psycopg")
