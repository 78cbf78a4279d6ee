"""
Databases for the SQL store tests: mixins opening the
L{jabberd.storage.sql.Database} of an L{jabberd.storage.sql.SQLStorage}
(engine, migrated schema, worker threads) on an SQLite file or in a
PostgreSQL schema of the test's own.
"""

import os

from sqlalchemy import create_engine, text

from tests.storage.test_postgresql import PostgreSQLMixin
from tests.storage.test_sqlite import TempDirMixin


class SQLiteDatabaseMixin(TempDirMixin):
    """
    C{openDatabase()} opens the test's SQLite file (the same file each
    time, so a test can close it and open it again).
    """

    def openDatabase(self):
        if not hasattr(self, "databasePath"):
            self.databasePath = os.path.join(self.tempDir(), "jabberd.db")
        return self.openFile(self.databasePath).database

    def countCommitted(self, table):
        """The rows of C{table} that a separate connection to the file sees."""
        engine = create_engine("sqlite:///" + self.databasePath)
        try:
            with engine.connect() as connection:
                return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        finally:
            engine.dispose()


class PostgreSQLDatabaseMixin(PostgreSQLMixin):
    """C{openDatabase()} opens the test's PostgreSQL schema (skipped without a server)."""

    def openDatabase(self):
        if not hasattr(self, "schema"):
            self.makeSchema()
        return self.openStore().database
