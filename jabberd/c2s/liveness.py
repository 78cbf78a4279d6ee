# -*- test-case-name: tests.c2s.test_liveness -*-
"""
Whitespace keepalives and the idle timeout of a stream (RFC 6120 section
4.6.1 and section 4.9.3.4 C{connection-timeout}).

Each direction keeps only a timestamp per read or write; one timer per
direction wakes up when the deadline could have passed and re-arms itself
for the remainder otherwise, so busy streams cost no timer churn.  The
timers are entries in the clock's shared wheels (L{jabberd.timers}), not
delayed calls of their own: an idle stream costs a set entry per timer.

A third, optional timer tells the stream when its input has rested for a
while (C{onRest}, e.g. to free its parser); it is armed by input and not
re-armed after it fired, so a resting stream holds no timer for it.

A fourth, optional one is a deadline: C{onDeadline} runs once unless the
stream calls L{Liveness.meetDeadline} first (authentication within
C{[connections] auth_timeout}, so a stream that never logs in cannot be
kept alive with a byte now and then).
"""

__all__ = ["Liveness"]

from jabberd.timers import wheelFor


class Liveness:
    """
    Watches a stream's traffic.  Its timers are entries of the clock's
    shared L{jabberd.timers.TimerWheel}s (one delayed call for all
    streams, not one per stream and timer), so each fires at the first
    whole second after its time.

    @ivar idleTimeout: seconds without input before C{onIdle} (0: never).
    @ivar keepaliveInterval: seconds without output before C{onQuiet} (0:
        never).
    @ivar restAfter: seconds without input before C{onRest}, counted from
        the last input (0: never).
    """

    # One per connection: no instance dict.
    __slots__ = ("clock", "idleTimeout", "keepaliveInterval", "restAfter", "onIdle", "onQuiet",
                 "onRest", "onDeadline", "lastInput", "lastOutput", "_idleAt", "_quietAt",
                 "_restAt", "_deadlineAt")

    def __init__(self, clock, idleTimeout, keepaliveInterval, onIdle, onQuiet,
                 restAfter=0, onRest=None):
        self.clock = clock
        self.idleTimeout = idleTimeout
        self.keepaliveInterval = keepaliveInterval
        self.restAfter = restAfter
        self.onIdle = onIdle
        self.onQuiet = onQuiet
        self.onRest = onRest
        self.onDeadline = None
        self.lastInput = self.lastOutput = clock.seconds()
        self._idleAt = self._quietAt = self._restAt = self._deadlineAt = None

    def _wheel(self, kind):
        return wheelFor(self.clock, kind)

    def _arm(self, kind, delay):
        """Add this watcher to the C{kind} wheel C{delay} seconds from now; the second."""
        return self._wheel(kind).add(self.clock.seconds() + delay, self)

    def start(self):
        """Arm the timers that are configured."""
        if self.idleTimeout:
            self._idleAt = self._arm("checkIdle", self.idleTimeout)
        if self.keepaliveInterval:
            self._quietAt = self._arm("checkQuiet", self.keepaliveInterval)

    def stop(self):
        """Cancel the timers (the stream is gone)."""
        for kind, second in (("checkIdle", self._idleAt), ("checkQuiet", self._quietAt),
                             ("checkRest", self._restAt), ("expire", self._deadlineAt)):
            if second is not None:
                self._wheel(kind).remove(second, self)
        self._idleAt = self._quietAt = self._restAt = self._deadlineAt = None
        self.onDeadline = None
        self.restAfter = 0

    def setDeadline(self, seconds, onDeadline):
        """Call C{onDeadline} in C{seconds} unless L{meetDeadline} is called first (0: never)."""
        if seconds:
            self.onDeadline = onDeadline
            self._deadlineAt = self._arm("expire", seconds)

    def meetDeadline(self):
        """What the deadline waited for happened: cancel it."""
        second, self._deadlineAt = self._deadlineAt, None
        self.onDeadline = None
        if second is not None:
            self._wheel("expire").remove(second, self)

    def expire(self):
        """(wheel) The deadline has come."""
        onDeadline, self.onDeadline = self.onDeadline, None
        self._deadlineAt = None
        if onDeadline is not None:
            onDeadline()

    def noteInput(self):
        """Something was read from the peer."""
        self.lastInput = self.clock.seconds()
        self.restLater()

    def restLater(self):
        """Call C{onRest} once input has rested C{restAfter} seconds from now (or from its last)."""
        if self._restAt is None and self.restAfter:
            self._restAt = self._arm("checkRest", self.restAfter)

    def noteOutput(self):
        """Something was written to the peer."""
        self.lastOutput = self.clock.seconds()

    def checkIdle(self):
        """(wheel) Idle for the whole timeout: C{onIdle}; else wait for the rest of it."""
        idle = self.clock.seconds() - self.lastInput
        if idle >= self.idleTimeout:
            self._idleAt = None
            self.onIdle()
        else:
            self._idleAt = self._arm("checkIdle", self.idleTimeout - idle)

    def checkQuiet(self):
        """(wheel) Nothing written for a whole interval: C{onQuiet}; then the next interval."""
        quiet = self.clock.seconds() - self.lastOutput
        if quiet >= self.keepaliveInterval:
            self.onQuiet()
            quiet = 0
        if self.keepaliveInterval and (self._quietAt is not None):
            self._quietAt = self._arm("checkQuiet", self.keepaliveInterval - quiet)

    def checkRest(self):
        """(wheel) No input for C{restAfter} seconds: C{onRest}; else wait for the rest of it."""
        rested = self.clock.seconds() - self.lastInput
        if rested >= self.restAfter:
            self._restAt = None
            self.onRest()
        else:
            self._restAt = self._arm("checkRest", self.restAfter - rested)
