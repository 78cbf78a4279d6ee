# -*- test-case-name: tests.storage.test_sqlite -*-
"""
The SQL storage (L{IStorage}): one L{Database} and, on it, one store per
interface of L{jabberd.storage.interfaces}.
"""

from sqlalchemy import delete
from zope.interface import implementer

from jabberd.storage.interfaces import IStorage
from jabberd.storage.schema import USER_DATA, users
from jabberd.storage.sql.accounts import SQLAccountStore
from jabberd.storage.sql.archive import SQLArchiveStore
from jabberd.storage.sql.blocklist import SQLBlockListStore
from jabberd.storage.sql.database import Database
from jabberd.storage.sql.offline import SQLOfflineStore
from jabberd.storage.sql.profile import SQLLastActivityStore, SQLPrivateStore, SQLVCardStore
from jabberd.storage.sql.pubsub import SQLPubSubStore
from jabberd.storage.sql.push import SQLPushStore
from jabberd.storage.sql.roster import SQLRosterStore

__all__ = ["SQLStorage"]


def _deleteUserData(connection, username):
    """Delete C{username}'s rows from every table of L{USER_DATA}; whether the account existed."""
    existed = False
    for table in USER_DATA:
        result = connection.execute(delete(table).where(table.c.username == username))
        existed = existed or (table is users and result.rowcount > 0)
    return existed


@implementer(IStorage)
class SQLStorage:
    """
    The stores on the SQL database at a URL.

    @ivar database: the L{Database} every store runs on.
    """

    def __init__(self, url, threads=None, reactor=None, **engineKwargs):
        """Open the database at C{url} (see L{Database}), blocking, and make the stores."""
        self.database = database = Database(url, threads, reactor, **engineKwargs)
        self.accounts = SQLAccountStore(database)
        self.roster = SQLRosterStore(database)
        self.offline = SQLOfflineStore(database)
        self.vcards = SQLVCardStore(database)
        self.private = SQLPrivateStore(database)
        self.last = SQLLastActivityStore(database)
        self.archive = SQLArchiveStore(database)
        self.pubsub = SQLPubSubStore(database)
        self.blocklist = SQLBlockListStore(database)
        self.push = SQLPushStore(database)

    def deleteUser(self, username):
        return self.database.write(_deleteUserData, username)

    def close(self):
        return self.database.close()
