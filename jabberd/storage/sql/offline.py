# -*- test-case-name: tests.storage.test_sqlite -*-
"""
The offline spool (XEP-0160) in C{offline_messages}: the L{IOfflineStore}.
Ascending ids order a user's messages, oldest first.
"""

import time

from sqlalchemy import delete, func, insert, select
from twisted.internet import defer
from zope.interface import implementer

from jabberd.storage import OfflineMessage
from jabberd.storage.interfaces import IOfflineStore
from jabberd.storage.schema import offlineMessages
from jabberd.storage.sql.common import SQLStore, usernamesIn

__all__ = ["SQLOfflineStore"]


@implementer(IOfflineStore)
class SQLOfflineStore(SQLStore):
    """Spooled messages, one row each."""

    def store(self, username, xml, stamp=None):
        values = {"username": username, "xml": xml,
                  "stamp": stamp if stamp is not None else time.time()}

        def work(connection):
            result = connection.execute(insert(offlineMessages).values(**values))
            return result.inserted_primary_key[0]
        return self.database.write(work)

    def count(self, username):
        def work(connection):
            return connection.execute(select(func.count()).select_from(offlineMessages).where(
                offlineMessages.c.username == username)).scalar_one()
        return self.database.read(work)

    def list(self, username):
        def work(connection):
            rows = connection.execute(
                select(offlineMessages.c.id, offlineMessages.c.xml, offlineMessages.c.stamp)
                .where(offlineMessages.c.username == username)
                .order_by(offlineMessages.c.id))
            return [OfflineMessage(row.id, row.xml, row.stamp) for row in rows]
        return self.database.read(work)

    def remove(self, username, ids):
        ids = list(ids)
        if not ids:
            return defer.succeed(None)

        def work(connection):
            connection.execute(delete(offlineMessages).where(
                offlineMessages.c.username == username, offlineMessages.c.id.in_(ids)))
        return self.database.write(work)

    def users(self):
        return self.database.read(usernamesIn, offlineMessages)
