# -*- test-case-name: tests.mam.test_writer -*-
"""
Group commits into an archive (XEP-0313 section 3, "Order of messages":
the archive keeps the order messages were delivered in).

The archiving handler chooses each message's id itself and hands the
message here, so delivery never waits for the write.  One write is under
way at a time, and what is archived meanwhile goes together in the next
(L{IArchiveStore.appendMany}): a store with several worker threads would
otherwise commit two writes in either order, and under load the writes get
larger rather than more numerous.  A query first waits for the writes
issued before it (L{GroupCommit.committed}), so it finds every message
delivered before it and never misses an id a client was given.
"""

from twisted.internet import defer

from jabberd.logs import Logger

__all__ = ["GroupCommit"]


class _Batch:
    """Messages archived in one write, and those waiting for it to finish."""

    __slots__ = ("entries", "waiters")

    def __init__(self, entries):
        self.entries = entries
        self.waiters = []


class GroupCommit:
    """
    Writes (owner, L{ArchivedMessage}) pairs to an archive in order.

    @ivar archiveOf: a callable returning the
        L{jabberd.storage.interfaces.IArchiveStore} to write to, read at
        each write (the handler's host may be given its storage late).
    """

    log = Logger()

    def __init__(self, archiveOf):
        self.archiveOf = archiveOf
        self._writing = None
        self._pending = None

    def write(self, owner, message):
        """Archive C{message} in C{owner}'s archive, after everything written before."""
        if self._writing is None:
            self._start(_Batch([(owner, message)]))
            return
        if self._pending is None:
            self._pending = _Batch([])
        self._pending.entries.append((owner, message))

    def _start(self, batch):
        self._writing = batch
        d = self.archiveOf().appendMany(batch.entries)
        d.addErrback(lambda f: self.log.failure("archiving {count} messages failed", f,
                                                count=len(batch.entries)))
        d.addBoth(self._written, batch)

    def _written(self, _, batch):
        self._writing = None
        if self._pending is not None:
            following, self._pending = self._pending, None
            self._start(following)
        for waiter in batch.waiters:
            waiter.callback(None)

    def committed(self):
        """A Deferred firing once every write issued so far has finished."""
        batch = self._pending or self._writing
        if batch is None:
            return defer.succeed(None)
        waiter = defer.Deferred()
        batch.waiters.append(waiter)
        return waiter
