"""
Tests for L{jabberd.storage.sql.prepared}: a select compiled once per
dialect gives the rows SQLAlchemy's execution gives.
"""

import os

from sqlalchemy import bindparam, select
from twisted.trial import unittest

from jabberd.storage.schema import users
from jabberd.storage.sql.database import Database
from jabberd.storage.sql.prepared import Prepared


class PreparedTests(unittest.TestCase):
    """L{Prepared} on an SQLite file."""

    def setUp(self):
        self.database = Database("sqlite:///" + os.path.join(self.mktemp(), "j.db"))
        self.addCleanup(self.database.close)
        with self.database.engine.begin() as connection:
            connection.execute(users.insert(), [{"username": "alice", "credentials": "{1}"},
                                                {"username": "bob", "credentials": "{2}"}])
        self.select = select(users.c.username, users.c.credentials).where(
            users.c.username == bindparam("name"))

    def test_rowsAsSQLAlchemy(self):
        """The rows for a parameter are the ones SQLAlchemy's execution returns."""
        prepared = Prepared(self.select)
        with self.database.engine.connect() as connection:
            expected = [tuple(r) for r in connection.execute(self.select, {"name": "bob"})]
            self.assertEqual([tuple(r) for r in prepared.rows(connection, name="bob")],
                             expected)
            self.assertEqual(expected, [("bob", "{2}")])

    def test_scalar(self):
        """scalar is the first column of the first row, None without rows."""
        prepared = Prepared(select(users.c.credentials).where(
            users.c.username == bindparam("name")))
        with self.database.engine.connect() as connection:
            self.assertEqual(prepared.scalar(connection, name="alice"), "{1}")
            self.assertIsNone(prepared.scalar(connection, name="carol"))

    def test_compiledOnce(self):
        """The statement is compiled once for a dialect and reused."""
        prepared = Prepared(self.select)
        with self.database.engine.connect() as connection:
            prepared.rows(connection, name="alice")
            first = dict(prepared._compiled)
            prepared.rows(connection, name="bob")
        self.assertEqual(len(first), 1)
        self.assertEqual(prepared._compiled, first)
