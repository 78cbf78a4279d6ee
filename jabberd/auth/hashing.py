# -*- test-case-name: tests.auth.test_hashing -*-
"""
Password hashing off the reactor thread.

Checking a PLAIN or XEP-0078 password, deriving SCRAM keys from a stored
plaintext password and making credentials at registration all run PBKDF2
(RFC 8018 section 5.2, the Hi() of RFC 5802 section 2.2): thousands of
HMACs, milliseconds each.  On the reactor thread a run of wrong-password
attempts would stall every stream.  C{hashlib.pbkdf2_hmac} releases the
GIL, so a few worker threads take the work without slowing the reactor.

The queue is bounded: past C{maxPending} calls waiting or running, a new
one fails at once with L{HashingBusy} (answered C{temporary-auth-failure},
RFC 6120 section 6.5.12) instead of growing a backlog an attacker controls.
"""

from twisted.internet import defer

from jabberd.storage.workers import Workers

__all__ = ["HashingBusy", "PasswordHashing", "InlineHashing"]


class HashingBusy(Exception):
    """Too many hashing calls are queued; try again later."""


class PasswordHashing:
    """
    A bounded set of threads for PBKDF2 work.

    @ivar maxPending: calls queued or running at most.
    @ivar pending: calls queued or running now.
    """

    def __init__(self, reactor, threads=2, maxPending=64):
        self.workers = Workers(reactor, max(1, threads), "pbkdf2")
        self.maxPending = maxPending
        self.pending = 0

    def run(self, function, *args):
        """A Deferred of C{function(*args)}, computed in a worker thread."""
        if self.pending >= self.maxPending:
            return defer.fail(HashingBusy())
        self.pending += 1
        d = self.workers.submit(lambda: function(*args))
        d.addBoth(self._done)
        return d

    def _done(self, result):
        self.pending -= 1
        return result

    def stop(self):
        """Finish what is queued and end the threads (at shutdown)."""
        self.workers.stop()


class InlineHashing:
    """The same interface, computing on the calling thread (tools and unit tests)."""

    pending = 0

    def run(self, function, *args):
        return defer.maybeDeferred(function, *args)

    def stop(self):
        pass
