"""Tests for L{components.register.ratelimit}: accounts per IP address per window."""

import ipaddress

from twisted.internet.task import Clock

from components.register.ratelimit import RateLimiter


def _limiter(limit=2, window=10):
    return RateLimiter(limit, window, [ipaddress.ip_network("127.0.0.0/8")], Clock())


def test_limitWithinWindow():
    """An address gets C{limit} attempts per window; others are unaffected."""
    limiter = _limiter()
    assert limiter.take("192.0.2.1") and limiter.take("192.0.2.1")
    assert not limiter.take("192.0.2.1")
    assert limiter.take("192.0.2.2")


def test_windowSlides():
    """Attempts older than the window no longer count."""
    limiter = _limiter()
    limiter.take("192.0.2.1")
    limiter.clock.advance(5)
    limiter.take("192.0.2.1")
    limiter.clock.advance(5)
    assert limiter.take("192.0.2.1")
    assert not limiter.take("192.0.2.1")


def test_exemptAndUnlimited():
    """Exempt networks and a limit of 0 never refuse."""
    limiter = _limiter(limit=1)
    assert all(limiter.take("127.0.0.1") for _ in range(5))
    unlimited = RateLimiter(0, 10, [], Clock())
    assert all(unlimited.take("192.0.2.1") for _ in range(5))


def test_unknownAddressIsOneShared():
    """Requests without a known address share one allowance."""
    limiter = _limiter(limit=1)
    assert limiter.take(None)
    assert not limiter.take(None)
    assert not limiter.isExempt("garbage")


def test_idleAddressesAreForgotten():
    """Addresses whose attempts left the window are dropped once the table grows."""
    limiter = _limiter(limit=1)
    for index in range(1100):
        limiter.take(f"10.{index // 256}.{index % 256}.1")
    limiter.clock.advance(11)
    limiter.take("192.0.2.9")
    assert len(limiter._attempts) == 1
