# -*- test-case-name: tests.storage.test_memory -*-
"""
The in-memory stores: the reference implementations of the interfaces of
L{jabberd.storage.interfaces}, for unit tests and throw-away servers.  Same
methods, same Deferreds, as the SQL stores of L{jabberd.storage.sql}.

Each store keeps dictionaries keyed by username (the prepared localpart)
and has a C{forget(username)} that L{MemoryStorage.deleteUser} calls.
Values are copied in and out, so callers cannot change what is stored.
"""

import copy
import time

from twisted.internet import defer
from zope.interface import implementer

from jabberd.storage import OfflineMessage, UserExists
from jabberd.storage.memory.archive import MemoryArchiveStore
from jabberd.storage.memory.blocklist import MemoryBlockListStore
from jabberd.storage.memory.pubsub import MemoryPubSubStore
from jabberd.storage.memory.push import MemoryPushStore
from jabberd.storage.interfaces import (IAccountStore, ILastActivityStore,
                                        IOfflineStore, IPrivateStore,
                                        IRosterStore, IStorage, IVCardStore,
                                        userStoreNames)

__all__ = ["MemoryStorage", "MemoryAccountStore", "MemoryRosterStore",
           "MemoryOfflineStore", "MemoryVCardStore", "MemoryPrivateStore",
           "MemoryLastActivityStore"]


def _d(value):
    return defer.succeed(value)


class _PerUser:
    """
    A store of one value per user, in C{data}.

    @ivar data: username -> value.
    """

    def __init__(self):
        self.data = {}

    def forget(self, username):
        self.data.pop(username, None)


@implementer(IAccountStore)
class MemoryAccountStore(_PerUser):
    """Accounts: C{data} maps a username to its credentials dictionary."""

    def create(self, username, credentials):
        if username in self.data:
            return defer.fail(UserExists(username))
        self.data[username] = dict(credentials)
        return _d(None)

    def exists(self, username):
        return _d(username in self.data)

    def get(self, username):
        credentials = self.data.get(username)
        return _d(dict(credentials) if credentials is not None else None)

    def set(self, username, credentials):
        if username not in self.data:
            return _d(False)
        self.data[username] = dict(credentials)
        return _d(True)

    def delete(self, username):
        return _d(self.data.pop(username, None) is not None)

    def list(self):
        return _d(sorted(self.data))


@implementer(IRosterStore)
class MemoryRosterStore:
    """
    @ivar rosters: username -> {jid: L{RosterItem}}.
    @ivar versions: username -> roster version.
    @ivar requests: username -> {jid: xml} of pending subscription requests.
    """

    def __init__(self):
        self.rosters = {}
        self.versions = {}
        self.requests = {}

    def forget(self, username):
        for table in (self.rosters, self.versions, self.requests):
            table.pop(username, None)

    def items(self, username):
        return _d([copy.deepcopy(i) for i in self.rosters.get(username, {}).values()])

    def item(self, username, jid):
        return _d(copy.deepcopy(self.rosters.get(username, {}).get(jid)))

    def set(self, username, item):
        self.rosters.setdefault(username, {})[item.jid] = copy.deepcopy(item)
        return _d(self._bump(username))

    def remove(self, username, jid):
        self.rosters.get(username, {}).pop(jid, None)
        return _d(self._bump(username))

    def version(self, username):
        return _d(self.versions.get(username, 0))

    def _bump(self, username):
        version = self.versions.get(username, 0) + 1
        self.versions[username] = version
        return version

    def addPending(self, username, jid, xml):
        self.requests.setdefault(username, {})[jid] = xml
        return _d(None)

    def pending(self, username):
        return _d(list(self.requests.get(username, {}).items()))

    def removePending(self, username, jid):
        self.requests.get(username, {}).pop(jid, None)
        return _d(None)

    def pendingUsers(self):
        return _d({name for name, requests in self.requests.items() if requests})


@implementer(IOfflineStore)
class MemoryOfflineStore(_PerUser):
    """The spool: C{data} maps a username to its L{OfflineMessage}s, oldest first."""

    def __init__(self):
        _PerUser.__init__(self)
        self._nextId = 1

    def store(self, username, xml, stamp=None):
        msgId = self._nextId
        self._nextId += 1
        self.data.setdefault(username, []).append(
            OfflineMessage(msgId, xml, stamp if stamp is not None else time.time()))
        return _d(msgId)

    def count(self, username):
        return _d(len(self.data.get(username, [])))

    def list(self, username):
        return _d(list(self.data.get(username, [])))

    def remove(self, username, ids):
        ids = set(ids)
        self.data[username] = [m for m in self.data.get(username, []) if m.id not in ids]
        return _d(None)

    def users(self):
        return _d({name for name, messages in self.data.items() if messages})


@implementer(IVCardStore)
class MemoryVCardStore(_PerUser):
    """vCards: C{data} maps a username to its serialised vCard."""

    def get(self, username):
        return _d(self.data.get(username))

    def set(self, username, xml):
        self.data[username] = xml
        return _d(None)

    def users(self):
        return _d(set(self.data))


@implementer(IPrivateStore)
class MemoryPrivateStore(_PerUser):
    """Private XML: C{data} maps (username, key) to a serialised element."""

    def forget(self, username):
        for key in [k for k in self.data if k[0] == username]:
            del self.data[key]

    def get(self, username, key):
        return _d(self.data.get((username, key)))

    def set(self, username, key, xml):
        self.data[(username, key)] = xml
        return _d(None)


@implementer(ILastActivityStore)
class MemoryLastActivityStore(_PerUser):
    """Last activity: C{data} maps a username to (stamp, status)."""

    def get(self, username):
        return _d(self.data.get(username))

    def set(self, username, stamp, status):
        self.data[username] = (stamp, status)
        return _d(None)


@implementer(IStorage)
class MemoryStorage:
    """One memory store of each kind."""

    def __init__(self):
        self.accounts = MemoryAccountStore()
        self.roster = MemoryRosterStore()
        self.offline = MemoryOfflineStore()
        self.vcards = MemoryVCardStore()
        self.private = MemoryPrivateStore()
        self.last = MemoryLastActivityStore()
        self.archive = MemoryArchiveStore()
        self.pubsub = MemoryPubSubStore()
        self.blocklist = MemoryBlockListStore()
        self.push = MemoryPushStore()

    def deleteUser(self, username):
        existed = username in self.accounts.data
        for name in userStoreNames():
            getattr(self, name).forget(username)
        return _d(existed)

    def close(self):
        return _d(None)
