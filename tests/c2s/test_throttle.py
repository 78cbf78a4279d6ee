"""Tests for L{jabberd.c2s.throttle}: failed authentications per address and per account."""

from twisted.internet import task
from twisted.logger import globalLogPublisher

from jabberd.c2s.throttle import AuthThrottle


def throttle(**kw):
    clock = task.Clock()
    kw.setdefault("free", 2)
    return AuthThrottle(clock, **kw), clock


def test_freeFailuresThenDoublingDelays():
    """The first free failures cost nothing; then delays double up to the maximum."""
    t, clock = throttle(delay=1, maxDelay=4)
    delays = [t.failed("192.0.2.1", "alice") for _ in range(6)]
    assert delays == [0, 0, 1, 2, 4, 4]


def test_delayHoldsTheNextAttempt():
    """After a delaying failure, an attempt from that address waits until the delay has passed."""
    t, clock = throttle(free=0, delay=3)
    t.failed("192.0.2.1", None)
    assert t.waitFor(ip="192.0.2.1") == 3
    assert t.waitFor(ip="192.0.2.2") == 0
    fired = []
    t.gate(ip="192.0.2.1").addCallback(fired.append)
    clock.advance(2.9)
    assert fired == []
    clock.advance(0.2)
    assert fired == [None] and t.waitFor(ip="192.0.2.1") == 0


def test_reconnectingDoesNotReset():
    """Counts are per address and per account, so a new stream from either starts where the last stopped."""
    t, clock = throttle(free=1)
    t.failed("192.0.2.1", "alice")
    assert t.failed("192.0.2.1", "bob") > 0  # same address
    assert t.failed("198.51.100.9", "alice") > 0  # same account, another address
    assert t.waitFor(account="alice") > 0 and t.waitFor(account="carol") == 0


def test_successClearsTheAccountOnly():
    """A login clears the account's count but not the address's."""
    t, clock = throttle(free=1)
    t.failed("192.0.2.1", "alice")
    t.failed("192.0.2.1", "alice")
    t.succeeded("alice")
    assert t.waitFor(account="alice") == 0
    assert t.waitFor(ip="192.0.2.1") > 0


def test_forgottenAfterTheWindow():
    """A record older than the window is forgotten: counting starts again."""
    t, clock = throttle(free=1, window=60)
    t.failed("192.0.2.1", "alice")
    clock.advance(61)
    assert t.failed("192.0.2.1", "alice") == 0


def test_tableIsBounded():
    """At most 'tracked' records are kept; the least recently failed go first."""
    t, clock = throttle(free=0, tracked=4)
    for n in range(10):
        t.failed("192.0.2.%d" % n, None)
    assert len(t._records) == 4
    assert t.waitFor(ip="192.0.2.9") > 0 and t.waitFor(ip="192.0.2.0") == 0


def test_failureIsLoggedForFail2ban():
    """Each failure is one warn line naming the account and the address."""
    seen = []
    globalLogPublisher.addObserver(seen.append)
    try:
        throttle()[0].failed("192.0.2.7", "alice")
    finally:
        globalLogPublisher.removeObserver(seen.append)
    from twisted.logger import formatEvent

    lines = [formatEvent(e) for e in seen if "authentication failure" in e.get("log_format", "")]
    assert lines == ["authentication failure for account=alice ip=192.0.2.7 (1 from this ip)"]
