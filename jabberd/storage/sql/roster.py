# -*- test-case-name: tests.storage.test_sqlite -*-
"""
Rosters (RFC 6121 section 2) in C{roster_items}, their versions (section
2.6) in C{roster_versions}, and inbound subscription requests awaiting an
answer (section 3.1.3) in C{pending_subscriptions}: the L{IRosterStore}.

A change and its version bump are one transaction, so concurrent writers
(PostgreSQL's several threads) each get a version of their own.
"""

import json

from sqlalchemy import bindparam, delete, select
from zope.interface import implementer

from jabberd.storage import RosterItem
from jabberd.storage.interfaces import IRosterStore
from jabberd.storage.schema import pendingSubscriptions, rosterItems, rosterVersions
from jabberd.storage.sql.common import SQLStore, dialectInsert, upsert, usernamesIn
from jabberd.storage.sql.prepared import Prepared

__all__ = ["SQLRosterStore"]


_ITEM_COLUMNS = (rosterItems.c.jid, rosterItems.c.name, rosterItems.c.subscription,
                 rosterItems.c.ask, rosterItems.c.approved, rosterItems.c.groups)
# What a login, a roster get and every subscription change read.
_ITEMS = Prepared(select(*_ITEM_COLUMNS).where(rosterItems.c.username == bindparam("username"))
                  .order_by(rosterItems.c.jid))
_ITEM = Prepared(select(*_ITEM_COLUMNS).where(rosterItems.c.username == bindparam("username"),
                                              rosterItems.c.jid == bindparam("jid")))
_VERSION = Prepared(select(rosterVersions.c.version).where(
    rosterVersions.c.username == bindparam("username")))
_PENDING = Prepared(select(pendingSubscriptions.c.jid, pendingSubscriptions.c.xml)
                    .where(pendingSubscriptions.c.username == bindparam("username"))
                    .order_by(pendingSubscriptions.c.jid))


def _rowToItem(row):
    jid, name, subscription, ask, approved, groups = row
    # Most items are in no group: no JSON decoder for those.
    return RosterItem(jid, name, subscription, ask, bool(approved),
                      json.loads(groups) if groups != "[]" else [])


def _itemValues(item):
    return {"name": item.name or "", "subscription": item.subscription,
            "ask": item.ask or "", "approved": bool(item.approved),
            "groups": json.dumps(list(item.groups))}


def _bumpVersion(connection, username):
    """Increment (or start at 1) the roster version and return it."""
    makeInsert = dialectInsert(connection)
    if makeInsert is not None:
        statement = makeInsert(rosterVersions).values(username=username, version=1)
        statement = statement.on_conflict_do_update(
            index_elements=["username"],
            set_={"version": rosterVersions.c.version + 1})
        return connection.execute(statement.returning(rosterVersions.c.version)).scalar_one()
    upsert(connection, rosterVersions, {"username": username},
           {"version": rosterVersions.c.version + 1})
    return connection.execute(select(rosterVersions.c.version).where(
        rosterVersions.c.username == username)).scalar_one()


@implementer(IRosterStore)
class SQLRosterStore(SQLStore):
    """Roster items, versions and pending requests."""

    def items(self, username):
        def work(connection):
            return [_rowToItem(row) for row in _ITEMS.rows(connection, username=username)]
        return self.database.read(work)

    def item(self, username, jid):
        def work(connection):
            rows = _ITEM.rows(connection, username=username, jid=jid)
            return _rowToItem(rows[0]) if rows else None
        return self.database.read(work)

    def set(self, username, item):
        values = _itemValues(item)

        def work(connection):
            upsert(connection, rosterItems, {"username": username, "jid": item.jid}, values)
            return _bumpVersion(connection, username)
        return self.database.write(work)

    def remove(self, username, jid):
        def work(connection):
            connection.execute(delete(rosterItems).where(
                rosterItems.c.username == username, rosterItems.c.jid == jid))
            return _bumpVersion(connection, username)
        return self.database.write(work)

    def version(self, username):
        def work(connection):
            return _VERSION.scalar(connection, username=username) or 0
        return self.database.read(work)

    def addPending(self, username, jid, xml):
        def work(connection):
            upsert(connection, pendingSubscriptions,
                   {"username": username, "jid": jid}, {"xml": xml})
        return self.database.write(work)

    def pending(self, username):
        def work(connection):
            return [tuple(row) for row in _PENDING.rows(connection, username=username)]
        return self.database.read(work)

    def removePending(self, username, jid):
        def work(connection):
            connection.execute(delete(pendingSubscriptions).where(
                pendingSubscriptions.c.username == username,
                pendingSubscriptions.c.jid == jid))
        return self.database.write(work)

    def pendingUsers(self):
        return self.database.read(usernamesIn, pendingSubscriptions)
