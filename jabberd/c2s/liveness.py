# -*- test-case-name: tests.c2s.test_liveness -*-
"""
Whitespace keepalives and the idle timeout of a stream (RFC 6120 section
4.6.1 and section 4.9.3.4 C{connection-timeout}).

Each direction keeps only a timestamp per read or write; one timer per
direction wakes up when the deadline could have passed and re-arms itself
for the remainder otherwise, so busy streams cost no timer churn.

A third, optional timer tells the stream when its input has rested for a
while (C{onRest}, e.g. to free its parser); it is armed by input and not
re-armed after it fired, so a resting stream holds no timer for it.

A fourth, optional one is a deadline: C{onDeadline} runs once unless the
stream calls L{Liveness.meetDeadline} first (authentication within
C{[connections] auth_timeout}, so a stream that never logs in cannot be
kept alive with a byte now and then).
"""

__all__ = ["Liveness"]


class Liveness:
    """
    Watches a stream's traffic.

    @ivar idleTimeout: seconds without input before C{onIdle} (0: never).
    @ivar keepaliveInterval: seconds without output before C{onQuiet} (0:
        never).
    @ivar restAfter: seconds without input before C{onRest}, counted from
        the last input (0: never).
    """

    # One per connection: no instance dict.
    __slots__ = ("clock", "idleTimeout", "keepaliveInterval", "restAfter", "onIdle", "onQuiet",
                 "onRest", "lastInput", "lastOutput", "_idleCall", "_quietCall", "_restCall",
                 "_deadlineCall")

    def __init__(self, clock, idleTimeout, keepaliveInterval, onIdle, onQuiet,
                 restAfter=0, onRest=None):
        self.clock = clock
        self.idleTimeout = idleTimeout
        self.keepaliveInterval = keepaliveInterval
        self.restAfter = restAfter
        self.onIdle = onIdle
        self.onQuiet = onQuiet
        self.onRest = onRest
        self.lastInput = self.lastOutput = clock.seconds()
        self._idleCall = self._quietCall = self._restCall = self._deadlineCall = None

    def start(self):
        """Arm the timers that are configured."""
        if self.idleTimeout:
            self._idleCall = self.clock.callLater(self.idleTimeout, self._checkIdle)
        if self.keepaliveInterval:
            self._quietCall = self.clock.callLater(self.keepaliveInterval, self._checkQuiet)

    def stop(self):
        """Cancel the timers (the stream is gone)."""
        for call in (self._idleCall, self._quietCall, self._restCall, self._deadlineCall):
            if call is not None and call.active():
                call.cancel()
        self._idleCall = self._quietCall = self._restCall = self._deadlineCall = None
        self.restAfter = 0

    def setDeadline(self, seconds, onDeadline):
        """Call C{onDeadline} in C{seconds} unless L{meetDeadline} is called first (0: never)."""
        if seconds:
            self._deadlineCall = self.clock.callLater(seconds, self._expire, onDeadline)

    def meetDeadline(self):
        """What the deadline waited for happened: cancel it."""
        call, self._deadlineCall = self._deadlineCall, None
        if call is not None and call.active():
            call.cancel()

    def _expire(self, onDeadline):
        self._deadlineCall = None
        onDeadline()

    def noteInput(self):
        """Something was read from the peer."""
        self.lastInput = self.clock.seconds()
        if self._restCall is None and self.restAfter:
            self._restCall = self.clock.callLater(self.restAfter, self._checkRest)

    def noteOutput(self):
        """Something was written to the peer."""
        self.lastOutput = self.clock.seconds()

    def _checkIdle(self):
        idle = self.clock.seconds() - self.lastInput
        if idle >= self.idleTimeout:
            self._idleCall = None
            self.onIdle()
        else:
            self._idleCall = self.clock.callLater(self.idleTimeout - idle, self._checkIdle)

    def _checkQuiet(self):
        quiet = self.clock.seconds() - self.lastOutput
        if quiet >= self.keepaliveInterval:
            self.onQuiet()
            quiet = 0
        self._quietCall = self.clock.callLater(self.keepaliveInterval - quiet, self._checkQuiet)

    def _checkRest(self):
        rested = self.clock.seconds() - self.lastInput
        if rested >= self.restAfter:
            self._restCall = None
            self.onRest()
        else:
            self._restCall = self.clock.callLater(self.restAfter - rested, self._checkRest)
