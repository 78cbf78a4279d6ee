# -*- test-case-name: tests.storage.test_lastcache -*-
"""
The last logout of online users kept in memory (XEP-0012 section 4; RFC
6121 section 4.3.2: a probe of a contact with no available resource is
answered with the status of its last unavailable presence).

When fifty contacts log in together, each probes each of the others; a
contact that is connected but has not yet sent its initial presence
answers every probe with its last status, which would be a query each.
L{LastActivityCache} wraps the store: a pinned user's entry (a user with
a session) is read once and then served from memory; a write goes to the
database and, once committed, to the copy.  Other users are read from
the store every time.
"""

from zope.interface import implementer

from jabberd.storage.interfaces import ILastActivityStore
from jabberd.storage.pinned import PinnedValues

__all__ = ["LastActivityCache"]


@implementer(ILastActivityStore)
class LastActivityCache:
    """
    @ivar store: the wrapped L{ILastActivityStore}.
    """

    def __init__(self, store):
        self.store = store
        self._entries = PinnedValues(store.get)

    def pin(self, username):
        """Keep C{username}'s last logout in memory (a session of theirs started)."""
        self._entries.pin(username)

    def unpin(self, username):
        """One session of C{username} ended; forget the entry after the last."""
        self._entries.unpin(username)

    def get(self, username):
        if not self._entries.pinned(username):
            return self.store.get(username)
        return self._entries.get(username)

    def peek(self, username, default=None):
        """
        C{username}'s entry if memory has it (pinned and read): what L{get}
        would answer at once, (stamp, status) or None; else C{default}.
        """
        return self._entries.cached(username, default)

    def set(self, username, stamp, status):
        self._entries.written(username)

        def committed(result):
            if self._entries.pinned(username):
                self._entries.values[username] = (stamp, status or "")
            return result

        return self.store.set(username, stamp, status).addCallback(committed)

    def forget(self, username):
        """Drop the entry of C{username} (the account is being deleted)."""
        self._entries.forget(username)
