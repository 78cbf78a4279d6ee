# -*- test-case-name: tests.components.offline.test_offline_spool -*-
"""
The offline spool: the logic of Offline Message Storage (XEP-0160), apart
from any XML.

Messages are kept per account (the storage key is the username) in the
offline store (L{jabberd.storage.interfaces.IOfflineStore}: C{store},
C{count}, C{list}, C{remove}); the SQL store commits each write before its
Deferred fires, so a message this spool reports as stored survives a crash.

Every operation on one account runs after the previous one on that
account has finished: a message stored while a delivery or a XEP-0013
request is under way is neither delivered twice nor lost, whatever the
storage back end's thread pool does.  Different accounts do not wait for
each other.
"""

from twisted.internet import defer

__all__ = ["OfflineSpool", "QuotaExceeded", "DEFAULT_QUOTA", "DEFAULT_QUOTA_BYTES"]

DEFAULT_QUOTA = 1000
#: Bytes of stored XML one account may hold: a count alone lets any sender
#: park 1000 stanzas of the maximum size (256 KB each) per account.
DEFAULT_QUOTA_BYTES = 10 * 1024 * 1024


class QuotaExceeded(Exception):
    """The account already holds as many offline messages, or bytes, as allowed."""


class OfflineSpool:
    """
    Offline messages of all accounts.

    @ivar storage: the L{jabberd.storage.interfaces.IStorage}; its C{offline} store keeps the messages.
    @ivar quota: the most messages one account may hold; 0 means no limit.
    @ivar quotaBytes: the most bytes of stored XML one account may hold; 0
        means no limit.  The running total of an account is read from
        storage once (one listing, the first time a message is stored for
        it after a start) and then kept up to date here; it is checked
        against the stored count at every store, so a change made behind
        the spool's back (an account deleted) is noticed and re-read.
    """

    def __init__(self, storage, quota=DEFAULT_QUOTA, quotaBytes=DEFAULT_QUOTA_BYTES,
                 indexHolders=True):
        self.storage = storage
        self.quota = quota
        self.quotaBytes = quotaBytes
        self._usage = {}  # username -> (messages, bytes) as last known
        self._queued = {}  # username -> (messages, bytes) waiting to be stored
        self._tails = {}
        # Who may have messages: most logins find none, and knowing that
        # saves a database read per login.  None until the start-up read
        # is in; names stored meanwhile wait in _storedEarly.
        # A cluster's nodes share the store (indexHolders false): another
        # node may store a message at any time, so every login reads it.
        self.holders = None
        self._storedEarly = None
        if indexHolders:
            self._storedEarly = set()
            self.storage.offline.users().addCallbacks(self._holdersLoaded, self._holdersFailed)

    def _holdersLoaded(self, names):
        self.holders = set(names) | self._storedEarly
        self._storedEarly = None

    def _holdersFailed(self, failure):
        # Without the index every delivery reads the database, as before.
        self._storedEarly = None

    def exclusive(self, username, function, *args):
        """
        Run C{function(*args)} (it may return a value, a Deferred or a
        coroutine) once every earlier operation on C{username} is
        done; a Deferred of its result.
        """
        previous = self._tails.get(username)
        d = defer.Deferred()
        if previous is None:
            d.callback(None)
        else:
            previous.addBoth(lambda _: d.callback(None))
        d.addCallback(lambda _: defer.maybeDeferred(function, *args))
        tail = defer.Deferred()
        self._tails[username] = tail
        d.addBoth(self._done, username, tail)
        return d

    def _done(self, outcome, username, tail):
        if self._tails.get(username) is tail:
            del self._tails[username]
        tail.callback(None)
        return outcome

    def store(self, username, xml, stamp=None):
        """
        Keep the serialised message C{xml} for C{username}; fires with its
        id once it is committed, or fails with L{QuotaExceeded}.

        Messages waiting for their turn (each store reads and writes
        storage) count against the quota too: one that the stored and the
        waiting ones would push past it is refused at once, so a sender
        faster than storage cannot make the spool hold more than the quota
        in memory for one account.
        """
        size = len(xml.encode("utf-8"))
        queued = self._queued.get(username)
        if queued is not None and self._wouldExceed(username, queued, size):
            return defer.fail(QuotaExceeded(username))
        count, used = queued or (0, 0)
        self._queued[username] = (count + 1, used + size)
        d = self.exclusive(username, self._store, username, xml, stamp, size)
        d.addBoth(self._dequeued, username, size)
        return d

    def _wouldExceed(self, username, queued, size):
        """Whether the kept (as last known) and C{queued} messages leave no room for C{size} bytes."""
        count, used = self._usage.get(username, (0, 0))
        count, used = count + queued[0], used + queued[1]
        return bool((self.quota and count >= self.quota)
                    or (self.quotaBytes and used + size > self.quotaBytes))

    def _dequeued(self, outcome, username, size):
        count, used = self._queued[username]
        if count == 1:
            del self._queued[username]
        else:
            self._queued[username] = (count - 1, used - size)
        return outcome

    async def _store(self, username, xml, stamp, size):
        if self.quota or self.quotaBytes:
            count = await self.storage.offline.count(username)
            if self.quota and count >= self.quota:
                raise QuotaExceeded(username)
            if self.quotaBytes:
                used = await self._bytesUsed(username, count)
                if used + size > self.quotaBytes:
                    raise QuotaExceeded(username)
        stored = await self.storage.offline.store(username, xml, stamp)
        if username in self._usage:
            count, used = self._usage[username]
            self._usage[username] = (count + 1, used + size)
        if self.holders is not None:
            self.holders.add(username)
        elif self._storedEarly is not None:
            self._storedEarly.add(username)
        return stored

    async def _bytesUsed(self, username, count):
        """Bytes kept for C{username}, who has C{count} messages stored."""
        known = self._usage.get(username)
        if known is not None and known[0] == count:
            return known[1]
        messages = await self.storage.offline.list(username)
        used = sum(len(m.xml.encode("utf-8")) for m in messages)
        self._usage[username] = (len(messages), used)
        return used

    def count(self, username):
        """The number of messages kept for C{username}."""
        return self.exclusive(username, self.storage.offline.count, username)

    def messages(self, username):
        """The L{OfflineMessage}s kept for C{username}, oldest first."""
        return self.exclusive(username, self.storage.offline.list, username)

    def remove(self, username, ids):
        """Forget the messages of C{username} with the given ids."""
        self._usage.pop(username, None)  # read again at the next store
        return self.exclusive(username, self.storage.offline.remove, username, list(ids))

    def purge(self, username):
        """Forget every message kept for C{username}."""
        return self.exclusive(username, self._purge, username)

    async def _purge(self, username):
        self._usage.pop(username, None)
        messages = await self.storage.offline.list(username)
        await self.storage.offline.remove(username, [m.id for m in messages])

    def drain(self, username, send):
        """
        Hand every message of C{username}, oldest first, to C{send} and
        then forget them; fires with how many there were.  They are removed
        only after all were sent: a crash in between delivers twice rather
        than never.
        """
        return self.exclusive(username, self._drain, username, send)

    async def _drain(self, username, send):
        if self.holders is not None and username not in self.holders:
            return 0  # the usual login: no read, no write
        messages = await self.storage.offline.list(username)
        for message in messages:
            send(message)
        if messages:
            await self.storage.offline.remove(username, [m.id for m in messages])
        if self.holders is not None:
            self.holders.discard(username)
        return len(messages)

