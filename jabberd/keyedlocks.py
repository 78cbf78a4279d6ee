# -*- test-case-name: tests.test_keyedlocks -*-
"""
One lock per key (an account, a PubSub service): work for one key runs one
at a time, in arrival order, while work for other keys goes on.  A check
followed by a write (count the nodes, then create one) must not interleave
with another request's for the same key when storage answers from a pool
of threads.  A key's lock is dropped once nothing holds or waits for it,
so idle keys cost nothing.
"""

from twisted.internet import defer

__all__ = ["KeyedLocks"]


class KeyedLocks:
    """
    L{defer.DeferredLock}s by key, made when needed and dropped when idle.

    @ivar locks: key -> the lock of the work running or waiting for it.
    """

    def __init__(self):
        self.locks = {}

    def __len__(self):
        """How many keys have work running or waiting."""
        return len(self.locks)

    def run(self, key, function, *args):
        """
        Run C{function(*args)} (a coroutine function, or one returning a
        Deferred or a value) once no other work for C{key} runs; a Deferred
        of its result.
        """
        lock = self.locks.get(key)
        if lock is None:
            lock = self.locks[key] = defer.DeferredLock()
        d = lock.run(lambda: defer.ensureDeferred(_awaitable(function(*args))))
        d.addBoth(self._unlocked, key, lock)
        return d

    def _unlocked(self, result, key, lock):
        if not lock.locked and not lock.waiting and self.locks.get(key) is lock:
            del self.locks[key]
        return result


async def _awaitable(result):
    """The result of a coroutine or Deferred, or the plain value itself."""
    if hasattr(result, "__await__") or isinstance(result, defer.Deferred):
        return await result
    return result
