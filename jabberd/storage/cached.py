# -*- test-case-name: tests.storage.test_cached -*-
"""
The session manager's view of the storage: the same stores, except that
the roster store (RFC 6121) is read through L{PendingIndex} and
L{RosterCache}, and the last activity store (XEP-0012) through
L{LastActivityCache}, which keep what every login, presence broadcast and
probe asks for in memory while the user has a session (L{CachedStorage.pin}).
"""

from zope.interface import implementer

from jabberd.storage.interfaces import IStorage, storeNames
from jabberd.storage.lastcache import LastActivityCache
from jabberd.storage.pendingindex import PendingIndex
from jabberd.storage.rostercache import RosterCache

__all__ = ["CachedStorage"]


@implementer(IStorage)
class CachedStorage:
    """
    An L{IStorage} sharing every store of another but the roster, which is
    a L{RosterCache} over a L{PendingIndex} over the other's, and the last
    activity, a L{LastActivityCache} over the other's.

    @ivar storage: the wrapped L{IStorage}; closing this closes it.
    @ivar roster: the L{RosterCache}, or the C{roster} given instead (a
        cluster node's L{jabberd.cluster.rosters.SharedRoster}).
    @ivar last: the L{LastActivityCache}.
    """

    def __init__(self, storage, roster=None):
        self.storage = storage
        for name in storeNames():
            setattr(self, name, getattr(storage, name))
        self.roster = roster if roster is not None else RosterCache(PendingIndex(storage.roster))
        self.last = LastActivityCache(storage.last)

    def pin(self, username):
        """Keep C{username}'s roster and last logout in memory (a session started)."""
        self.roster.pin(username)
        self.last.pin(username)

    def unpin(self, username):
        """One session of C{username} ended; after the last, forget what was kept."""
        self.roster.unpin(username)
        self.last.unpin(username)

    def deleteUser(self, username):
        self.roster.forget(username)
        self.last.forget(username)
        return self.storage.deleteUser(username)

    def close(self):
        return self.storage.close()
