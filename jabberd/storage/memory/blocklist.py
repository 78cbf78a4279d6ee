# -*- test-case-name: tests.storage.test_blocklist -*-
"""
The block lists of XEP-0191 in memory: the reference implementation of
L{jabberd.storage.interfaces.IBlockListStore}.
"""

from twisted.internet import defer
from zope.interface import implementer

from jabberd.storage.interfaces import IBlockListStore

__all__ = ["MemoryBlockListStore"]


@implementer(IBlockListStore)
class MemoryBlockListStore:
    """
    @ivar lists: username -> set of blocked JID strings; a user whose list
        is empty has no entry.
    """

    def __init__(self):
        self.lists = {}

    def forget(self, username):
        self.lists.pop(username, None)

    def items(self, username):
        return defer.succeed(sorted(self.lists.get(username, ())))

    def block(self, username, jids):
        if jids:
            self.lists.setdefault(username, set()).update(jids)
        return defer.succeed(None)

    def unblock(self, username, jids):
        blocked = self.lists.get(username)
        if blocked is not None:
            blocked.difference_update(jids)
            if not blocked:
                del self.lists[username]
        return defer.succeed(None)

    def unblockAll(self, username):
        return defer.succeed(sorted(self.lists.pop(username, ())))

    def users(self):
        return defer.succeed(set(self.lists))
