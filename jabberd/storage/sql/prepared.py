# -*- test-case-name: tests.storage.test_prepared -*-
"""
Hot reads compiled once and run on the driver's cursor.

Every login reads the account's credentials (SASL, RFC 6120 section 6)
and its roster (RFC 6121 section 2.1.3); through SQLAlchemy's statement
execution each such read cost about 0.3 ms of CPU on the one core a
server has, most of it building the statement, its cache key and the
execution context, against about 0.03 ms for the driver's own work
(C{bench/README.md}, "Logins and roster logins").  A L{Prepared} select
is compiled once for each dialect it meets; its parameters are plain
strings and its columns plain values (no type processing), so the rows
are what the driver returns, the same as SQLAlchemy's for these columns.
"""

__all__ = ["Prepared"]


class Prepared:
    """
    A select with bound parameters, compiled once per dialect.

    @ivar statement: the SQLAlchemy select (its parameters made with
        C{bindparam(name)}).
    """

    def __init__(self, statement):
        self.statement = statement
        self._compiled = {}

    def _sql(self, dialect):
        """(SQL text, parameter names in order or None for named) for C{dialect}."""
        key = (dialect.name, dialect.paramstyle)
        entry = self._compiled.get(key)
        if entry is None:
            compiled = self.statement.compile(dialect=dialect)
            positions = compiled.positiontup if compiled.positional else None
            entry = self._compiled[key] = (compiled.string, positions)
        return entry

    def rows(self, connection, **params):
        """The rows (tuples, in the select's column order) for C{params}."""
        sql, positions = self._sql(connection.dialect)
        if positions is not None:
            params = tuple(params[name] for name in positions)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def scalar(self, connection, **params):
        """The first column of the first row, or None when there is none."""
        rows = self.rows(connection, **params)
        return rows[0][0] if rows else None
