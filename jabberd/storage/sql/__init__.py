# -*- test-case-name: tests.storage.test_sqlite -*-
"""
The SQL storage on SQLAlchemy 2 Core, for SQLite (the default, one file)
and PostgreSQL (psycopg 3): L{SQLStorage} holds one L{Database} (engine,
migrations, worker threads; L{jabberd.storage.sql.database}) and one
store per interface of L{jabberd.storage.interfaces}, each in a module of
its own.
"""

from jabberd.storage.sql.database import Database, StorageClosed, normaliseURL
from jabberd.storage.sql.storage import SQLStorage

__all__ = ["SQLStorage", "Database", "StorageClosed", "normaliseURL"]
