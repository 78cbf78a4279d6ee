# -*- test-case-name: tests.storage.test_pinned -*-
"""
What the session manager's caches share (L{jabberd.storage.rostercache},
L{jabberd.storage.lastcache}): one value per user, read once from storage
while the user is pinned (has a session) and then served from memory.

 - One read at a time.  Everyone asking for a pinned user's value while
   its read is under way waits for that read: a login that asks for a
   roster, broadcasts presence and answers the probes of fifty contacts
   in the same few milliseconds (RFC 6121 sections 2.1.3, 4.2, 4.3) costs
   one query, not fifty-two.
 - No stale copies.  A write bumps the user's generation; a read under
   way when it started is answered but not kept, and whoever asks after
   the write started waits for a new read, never for the old one.
"""

from twisted.internet import defer

__all__ = ["PinnedValues"]

_MISSING = object()


class PinnedValues:
    """
    Per-user values of pinned users, each read once with C{read(username)}
    (a Deferred).

    @ivar values: username -> the value read, for pinned users whose read
        was not raced by a write.
    """

    def __init__(self, read):
        self.read = read
        self.values = {}
        self._pins = {}
        self._generations = {}
        self._loading = {}  # username -> (generation, Deferreds waiting for that read)

    def pin(self, username):
        """Keep C{username}'s value in memory (a session of theirs started)."""
        self._pins[username] = self._pins.get(username, 0) + 1

    def unpin(self, username):
        """One session of C{username} ended; forget the value after the last."""
        count = self._pins.get(username, 0) - 1
        if count > 0:
            self._pins[username] = count
            return
        self._pins.pop(username, None)
        self.forget(username)

    def pinned(self, username):
        """Whether C{username} has a session (their value is served from memory)."""
        return username in self._pins

    def get(self, username):
        """A Deferred of C{username}'s value: from memory, the read under way, or a new read."""
        value = self.values.get(username, _MISSING)
        if value is not _MISSING:
            return defer.succeed(value)
        generation = self._generations.get(username, 0)
        loading = self._loading.get(username)
        if loading is not None and loading[0] == generation:
            waiter = defer.Deferred()
            loading[1].append(waiter)
            return waiter
        waiters = []
        self._loading[username] = (generation, waiters)

        def done(result, keep):
            current = self._loading.get(username, (None, None))[1] is waiters
            if current:
                del self._loading[username]
            if (keep and current and username in self._pins
                    and self._generations.get(username, 0) == generation):
                self.values[username] = result
            for waiter in waiters:
                waiter.callback(result) if keep else waiter.errback(result)
            return result

        return self.read(username).addCallbacks(done, done, (True,), None, (False,))

    def written(self, username):
        """A write of C{username}'s data starts: reads under way are not kept."""
        if username in self._pins:
            self._generations[username] = self._generations.get(username, 0) + 1

    def cached(self, username, default=None):
        """C{username}'s value in memory, or C{default}."""
        return self.values.get(username, default)

    def forget(self, username):
        """
        Drop C{username}'s value; a read under way is not kept either (a
        new generation, or, once unpinned, no read registered as current).
        """
        self.values.pop(username, None)
        self._generations[username] = self._generations.get(username, 0) + 1
        if username not in self._pins:
            self._generations.pop(username, None)
            self._loading.pop(username, None)
