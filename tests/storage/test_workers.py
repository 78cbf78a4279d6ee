"""
The store's worker threads: calls run off the reactor thread, in order, with
results and failures delivered on the reactor thread, and stop finishes
what was queued.
"""

import threading

from twisted.internet import defer, reactor
from twisted.trial import unittest

from jabberd.storage.workers import Workers


class WorkersTests(unittest.TestCase):
    """L{Workers} against the real reactor."""

    def makeWorkers(self, count=1):
        workers = Workers(reactor, count, "test-workers")
        self.addCleanup(workers.stop)
        return workers

    @defer.inlineCallbacks
    def test_resultOnReactorThread(self):
        """The call runs in a worker thread; its result fires the Deferred on the reactor thread."""
        workers = self.makeWorkers()
        ran = yield workers.submit(threading.get_ident)
        self.assertNotEqual(ran, threading.get_ident())
        fired = []
        yield workers.submit(lambda: 7).addCallback(
            lambda value: fired.append((value, threading.get_ident())))
        self.assertEqual(fired, [(7, threading.get_ident())])

    @defer.inlineCallbacks
    def test_failure(self):
        """An exception in the call fails the Deferred with it, and the worker goes on."""
        workers = self.makeWorkers()

        def broken():
            raise ValueError("no such table")
        failed = yield self.assertFailure(workers.submit(broken), ValueError)
        self.assertEqual(str(failed), "no such table")
        self.assertEqual((yield workers.submit(lambda: "next")), "next")

    @defer.inlineCallbacks
    def test_orderWithOneThread(self):
        """One worker runs calls in the order they were submitted."""
        workers = self.makeWorkers()
        seen = []
        yield defer.gatherResults([workers.submit(lambda n=n: seen.append(n))
                                   for n in range(50)])
        self.assertEqual(seen, list(range(50)))

    def test_startsOnFirstUse(self):
        """No thread exists before the first call; the first call starts them all."""
        before = threading.active_count()
        workers = self.makeWorkers(count=2)
        self.assertFalse(workers.started)
        self.assertEqual(threading.active_count(), before)
        workers.submit(lambda: None)
        self.assertTrue(workers.started)
        self.assertEqual(threading.active_count(), before + 2)

    def test_stopFinishesQueuedWork(self):
        """stop() runs every call queued before it, then joins the threads."""
        workers = self.makeWorkers()
        gate = threading.Event()
        done = []
        workers.submit(gate.wait)
        for n in range(5):
            workers.submit(lambda n=n: done.append(n))
        gate.set()
        workers.stop()
        self.assertEqual(done, list(range(5)))
        self.assertFalse(workers.started)
        self.assertEqual([t for t in threading.enumerate() if t.name.startswith("test-workers")],
                         [])

    @defer.inlineCallbacks
    def test_restartAfterStop(self):
        """A stopped set of workers starts again on the next call."""
        workers = self.makeWorkers()
        yield workers.submit(lambda: None)
        workers.stop()
        self.assertEqual((yield workers.submit(lambda: "again")), "again")
