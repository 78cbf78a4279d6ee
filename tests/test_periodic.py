"""Tests for L{jabberd.periodic}: calls while the service runs, none after."""

from twisted.internet import defer, task

from jabberd.periodic import PeriodicService


def started(function, interval=10):
    clock = task.Clock()
    service = PeriodicService(interval, function)
    service.clock = clock
    service.startService()
    return service, clock


def test_callsAtStartAndEveryInterval():
    """The function runs when the service starts and then once per interval."""
    calls, clocks = [], []
    service, clock = started(lambda: calls.append(clocks[0].seconds() if clocks else 0))
    clocks.append(clock)
    clock.advance(10)
    clock.advance(10)
    assert calls == [0, 10, 20]
    assert service.running


def test_noCallsAfterStop():
    """A stopped service makes no further calls and is no longer running."""
    calls = []
    service, clock = started(lambda: calls.append(1))
    done = service.stopService()
    clock.advance(30)
    assert calls == [1]
    assert done.called and not service.running


def test_stopWaitsForCallUnderWay():
    """Stopping while a call's Deferred is pending finishes once that call does."""
    pending = defer.Deferred()
    service, clock = started(lambda: pending)
    done = service.stopService()
    assert not done.called
    pending.callback(None)
    assert done.called and not service.running


def test_failureIsLoggedAndEndsCalls():
    """A call that raises is logged, the calls end, and the service still stops cleanly."""
    calls = []

    def fail():
        calls.append(1)
        raise ValueError("boom")

    service, clock = started(fail)
    clock.advance(30)
    assert calls == [1]
    done = service.stopService()
    assert done.called and not service.running
