# -*- test-case-name: tests.storage.test_groupcommit -*-
"""
Group commit for the single SQLite writer.

With C{synchronous=FULL} every commit syncs the write-ahead log, and on a
busy disk a sync takes milliseconds to tens of milliseconds; one writer
thread committing each write on its own is then bounded by the disk, not
the work (51 users making each other contacts, RFC 6121 section 3.1, are
about 10,000 roster writes).  L{GroupCommit} runs the writes that are
already queued when the writer takes the next one in one transaction,
each inside a savepoint of its own, and commits once: a write that raises
rolls back to its savepoint and fails alone, the others are kept.  Every
Deferred fires only after the commit that made its write durable, so what
was acknowledged still survives a crash or power loss.
"""

import queue
import threading

from sqlalchemy import event
from twisted.internet import defer
from twisted.python.failure import Failure

__all__ = ["GroupCommit", "explicitBegin"]

_STOP = object()


def explicitBegin(engine):
    """
    Let SQLAlchemy, not the C{sqlite3} module, start SQLite transactions:
    the module begins one only before a data change, so a first
    C{SAVEPOINT} would start (and its release commit) a transaction of its
    own.  The driver's own transaction handling is turned off and every
    transaction starts with an explicit C{BEGIN}.
    """
    @event.listens_for(engine, "connect")
    def _noDriverTransactions(dbapiConnection, connectionRecord):
        dbapiConnection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


class GroupCommit:
    """
    One writer thread over C{engine}, committing the writes queued together
    in one transaction.

    @ivar maxBatch: writes in one transaction at most.
    @ivar commits: transactions committed so far (for tests and curiosity).
    """

    def __init__(self, reactor, engine, maxBatch=100, name="storage-0"):
        self.reactor = reactor
        self.engine = engine
        self.maxBatch = maxBatch
        self.name = name
        self.commits = 0
        self.started = False
        self._calls = queue.SimpleQueue()
        self._thread = None

    def start(self):
        if self.started:
            return
        self.started = True
        self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
        self._thread.start()

    def submit(self, work, *args):
        """Run C{work(connection, *args)} in a transaction; a Deferred fired once committed."""
        if not self.started:
            self.start()
        d = defer.Deferred()
        self._calls.put((work, args, d))
        return d

    def _take(self):
        """The next writes: one, waiting for it, and those queued behind it; None to stop."""
        first = self._calls.get()
        if first is _STOP:
            return None
        batch = [first]
        while len(batch) < self.maxBatch:
            try:
                item = self._calls.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._calls.put(_STOP)  # stop once this batch is done
                break
            batch.append(item)
        return batch

    def _work(self):
        while True:
            batch = self._take()
            if batch is None:
                return
            outcomes = self._commit(batch)
            for (_, _, d), (ok, value) in zip(batch, outcomes):
                self.reactor.callFromThread(d.callback if ok else d.errback, value)
            batch = outcomes = d = value = None  # hold nothing while waiting

    def _commit(self, batch):
        """Run C{batch} in one transaction: a list of (ok, result or Failure)."""
        if len(batch) == 1:
            work, args, _ = batch[0]
            try:
                with self.engine.begin() as connection:
                    result = work(connection, *args)
            except BaseException:
                return [(False, Failure())]
            self.commits += 1
            return [(True, result)]
        outcomes = []
        try:
            with self.engine.begin() as connection:
                for work, args, _ in batch:
                    savepoint = connection.begin_nested()
                    try:
                        result = work(connection, *args)
                    except BaseException:
                        failure = Failure()
                        savepoint.rollback()
                        outcomes.append((False, failure))
                    else:
                        savepoint.commit()
                        outcomes.append((True, result))
        except BaseException:
            # The transaction itself failed (the commit, a savepoint): nothing
            # of the batch is durable, so every write of it fails.
            failure = Failure()
            return [(False, failure)] * len(batch)
        self.commits += 1
        return outcomes

    def stop(self):
        """Let the thread commit everything queued so far, then join it (at shutdown)."""
        if not self.started:
            return
        self.started = False
        self._calls.put(_STOP)
        self._thread.join()
        self._thread = None
