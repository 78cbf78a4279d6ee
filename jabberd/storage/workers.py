# -*- test-case-name: tests.storage.test_workers -*-
"""
Worker threads for blocking database calls, with Deferreds fired on the
reactor thread.

Twisted's C{ThreadPool} carries a context tracker, a team coordinator and a
lock worker per call; profiling logins showed submitting work to it costing
about a tenth of the reactor thread's time, for three short reads per login.
L{Workers} keeps only what the store needs: a C{SimpleQueue} of calls, a
fixed set of threads started on first use, results handed back with
C{callFromThread}, and a stop that runs what is queued before joining.
"""

import queue
import threading

from twisted.internet import defer
from twisted.python.failure import Failure

__all__ = ["Workers"]

_STOP = object()


class Workers:
    """
    C{count} threads running submitted calls in order of submission.

    @ivar started: whether the threads run (they start on first L{submit}).
    """

    def __init__(self, reactor, count, name):
        self.reactor = reactor
        self.count = count
        self.name = name
        self.started = False
        self._calls = queue.SimpleQueue()
        self._threads = []

    def start(self):
        if self.started:
            return
        self.started = True
        for index in range(self.count):
            thread = threading.Thread(target=self._work, name=f"{self.name}-{index}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, function):
        """Run C{function()} in a worker; a Deferred of its result or failure."""
        if not self.started:
            self.start()
        d = defer.Deferred()
        self._calls.put((function, d))
        return d

    def _work(self):
        calls, callFromThread = self._calls, self.reactor.callFromThread
        while True:
            item = calls.get()
            if item is _STOP:
                return
            function, d = item
            item = result = None
            try:
                result = function()
            except BaseException:
                callFromThread(d.errback, Failure())
            else:
                callFromThread(d.callback, result)
            # Hold nothing while waiting for the next call.
            function = d = result = None

    def stop(self):
        """
        Let the threads finish every call queued so far, then join them.
        Blocks for as long as that work takes (at shutdown only).
        """
        if not self.started:
            return
        self.started = False
        for _ in self._threads:
            self._calls.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._threads = []
