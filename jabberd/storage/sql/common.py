# -*- test-case-name: tests.storage.test_sqlite -*-
"""
What the SQL stores share: their base class, which holds the
L{jabberd.storage.sql.database.Database}, the users with rows in a table,
and the insert-or-update of one row: the dialect's C{INSERT ... ON CONFLICT DO UPDATE} where it has one
(SQLite, PostgreSQL), an UPDATE falling back to an INSERT elsewhere.

The dialect module is the one the engine already loaded for its
connections: importing both here would keep PostgreSQL's (2 MB resident)
in a server that runs on SQLite.
"""

import importlib

from sqlalchemy import insert, select, update

__all__ = ["SQLStore", "upsert", "dialectInsert", "usernamesIn"]

_UPSERT_DIALECTS = ("sqlite", "postgresql")


class SQLStore:
    """
    A store on one database.

    @ivar database: the L{jabberd.storage.sql.database.Database} its work runs on.
    """

    def __init__(self, database):
        self.database = database


def dialectInsert(connection):
    """The C{insert} with C{on_conflict_do_update} of the connection's dialect, or None."""
    name = connection.dialect.name
    if name not in _UPSERT_DIALECTS:
        return None
    return importlib.import_module("sqlalchemy.dialects." + name).insert


def upsert(connection, table, keys, values):
    """Insert the row at C{keys}, or update it with C{values} if it exists."""
    makeInsert = dialectInsert(connection)
    if makeInsert is not None:
        statement = makeInsert(table).values(**keys, **values)
        connection.execute(statement.on_conflict_do_update(
            index_elements=list(keys), set_=values))
        return
    match = [table.c[k] == v for k, v in keys.items()]
    if connection.execute(update(table).where(*match).values(**values)).rowcount == 0:
        connection.execute(insert(table).values(**keys, **values))


def usernamesIn(connection, table):
    """The set of usernames that have rows in C{table}."""
    return {row.username for row in connection.execute(select(table.c.username).distinct())}
