# -*- test-case-name: tests.test_periodic -*-
"""
A service that calls a function every so many seconds while it runs (the
heap trim of L{jabberd.gcpolicy}, the upload component's expiry sweep).

Why not C{twisted.application.internet.TimerService}: that module also
holds C{ClientService}, whose state machine imports automat, about 1 MB
resident in a server that never connects out as a component.  This is
the part of it the server uses: the first call when the service starts,
the next ones every C{interval} seconds, none after it stops.
"""

from twisted.application import service
from twisted.internet import task

from jabberd.logs import Logger

__all__ = ["PeriodicService"]

log = Logger()


class PeriodicService(service.Service):
    """
    Call C{function()} every C{interval} seconds, starting when the service
    starts; a call that fails is logged and ends the calls.

    @ivar clock: the L{IReactorTime} the calls are scheduled on (None: the
        global reactor), set before the service starts.
    """

    def __init__(self, interval, function):
        self.interval = interval
        self.function = function
        self.clock = None
        self._loop = None
        self._finished = None

    def startService(self):
        service.Service.startService(self)
        self._loop = task.LoopingCall(self.function)
        if self.clock is not None:
            self._loop.clock = self.clock
        self._finished = self._loop.start(self.interval, now=True)
        self._finished.addErrback(self._failed)

    def _failed(self, failure):
        log.failure("periodic call of {function!r} failed", failure, function=self.function)

    def stopService(self):
        """Stop the calls; the returned Deferred fires once a call under way has finished."""
        if self._loop.running:
            self._loop.stop()
        self._finished.addCallback(lambda _: service.Service.stopService(self))
        return self._finished
