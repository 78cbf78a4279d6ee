# -*- test-case-name: tests.storage.test_rostercache -*-
"""
The base of the roster store's caches (L{jabberd.storage.rostercache},
L{jabberd.storage.pendingindex}): an L{IRosterStore} that hands every call
to the roster store it wraps, so a cache overrides only what it serves.
"""

from zope.interface import implementer

from jabberd.storage.interfaces import IRosterStore

__all__ = ["RosterStoreWrapper"]


@implementer(IRosterStore)
class RosterStoreWrapper:
    """
    @ivar store: the wrapped L{IRosterStore}.
    """

    def __init__(self, store):
        self.store = store

    def items(self, username):
        return self.store.items(username)

    def item(self, username, jid):
        return self.store.item(username, jid)

    def set(self, username, item):
        return self.store.set(username, item)

    def remove(self, username, jid):
        return self.store.remove(username, jid)

    def version(self, username):
        return self.store.version(username)

    def addPending(self, username, jid, xml):
        return self.store.addPending(username, jid, xml)

    def pending(self, username):
        return self.store.pending(username)

    def removePending(self, username, jid):
        return self.store.removePending(username, jid)

    def pendingUsers(self):
        return self.store.pendingUsers()
