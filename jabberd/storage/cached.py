# -*- test-case-name: tests.storage.test_cached -*-
"""
The session manager's view of the storage: the same stores, except that
the roster store (RFC 6121) is read through L{PendingIndex} and
L{RosterCache}, which keep what every login and presence broadcast asks
for in memory.
"""

from zope.interface import implementer

from jabberd.storage.interfaces import IStorage, storeNames
from jabberd.storage.pendingindex import PendingIndex
from jabberd.storage.rostercache import RosterCache

__all__ = ["CachedStorage"]


@implementer(IStorage)
class CachedStorage:
    """
    An L{IStorage} sharing every store of another but the roster, which is
    a L{RosterCache} over a L{PendingIndex} over the other's.

    @ivar storage: the wrapped L{IStorage}; closing this closes it.
    @ivar roster: the L{RosterCache} (pinning is done on it), or the
        C{roster} given instead (a cluster node's
        L{jabberd.cluster.rosters.SharedRoster}).
    """

    def __init__(self, storage, roster=None):
        self.storage = storage
        for name in storeNames():
            setattr(self, name, getattr(storage, name))
        self.roster = roster if roster is not None else RosterCache(PendingIndex(storage.roster))

    def deleteUser(self, username):
        self.roster.forget(username)
        return self.storage.deleteUser(username)

    def close(self):
        return self.storage.close()
