# -*- test-case-name: tests.storage.test_push -*-
"""
The push registrations of XEP-0357 in C{push_registrations}, one row per
account, push service JID and node: the L{IPushStore}.
"""

from sqlalchemy import delete, func, select
from zope.interface import implementer

from jabberd.storage.interfaces import IPushStore
from jabberd.storage.records import PushRegistration
from jabberd.storage.schema import pushRegistrations
from jabberd.storage.sql.common import SQLStore, upsert, usernamesIn

__all__ = ["SQLPushStore"]

_table = pushRegistrations


def _listed(connection, username):
    rows = connection.execute(select(_table).where(_table.c.username == username)
                              .order_by(_table.c.jid, _table.c.node))
    return [PushRegistration(row.jid, row.node, row.options, bool(row.include_body))
            for row in rows]


def _count(connection, username):
    return connection.execute(select(func.count()).select_from(_table).where(
        _table.c.username == username)).scalar_one()


def _exists(connection, username, jid, node):
    return connection.execute(select(_table.c.jid).where(
        _table.c.username == username, _table.c.jid == jid, _table.c.node == node)).first() \
        is not None


@implementer(IPushStore)
class SQLPushStore(SQLStore):
    """Push registrations, one row each."""

    def registrations(self, username):
        return self.database.read(_listed, username)

    def enable(self, username, registration, maxRegistrations=0):
        def work(connection):
            if (maxRegistrations and _count(connection, username) >= maxRegistrations
                    and not _exists(connection, username, registration.jid, registration.node)):
                return False
            upsert(connection, _table,
                   {"username": username, "jid": registration.jid, "node": registration.node},
                   {"options": registration.options, "include_body": registration.includeBody})
            return True
        return self.database.write(work)

    def disable(self, username, jid, node=None):
        def work(connection):
            match = [_table.c.username == username, _table.c.jid == jid]
            if node is not None:
                match.append(_table.c.node == node)
            return connection.execute(delete(_table).where(*match)).rowcount
        return self.database.write(work)

    def users(self):
        return self.database.read(usernamesIn, _table)
