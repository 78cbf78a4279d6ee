# -*- test-case-name: tests.sm.test_exclusive -*-
"""
Work on one account's data that must not interleave (a roster change, a
bookmarks conversion), run one at a time per key, in arrival order: one
L{defer.DeferredLock} per key, made when needed and dropped when idle, so
the table holds only keys with work running or waiting.
"""

from twisted.internet import defer

__all__ = ["KeyedLocks"]


class KeyedLocks:
    """
    Serialise work by key.

    @ivar locks: key -> the L{defer.DeferredLock} of its running work.
    """

    def __init__(self):
        self.locks = {}

    def __len__(self):
        return len(self.locks)

    def run(self, key, function, *args):
        """
        Run C{function(*args)} (a coroutine function, or one returning a
        Deferred) once the earlier work for C{key} is done; a Deferred of
        its result.
        """
        lock = self.locks.get(key)
        if lock is None:
            lock = self.locks[key] = defer.DeferredLock()
        d = lock.run(defer.maybeDeferred, function, *args)
        d.addBoth(self._unlocked, key, lock)
        return d

    def _unlocked(self, result, key, lock):
        if not lock.locked and not lock.waiting and self.locks.get(key) is lock:
            del self.locks[key]
        return result
