"""
Tests for L{jabberd.timers}: entries fire at the first whole second at or
after their deadline, from one delayed call per wheel.
"""

from twisted.internet import task

from jabberd.timers import TimerWheel, wheelFor


class Entry:
    """An entry that records when the wheel called it."""

    def __init__(self, clock, log, name):
        self.clock, self.log, self.name = clock, log, name

    def ring(self):
        self.log.append((self.name, self.clock.seconds()))


def make():
    clock = task.Clock()
    return clock, TimerWheel(clock, "ring"), []


def test_firesAtWholeSecond():
    """An entry due at 2.3 s fires at 3 s, not before."""
    clock, wheel, log = make()
    wheel.add(2.3, Entry(clock, log, "a"))
    clock.advance(2.9)
    assert log == []
    clock.advance(0.1)
    assert log == [("a", 3.0)]


def test_oneDelayedCallForMany():
    """A thousand entries over ten seconds are served by one delayed call at a time."""
    clock, wheel, log = make()
    for i in range(1000):
        wheel.add(1 + i / 100, Entry(clock, log, i))
    assert len(clock.getDelayedCalls()) == 1
    clock.pump([1] * 12)
    assert sorted(name for name, _ in log) == list(range(1000))
    assert clock.getDelayedCalls() == []


def test_removedNeverFires():
    """A removed entry is not called, and an empty wheel holds no delayed call."""
    clock, wheel, log = make()
    entry = Entry(clock, log, "a")
    second = wheel.add(5, entry)
    wheel.remove(second, entry)
    assert clock.getDelayedCalls() == [] and len(wheel) == 0
    clock.advance(10)
    assert log == []


def test_earlierEntryRearms():
    """An entry earlier than every other moves the wheel's one call forward."""
    clock, wheel, log = make()
    wheel.add(50, Entry(clock, log, "late"))
    wheel.add(5, Entry(clock, log, "early"))
    assert [call.getTime() for call in clock.getDelayedCalls()] == [5]
    clock.advance(5)
    assert log == [("early", 5)]
    assert [call.getTime() for call in clock.getDelayedCalls()] == [50]


def test_entryMayAddAndRemoveWhileFiring():
    """An entry that re-adds itself or removes another due in the same second is obeyed."""
    clock, wheel, log = make()

    class Again(Entry):
        again = True

        def ring(self):
            Entry.ring(self)
            if self.again:
                self.again = False
                wheel.add(clock.seconds() + 2, self)

    class Killer(Entry):
        def ring(self):
            Entry.ring(self)
            wheel.remove(1, victim)

    victim = Entry(clock, log, "victim")
    wheel.add(1, Killer(clock, log, "killer"))
    wheel.add(1, victim)
    wheel.add(1, Again(clock, log, "again"))
    clock.advance(1)
    clock.advance(2)
    names = [name for name, _ in log]
    assert [t for name, t in log if name == "again"] == [1, 3]
    assert names.count("killer") == 1
    # The victim fired only if the set gave it out before the killer.
    assert names.count("victim") == 0 or names.index("victim") < names.index("killer")


def test_wheelPerClockAndMethod():
    """wheelFor gives the same wheel for one clock and method, another for others."""
    clock, other = task.Clock(), task.Clock()
    assert wheelFor(clock, "ring") is wheelFor(clock, "ring")
    assert wheelFor(clock, "ring") is not wheelFor(clock, "other")
    assert wheelFor(clock, "ring") is not wheelFor(other, "ring")
