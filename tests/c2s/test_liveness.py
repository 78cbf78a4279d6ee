"""
Tests for L{jabberd.c2s.liveness}: idle timeout and keepalive timers.
"""

from twisted.internet import task

from jabberd.c2s.liveness import Liveness


def make(idle=10, keepalive=4):
    clock = task.Clock()
    events = []
    liveness = Liveness(clock, idle, keepalive, lambda: events.append("idle"),
                        lambda: events.append("quiet"))
    liveness.start()
    return clock, liveness, events


def test_idleFiresAfterTimeout():
    """onIdle fires once the timeout passes without input."""
    clock, liveness, events = make(keepalive=0)
    clock.advance(9)
    liveness.noteInput()
    clock.advance(9)
    assert events == []
    clock.advance(1)
    assert events == ["idle"]


def test_quietOnlyWithoutOutput():
    """onQuiet fires only for intervals without output."""
    clock, liveness, events = make(idle=0)
    clock.advance(3)
    liveness.noteOutput()
    clock.advance(1)
    assert events == []
    clock.advance(3)
    assert events == ["quiet"]


def test_zeroDisables():
    """Zero for both settings arms no timer at all."""
    clock, _, _ = make(idle=0, keepalive=0)
    assert clock.getDelayedCalls() == []


def test_stopCancels():
    """stop cancels every pending timer."""
    clock, liveness, events = make()
    liveness.stop()
    clock.advance(100)
    assert events == [] and clock.getDelayedCalls() == []


def test_restAfterQuietInput():
    """onRest fires at the first whole second after restAfter seconds without input, once."""
    clock = task.Clock()
    events = []
    liveness = Liveness(clock, 0, 0, None, None, 2, lambda: events.append("rest"))
    liveness.start()
    assert clock.getDelayedCalls() == []
    liveness.noteInput()
    clock.advance(1.5)
    liveness.noteInput()
    clock.advance(1.5)
    assert events == []
    clock.advance(0.5)
    assert events == []  # 2 s after the last input, but the wheel turns at whole seconds
    clock.advance(0.5)
    assert events == ["rest"] and clock.getDelayedCalls() == []
    liveness.noteInput()
    clock.advance(2)
    assert events == ["rest", "rest"]


def test_stopCancelsRest():
    """stop cancels the rest timer and later input arms none."""
    clock = task.Clock()
    liveness = Liveness(clock, 0, 0, None, None, 2, lambda: None)
    liveness.noteInput()
    liveness.stop()
    liveness.noteInput()
    assert clock.getDelayedCalls() == []


def test_deadlineFiresDespiteInput():
    """A deadline fires at its time however much input arrives before it."""
    clock, liveness, events = make(idle=0, keepalive=0)
    liveness.setDeadline(60, lambda: events.append("deadline"))
    for i in range(59):
        clock.advance(1)
        liveness.noteInput()
    assert events == []
    clock.advance(1)
    assert events == ["deadline"]


def test_deadlineMetOrStopped():
    """A met deadline, or one of a stopped stream, never fires; 0 sets none."""
    for end in ("meetDeadline", "stop"):
        clock, liveness, events = make(idle=0, keepalive=0)
        liveness.setDeadline(5, lambda: events.append("deadline"))
        getattr(liveness, end)()
        clock.advance(10)
        assert events == [] and not clock.getDelayedCalls()
    clock, liveness, events = make(idle=0, keepalive=0)
    liveness.setDeadline(0, lambda: events.append("deadline"))
    assert not clock.getDelayedCalls()


def test_restLaterWithoutInput():
    """restLater arms the rest timer without input (after output such as a keepalive)."""
    clock = task.Clock()
    events = []
    liveness = Liveness(clock, 0, 0, None, None, 1, lambda: events.append("rest"))
    clock.advance(30)
    liveness.restLater()
    liveness.restLater()
    clock.advance(1)
    assert events == ["rest"] and clock.getDelayedCalls() == []
