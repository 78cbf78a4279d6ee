"""
Databases for the SQL store tests: the C{Database} API the stores take
(C{read(work, *args)}, C{write(work, *args)}, C{engine}, C{dialect}) as an
adapter over L{jabberd.storage.sql.SQLStorage}, which opens the engine,
migrates the schema and runs the work in its worker threads; and mixins
opening one on an SQLite file or in a PostgreSQL schema of the test's own.
"""

import os

from sqlalchemy import create_engine, text

from jabberd.storage.sql import SQLStorage
from tests.storage.test_postgresql import PostgreSQLMixin
from tests.storage.test_sqlite import TempDirMixin


class StorageDatabase:
    """The Database API over an open L{SQLStorage}."""

    def __init__(self, storage):
        self.storage = storage
        self.read = storage._read
        self.write = storage._write
        self.engine = storage.engine
        self.dialect = storage.engine.dialect.name

    def close(self):
        return self.storage.close()


class SQLiteDatabaseMixin(TempDirMixin):
    """
    C{openDatabase()} opens the test's SQLite file (the same file each
    time, so a test can close it and open it again).
    """

    def openDatabase(self):
        if not hasattr(self, "databasePath"):
            self.databasePath = os.path.join(self.tempDir(), "jabberd.db")
        return StorageDatabase(self.openFile(self.databasePath))

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
        return StorageDatabase(self.openStore())
