# -*- test-case-name: tests.storage.test_sqlite -*-
"""
Accounts and their credentials in the C{users} table (L{IAccountStore}):
what SASL (RFC 6120 section 6) and in-band registration (XEP-0077) read
and write.  The credentials dictionary is kept as JSON text.
"""

import json

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from zope.interface import implementer

from jabberd.storage import UserExists
from jabberd.storage.interfaces import IAccountStore
from jabberd.storage.schema import users
from jabberd.storage.sql.common import SQLStore
from jabberd.storage.sql.prepared import Prepared

__all__ = ["SQLAccountStore"]

# Read at every SASL exchange (and in-band registration's existence check).
_CREDENTIALS = Prepared(select(users.c.credentials).where(
    users.c.username == bindparam("username")))
_EXISTS = Prepared(select(users.c.username).where(users.c.username == bindparam("username")))


@implementer(IAccountStore)
class SQLAccountStore(SQLStore):
    """Accounts, one row per user; credentials as JSON."""

    def create(self, username, credentials):
        def work(connection):
            try:
                connection.execute(insert(users).values(
                    username=username, credentials=json.dumps(credentials)))
            except IntegrityError:
                # Raised inside the transaction, so it is rolled back.
                raise UserExists(username) from None
        return self.database.write(work)

    def exists(self, username):
        def work(connection):
            return bool(_EXISTS.rows(connection, username=username))
        return self.database.read(work)

    def get(self, username):
        def work(connection):
            raw = _CREDENTIALS.scalar(connection, username=username)
            return json.loads(raw) if raw is not None else None
        return self.database.read(work)

    def set(self, username, credentials):
        def work(connection):
            result = connection.execute(update(users).where(
                users.c.username == username).values(credentials=json.dumps(credentials)))
            return result.rowcount > 0
        return self.database.write(work)

    def delete(self, username):
        def work(connection):
            result = connection.execute(delete(users).where(users.c.username == username))
            return result.rowcount > 0
        return self.database.write(work)

    def list(self):
        def work(connection):
            return list(connection.execute(
                select(users.c.username).order_by(users.c.username)).scalars())
        return self.database.read(work)
