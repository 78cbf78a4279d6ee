"""
The SQL store on SQLite: the shared storage tests on a database file in a
temporary directory, then what only a real database has: persistence,
migrations, pragmas and the worker thread.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from twisted.internet import defer, reactor
from twisted.trial import unittest

from jabberd.storage import openStorage, schema
from jabberd.storage.migrations import alembicConfig, currentRevision, headRevision
from jabberd.storage.sql import SQLStorage, StorageClosed
from tests.storage.mixin import CREDS, MESSAGE, StorageTestsMixin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TempDirMixin:
    """A temporary directory per test, removed afterwards."""

    def tempDir(self):
        path = tempfile.mkdtemp(prefix="jabberd-sqlite-")
        self.addCleanup(shutil.rmtree, path, ignore_errors=True)
        return path

    def openFile(self, path):
        storage = SQLStorage("sqlite:///" + path)
        self.addCleanup(storage.close)
        return storage


class SQLiteStorageTests(TempDirMixin, StorageTestsMixin, unittest.TestCase):
    """The storage API on L{SQLStorage} with an SQLite file."""

    def makeStorage(self):
        return SQLStorage("sqlite:///" + os.path.join(self.tempDir(), "jabberd.db"))


class TriggerReactor:
    """The real reactor, except that system event triggers are only recorded."""

    def __init__(self):
        self.triggers = {}

    def addSystemEventTrigger(self, phase, eventType, callable):
        handle = object()
        self.triggers[handle] = (phase, eventType, callable)
        return handle

    def removeSystemEventTrigger(self, handle):
        del self.triggers[handle]

    def callFromThread(self, f, *args, **kwargs):
        reactor.callFromThread(f, *args, **kwargs)


class SQLiteMemoryTests(unittest.TestCase):
    """An in-memory SQLite database, shared by start-up and the worker thread."""

    @defer.inlineCallbacks
    def test_memoryDatabase(self):
        """sqlite:// keeps the schema made at start-up and the data written by the worker."""
        storage = SQLStorage("sqlite://")
        self.addCleanup(storage.close)
        yield storage.accounts.create("alice", CREDS)
        self.assertEqual((yield storage.accounts.list()), ["alice"])


class SQLiteFileTests(TempDirMixin, unittest.TestCase):
    """Behaviour of the SQL store that needs a database file."""

    def test_createsParentDirectory(self):
        """Opening a database in a directory that does not exist yet creates the directory."""
        path = os.path.join(self.tempDir(), "data", "deep", "jabberd.db")
        self.openFile(path)
        self.assertTrue(os.path.isfile(path))

    def test_openStorage(self):
        """openStorage with an sqlite URL makes an SQLStorage."""
        storage = openStorage("sqlite:///" + os.path.join(self.tempDir(), "j.db"))
        self.addCleanup(storage.close)
        self.assertIsInstance(storage, SQLStorage)

    @defer.inlineCallbacks
    def test_survivesReopen(self):
        """Data written before closing is there after opening the file again."""
        path = os.path.join(self.tempDir(), "jabberd.db")
        first = SQLStorage("sqlite:///" + path)
        yield first.accounts.create("alice", CREDS)
        msgId = yield first.offline.store("alice", MESSAGE, 1234.5)
        yield first.last.set("alice", 99.0, "bye")
        yield first.close()
        second = self.openFile(path)
        self.assertEqual((yield second.accounts.get("alice")), CREDS)
        self.assertEqual([(m.id, m.xml, m.stamp) for m in (yield second.offline.list("alice"))],
                         [(msgId, MESSAGE, 1234.5)])
        self.assertEqual((yield second.last.get("alice")), (99.0, "bye"))

    @defer.inlineCallbacks
    def test_openTwice(self):
        """Opening a migrated database again leaves it at the head revision with its data."""
        path = os.path.join(self.tempDir(), "jabberd.db")
        first = SQLStorage("sqlite:///" + path)
        yield first.accounts.create("alice", CREDS)
        yield first.close()
        second = self.openFile(path)
        with second.database.engine.connect() as connection:
            self.assertEqual(currentRevision(connection), headRevision())
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        self.assertEqual(rows, [(headRevision(),)])
        self.assertEqual((yield second.accounts.list()), ["alice"])

    def test_schemaMatchesMetadata(self):
        """The migration chain builds exactly the tables declared in schema.py."""
        storage = self.openFile(os.path.join(self.tempDir(), "jabberd.db"))
        with storage.database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            self.assertEqual(compare_metadata(context, schema.metadata), [])

    def test_downgradeAndUpgrade(self):
        """Every revision can be undone and redone, ending at the head revision."""
        from alembic import command
        storage = self.openFile(os.path.join(self.tempDir(), "jabberd.db"))
        with storage.database.engine.begin() as connection:
            command.downgrade(alembicConfig(connection), "base")
            self.assertIsNone(currentRevision(connection))
            command.upgrade(alembicConfig(connection), "head")
            self.assertEqual(currentRevision(connection), headRevision())

    def test_revisionChain(self):
        """Revisions form one numbered chain: 0001 first, each revising the one before."""
        script = ScriptDirectory.from_config(alembicConfig())
        revisions = list(reversed(list(script.walk_revisions())))
        self.assertEqual([r.revision for r in revisions],
                         ["%04d" % n for n in range(1, len(revisions) + 1)])
        self.assertEqual([r.down_revision for r in revisions],
                         [None] + [r.revision for r in revisions[:-1]])

    def test_userDataComplete(self):
        """Every table with a username column is in USER_DATA, so deleting a user reaches it."""
        withUsername = {t.name for t in schema.metadata.sorted_tables if "username" in t.c}
        self.assertEqual(withUsername, {t.name for t in schema.USER_DATA})

    def test_pragmas(self):
        """SQLite connections run in WAL mode with synchronous=FULL."""
        storage = self.openFile(os.path.join(self.tempDir(), "jabberd.db"))
        with storage.database.engine.connect() as connection:
            self.assertEqual(connection.exec_driver_sql("PRAGMA journal_mode").scalar(), "wal")
            self.assertEqual(connection.exec_driver_sql("PRAGMA synchronous").scalar(), 2)

    def test_oneThread(self):
        """SQLite gets one worker thread, whatever is asked for, so writes are serialised."""
        storage = SQLStorage("sqlite:///" + os.path.join(self.tempDir(), "j.db"), threads=8)
        self.addCleanup(storage.close)
        self.assertEqual(storage.database.threadCount, 1)

    @defer.inlineCallbacks
    def test_offReactorThread(self):
        """Statements of the storage methods run in a worker thread, not the reactor's."""
        storage = self.openFile(os.path.join(self.tempDir(), "jabberd.db"))
        seen = []
        for engine in storage.database.engines:
            event.listen(engine, "before_cursor_execute",
                         lambda *args: seen.append(threading.get_ident()))
        yield storage.accounts.create("alice", CREDS)
        yield storage.accounts.get("alice")
        yield storage.offline.store("alice", MESSAGE)
        self.assertTrue(seen)
        self.assertNotIn(threading.get_ident(), seen)

    @defer.inlineCallbacks
    def test_closed(self):
        """After close, calls fail with StorageClosed, and closing again is harmless."""
        storage = SQLStorage("sqlite:///" + os.path.join(self.tempDir(), "jabberd.db"))
        yield storage.close()
        yield storage.close()
        yield self.assertFailure(storage.accounts.exists("alice"), StorageClosed)

    @defer.inlineCallbacks
    def test_reactorShutdown(self):
        """The first call starts the workers and a shutdown trigger; reactor shutdown closes the store."""
        fake = TriggerReactor()
        storage = SQLStorage("sqlite:///" + os.path.join(self.tempDir(), "j.db"), reactor=fake)
        self.addCleanup(storage.close)
        self.assertEqual(fake.triggers, {})
        yield storage.accounts.create("alice", CREDS)
        [(phase, eventType, trigger)] = fake.triggers.values()
        self.assertEqual((phase, eventType), ("during", "shutdown"))
        trigger()
        yield self.assertFailure(storage.accounts.exists("alice"), StorageClosed)

    @defer.inlineCallbacks
    def test_closeRemovesShutdownTrigger(self):
        """Closing the store removes its shutdown trigger."""
        fake = TriggerReactor()
        storage = SQLStorage("sqlite:///" + os.path.join(self.tempDir(), "j.db"), reactor=fake)
        yield storage.accounts.exists("alice")
        yield storage.close()
        self.assertEqual(fake.triggers, {})

    @defer.inlineCallbacks
    def test_closeFinishesQueuedWork(self):
        """Writes queued before close are committed before close returns."""
        path = os.path.join(self.tempDir(), "jabberd.db")
        storage = SQLStorage("sqlite:///" + path)
        pending = [storage.offline.store("alice", "<m%d/>" % n) for n in range(5)]
        yield storage.close()
        yield defer.gatherResults(pending)
        self.assertEqual((yield self.openFile(path).offline.count("alice")), 5)

    def test_acknowledgedSurvivesKill(self):
        """An offline message whose store has been acknowledged survives kill -9 of the process."""
        path = os.path.join(self.tempDir(), "jabberd.db")
        script = textwrap.dedent("""
            import os, signal, sys
            from twisted.internet import reactor
            from jabberd.storage.sql import SQLStorage
            storage = SQLStorage("sqlite:///" + sys.argv[1])
            def stored(msgId):
                sys.stdout.write("%d\\n" % msgId)
                sys.stdout.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            reactor.callWhenRunning(lambda: storage.offline.store("alice", "<m/>").addCallback(stored))
            reactor.run()
        """)
        process = subprocess.run([sys.executable, "-c", script, path], cwd=ROOT,
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(process.returncode, -signal.SIGKILL, process.stderr)
        msgId = int(process.stdout)
        storage = self.openFile(path)
        return storage.offline.list("alice").addCallback(
            lambda messages: self.assertEqual([(m.id, m.xml) for m in messages], [(msgId, "<m/>")]))
