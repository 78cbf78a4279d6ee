# -*- test-case-name: tests.storage.test_blocklist -*-
"""
The block lists of XEP-0191 in C{blocked_jids}, one row per user and
blocked JID: the L{IBlockListStore}.
"""

from sqlalchemy import delete, insert, select
from zope.interface import implementer

from jabberd.storage.interfaces import IBlockListStore
from jabberd.storage.schema import blockedJIDs
from jabberd.storage.sql.common import SQLStore, dialectInsert

__all__ = ["SQLBlockListStore"]


def _users(connection):
    rows = connection.execute(select(blockedJIDs.c.username).distinct())
    return {row.username for row in rows}


def _listed(connection, username):
    rows = connection.execute(select(blockedJIDs.c.jid).where(
        blockedJIDs.c.username == username).order_by(blockedJIDs.c.jid))
    return [row.jid for row in rows]


@implementer(IBlockListStore)
class SQLBlockListStore(SQLStore):
    """Block lists, one row per blocked JID."""

    def items(self, username):
        return self.database.read(_listed, username)

    def users(self):
        return self.database.read(_users)

    def block(self, username, jids):
        rows = [{"username": username, "jid": jid} for jid in sorted(set(jids))]

        def work(connection):
            if not rows:
                return
            makeInsert = dialectInsert(connection)
            if makeInsert is not None:
                # A JID already listed stays once, whichever writer was first.
                connection.execute(makeInsert(blockedJIDs).values(rows).on_conflict_do_nothing())
                return
            listed = set(_listed(connection, username))
            new = [row for row in rows if row["jid"] not in listed]
            if new:
                connection.execute(insert(blockedJIDs), new)
        return self.database.write(work)

    def unblock(self, username, jids):
        jids = list(jids)

        def work(connection):
            if jids:
                connection.execute(delete(blockedJIDs).where(
                    blockedJIDs.c.username == username, blockedJIDs.c.jid.in_(jids)))
        return self.database.write(work)

    def unblockAll(self, username):
        def work(connection):
            listed = _listed(connection, username)
            connection.execute(delete(blockedJIDs).where(blockedJIDs.c.username == username))
            return listed
        return self.database.write(work)
