"""
Recognising a database at the head revision without Alembic
(L{jabberd.storage.migrations.scriptHead}, L{MigrationChain.current}),
so a server at rest never imports it, on SQLite and PostgreSQL.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

from twisted.trial import unittest

from components.conference.migrations import CONFERENCE
from jabberd.storage.migrations import CORE, MigrationChain, scriptHead
from tests.storage.databases import PostgreSQLDatabaseMixin, SQLiteDatabaseMixin
from tests.storage.test_postgresql import URL as PG_URL, PostgreSQLMixin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_REVISION = 'revision = {rev!r}\ndown_revision = {down!r}\n'


class ScriptHeadTests(unittest.TestCase):
    """The head read from the revision files."""

    def chainDirectory(self, links):
        path = tempfile.mkdtemp(prefix="jabberd-chain-")
        self.addCleanup(shutil.rmtree, path, ignore_errors=True)
        os.mkdir(os.path.join(path, "versions"))
        for rev, down in links:
            with open(os.path.join(path, "versions", f"{rev}_x.py"), "w") as f:
                f.write(_REVISION.format(rev=rev, down=down))
        return path

    def alembicHead(self, chain):
        from alembic.script import ScriptDirectory
        return ScriptDirectory.from_config(chain.config()).get_current_head()

    def test_coreHeadIsAlembics(self):
        """The core chain's head read from the files is the one Alembic computes."""
        self.assertEqual(scriptHead(CORE.directory), self.alembicHead(CORE))

    def test_conferenceHeadIsAlembics(self):
        """The conference chain's head read from the files is the one Alembic computes."""
        self.assertEqual(scriptHead(CONFERENCE.directory), self.alembicHead(CONFERENCE))

    def test_linearChain(self):
        """In a linear chain the head is the revision nothing revises, whatever the file order."""
        path = self.chainDirectory([("b", "a"), ("a", None), ("c", "b")])
        self.assertEqual(scriptHead(path), "c")

    def test_mergedChain(self):
        """A merge revision (a tuple of parents) is the head over both branches."""
        path = self.chainDirectory([("a", None), ("b", "a"), ("c", "a"), ("m", ("b", "c"))])
        self.assertEqual(scriptHead(path), "m")

    def test_twoHeadsUnknown(self):
        """Two heads give None: only Alembic can say what to do."""
        path = self.chainDirectory([("a", None), ("b", "a"), ("c", "a")])
        self.assertIsNone(scriptHead(path))

    def test_emptyChainUnknown(self):
        """A chain with no revisions has no head."""
        self.assertIsNone(scriptHead(self.chainDirectory([])))

    def test_headFallsBackToAlembic(self):
        """A chain whose files alone cannot tell its head is asked of Alembic."""
        path = self.chainDirectory([("a", None)])
        with open(os.path.join(path, "versions", "b_x.py"), "w") as f:
            f.write("revision = 'b'\ndown_revision = 'a'\n")
        with open(os.path.join(path, "versions", "c_x.py"), "w") as f:
            f.write("import os\nrevision = os.sep and 'c'\ndown_revision = 'b'\n")
        with open(os.path.join(path, "env.py"), "w") as f:
            f.write("")
        self.assertIsNone(scriptHead(path))
        chain = MigrationChain(path, "alembic_version_x", "x:y")
        self.assertEqual(chain.head, "c")


class CurrentRevisionMixin:
    """C{MigrationChain.current} read with plain SQLAlchemy."""

    def test_atHeadAfterOpen(self):
        """An opened database reads as at the core head."""
        database = self.openDatabase()
        with database.engine.connect() as connection:
            self.assertEqual(CORE.current(connection), CORE.head)

    def test_unmigratedChain(self):
        """A chain never applied to the database (no version table) is at no revision."""
        database = self.openDatabase()
        chain = MigrationChain(CORE.directory, "alembic_version_never", CORE.metadataName)
        with database.engine.connect() as connection:
            self.assertIsNone(chain.current(connection))

    def test_sameAsAlembic(self):
        """The revision read is the one Alembic's own migration context reads."""
        from alembic.runtime.migration import MigrationContext
        database = self.openDatabase()
        with database.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": CORE.versionTable})
            self.assertEqual(CORE.current(connection), context.get_current_revision())


class SQLiteCurrentRevisionTests(SQLiteDatabaseMixin, CurrentRevisionMixin, unittest.TestCase):
    """The current revision on SQLite."""


class PostgreSQLCurrentRevisionTests(PostgreSQLDatabaseMixin, CurrentRevisionMixin,
                                     unittest.TestCase):
    """The current revision on PostgreSQL."""


_OPEN = textwrap.dedent("""
    import sys
    from jabberd.storage.sql import SQLStorage
    url, schema = sys.argv[1:3]
    kwargs = {"connect_args": {"options": "-csearch_path=" + schema}} if schema else {}
    storage = SQLStorage(url, **kwargs)
    storage.close()
    print("alembic" in sys.modules, "mako" in sys.modules)
""")


class AlembicImportTests(unittest.TestCase):
    """Alembic is loaded only for a database that must move."""

    def openInChild(self, url, schema=""):
        out = subprocess.run([sys.executable, "-c", _OPEN, url, schema], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.split()

    def test_loadedOnlyToMigrate(self):
        """A new database imports Alembic to migrate; reopening it at head does not."""
        directory = tempfile.mkdtemp(prefix="jabberd-rest-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        url = "sqlite:///" + os.path.join(directory, "jabberd.db")
        self.assertEqual(self.openInChild(url), ["True", "True"])
        self.assertEqual(self.openInChild(url), ["False", "False"])


class PostgreSQLAlembicImportTests(PostgreSQLMixin, AlembicImportTests):
    """Alembic is loaded only for a PostgreSQL schema that must move."""

    def test_loadedOnlyToMigrate(self):
        """A new schema imports Alembic to migrate; reopening it at head does not."""
        self.makeSchema()
        self.assertEqual(self.openInChild(PG_URL, self.schema), ["True", "True"])
        self.assertEqual(self.openInChild(PG_URL, self.schema), ["False", "False"])
