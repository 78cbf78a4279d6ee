# -*- test-case-name: tests.test_timers -*-
"""
Timers shared by many connections: one delayed call per kind of timer,
not one per connection.

Every client stream waits for several things at once (its idle timeout
and keepalive, RFC 6120 section 4.6.1; the end of its authentication
time; a rest that frees its parser), and a server holding a hundred
thousand streams would hold several hundred thousand of Twisted's
L{DelayedCall}s, each with its bound methods, about 700 bytes apiece.
A L{TimerWheel} keeps its entries in one set per whole second of the
clock instead: an entry costs a slot in that set, and the wheel arms one
delayed call, for its earliest second.  So a timer fires at the first
whole second at or after its deadline (up to a second late), which is
all a timeout of seconds or minutes needs.

An entry is any object with the wheel's method (C{fire}): the wheel
calls C{entry.<fire>()} once its second has come, and forgets it.
"""

import heapq
import math
import weakref

__all__ = ["TimerWheel", "wheelFor"]


class TimerWheel:
    """
    Entries due at whole seconds of C{clock}; see the module docstring.

    @ivar fire: the name of the method called on an entry when it is due.
    """

    def __init__(self, clock, fire):
        self.clock = clock
        self.fire = fire
        self.slots = {}
        self._seconds = []  # heap of the slots' seconds (stale ones included)
        self._firing = None
        self._call = None

    def add(self, deadline, entry):
        """Call C{entry}'s method at the first whole second from C{deadline}; that second."""
        second = math.ceil(deadline)
        slot = self.slots.get(second)
        if slot is None:
            slot = self.slots[second] = set()
            heapq.heappush(self._seconds, second)
        slot.add(entry)
        self._arm()
        return second

    def remove(self, second, entry):
        """Forget C{entry}, added for C{second} (nothing if it already fired)."""
        slot = self.slots.get(second)
        if slot is not None:
            slot.discard(entry)
            if not slot:
                del self.slots[second]
        if self._firing is not None:
            self._firing.discard(entry)
        if not self.slots and self._call is not None:
            self._call.cancel()
            self._call = None

    def __len__(self):
        return sum(len(slot) for slot in self.slots.values())

    def _arm(self):
        seconds = self._seconds
        while seconds and seconds[0] not in self.slots:
            heapq.heappop(seconds)
        if not seconds:
            return
        when = seconds[0]
        call = self._call
        if call is not None:
            if call.getTime() <= when:
                return
            call.cancel()
        self._call = self.clock.callLater(max(0, when - self.clock.seconds()), self._run)

    def _run(self):
        self._call = None
        now = self.clock.seconds()
        seconds = self._seconds
        while seconds and seconds[0] <= now:
            slot = self.slots.pop(heapq.heappop(seconds), None)
            if not slot:
                continue
            self._firing = slot
            try:
                while slot:
                    getattr(slot.pop(), self.fire)()
            finally:
                self._firing = None
        self._arm()


_wheels = weakref.WeakKeyDictionary()


def wheelFor(clock, fire):
    """The one L{TimerWheel} of C{clock} that calls C{fire} on its entries."""
    wheels = _wheels.get(clock)
    if wheels is None:
        wheels = _wheels[clock] = {}
    wheel = wheels.get(fire)
    if wheel is None:
        wheel = wheels[fire] = TimerWheel(clock, fire)
    return wheel
