# -*- test-case-name: tests.storage.test_sqlite -*-
"""
Small per-user data: the vCard (XEP-0054) in C{vcards}, private XML
(XEP-0049) in C{private_xml} and last activity (XEP-0012) in
C{last_activity}; each value replaces the one before.
"""

from sqlalchemy import select
from zope.interface import implementer

from jabberd.storage.interfaces import ILastActivityStore, IPrivateStore, IVCardStore
from jabberd.storage.schema import lastActivity, privateXML, vcards
from jabberd.storage.sql.common import SQLStore, upsert, usernamesIn

__all__ = ["SQLVCardStore", "SQLPrivateStore", "SQLLastActivityStore"]


@implementer(IVCardStore)
class SQLVCardStore(SQLStore):
    """vCards, one row per user."""

    def get(self, username):
        def work(connection):
            return connection.execute(select(vcards.c.xml).where(
                vcards.c.username == username)).scalar()
        return self.database.read(work)

    def set(self, username, xml):
        def work(connection):
            upsert(connection, vcards, {"username": username}, {"xml": xml})
        return self.database.write(work)

    def users(self):
        return self.database.read(usernamesIn, vcards)


@implementer(IPrivateStore)
class SQLPrivateStore(SQLStore):
    """Private XML, one row per user and key."""

    def get(self, username, key):
        def work(connection):
            return connection.execute(select(privateXML.c.xml).where(
                privateXML.c.username == username, privateXML.c.key == key)).scalar()
        return self.database.read(work)

    def set(self, username, key, xml):
        def work(connection):
            upsert(connection, privateXML, {"username": username, "key": key}, {"xml": xml})
        return self.database.write(work)


@implementer(ILastActivityStore)
class SQLLastActivityStore(SQLStore):
    """The last logout, one row per user."""

    def get(self, username):
        def work(connection):
            row = connection.execute(select(lastActivity.c.stamp, lastActivity.c.status).where(
                lastActivity.c.username == username)).first()
            return (row.stamp, row.status) if row is not None else None
        return self.database.read(work)

    def set(self, username, stamp, status):
        def work(connection):
            upsert(connection, lastActivity, {"username": username},
                   {"stamp": stamp, "status": status or ""})
        return self.database.write(work)
