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
a race with the thread pool; the calls that come while a read is under
way share it (L{jabberd.storage.pinned}).
"""

from jabberd.storage import RosterItem
from jabberd.storage.pinned import PinnedValues
from jabberd.storage.rosterwrapper import RosterStoreWrapper

__all__ = ["RosterCache", "rosterInMemory"]


def rosterInMemory(roster, username):
    """
    C{username}'s roster as {jid: item} if C{roster} (a store, cached or
    not) holds it in memory (L{RosterCache.peek}), uncopied, to be read at
    once and not kept; None when only storage has it.
    """
    peek = getattr(roster, "peek", None)
    return peek(username) if peek is not None else None


def _clone(item):
    """
    A copy callers may change (the groups list included); built field by
    field, since C{dataclasses.replace} inspects the class on every call
    and a presence broadcast copies a whole roster.
    """
    if item is None:
        return None
    return RosterItem(item.jid, item.name, item.subscription, item.ask, item.approved,
                      list(item.groups))


def _tableOf(items):
    return {item.jid: item for item in items}


class RosterCache(RosterStoreWrapper):
    """
    The roster store, with pinned users' rosters kept in memory (as
    {jid: item}, one read per login: L{PinnedValues}).
    """

    def __init__(self, store):
        RosterStoreWrapper.__init__(self, store)
        self._tables = PinnedValues(
            lambda username: store.items(username).addCallback(_tableOf))

    def pin(self, username):
        """Keep C{username}'s roster in memory (a session of theirs started)."""
        self._tables.pin(username)

    def unpin(self, username):
        """One session of C{username} ended; forget the roster after the last."""
        self._tables.unpin(username)

    def items(self, username):
        if not self._tables.pinned(username):
            return self.store.items(username)
        return self._tables.get(username).addCallback(
            lambda table: [_clone(item) for item in table.values()])

    def item(self, username, jid):
        if not self._tables.pinned(username):
            return self.store.item(username, jid)
        return self._tables.get(username).addCallback(lambda table: _clone(table.get(jid)))

    def peek(self, username):
        """
        C{username}'s roster in memory as {jid: item}, or None when it is
        not there (not pinned, or not read yet): what L{items} would answer
        at once, for callers that only look and never keep or change it.
        """
        if not self._tables.pinned(username):
            return None
        return self._tables.cached(username)

    def set(self, username, item):
        self._tables.written(username)
        copy = _clone(item)

        def committed(version):
            table = self._tables.cached(username)
            if table is not None:
                table[copy.jid] = copy
            return version

        return self.store.set(username, item).addCallback(committed)

    def remove(self, username, jid):
        self._tables.written(username)

        def committed(version):
            self._tables.cached(username, {}).pop(jid, None)
            return version

        return self.store.remove(username, jid).addCallback(committed)

    def forget(self, username):
        """
        Drop the copy of C{username}'s roster (the account is being
        deleted); a read under way is not cached either.
        """
        self._tables.forget(username)
