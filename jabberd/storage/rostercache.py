# -*- test-case-name: tests.storage.test_rostercache -*-
"""
Rosters of online users kept in memory (RFC 6121 section 2).

Presence reads a user's roster at every login, every broadcast and every
probe from a contact (section 4.3); with the roster in the database each of
those is a query.  L{RosterCache} wraps the roster store: while a user is
pinned (has a session) their roster is read once and then served from
memory; writes go to the database and, once committed, to the copy.  All
other calls pass through unchanged.

A read that was under way when a write started is not cached (a
generation counter per user tells), so the copy never goes stale through
a race with the thread pool.
"""

import dataclasses

from twisted.internet import defer

from jabberd.storage.rosterwrapper import RosterStoreWrapper

__all__ = ["RosterCache"]


def _clone(item):
    """A copy callers may change (the groups list included)."""
    return None if item is None else dataclasses.replace(item, groups=list(item.groups))


class RosterCache(RosterStoreWrapper):
    """
    The roster store, with pinned users' rosters kept in memory.
    """

    def __init__(self, store):
        RosterStoreWrapper.__init__(self, store)
        self._rosters = {}
        self._pins = {}
        self._generations = {}

    def pin(self, username):
        """Keep C{username}'s roster in memory (a session of theirs started)."""
        self._pins[username] = self._pins.get(username, 0) + 1

    def unpin(self, username):
        """One session of C{username} ended; forget the roster after the last."""
        count = self._pins.get(username, 0) - 1
        if count > 0:
            self._pins[username] = count
            return
        self._pins.pop(username, None)
        self._rosters.pop(username, None)
        self._generations.pop(username, None)

    def _table(self, username):
        """A Deferred of the cached {jid: item} of a pinned user."""
        table = self._rosters.get(username)
        if table is not None:
            return defer.succeed(table)
        generation = self._generations.get(username, 0)

        def loaded(items):
            table = {item.jid: item for item in items}
            if username in self._pins and self._generations.get(username, 0) == generation:
                self._rosters[username] = table
            return table

        return self.store.items(username).addCallback(loaded)

    def items(self, username):
        if username not in self._pins:
            return self.store.items(username)
        return self._table(username).addCallback(
            lambda table: [_clone(item) for item in table.values()])

    def item(self, username, jid):
        if username not in self._pins:
            return self.store.item(username, jid)
        return self._table(username).addCallback(lambda table: _clone(table.get(jid)))

    def _written(self, username):
        if username in self._pins:
            self._generations[username] = self._generations.get(username, 0) + 1

    def set(self, username, item):
        self._written(username)
        copy = _clone(item)

        def committed(version):
            table = self._rosters.get(username)
            if table is not None:
                table[copy.jid] = copy
            return version

        return self.store.set(username, item).addCallback(committed)

    def remove(self, username, jid):
        self._written(username)

        def committed(version):
            self._rosters.get(username, {}).pop(jid, None)
            return version

        return self.store.remove(username, jid).addCallback(committed)

    def forget(self, username):
        """
        Drop the copy of C{username}'s roster (the account is being
        deleted); a read under way is not cached either.
        """
        self._written(username)
        self._rosters.pop(username, None)
