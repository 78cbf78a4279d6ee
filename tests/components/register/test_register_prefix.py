"""
Tests for counting registrations per network prefix
(L{components.register.ratelimit.RateLimiter.clientOf}): an IPv6 /64 is one client.
"""

import pytest
from twisted.internet.task import Clock

from components.register.options import RegisterOptions
from components.register.ratelimit import RateLimiter
from jabberd.config import ComponentConfig, ConfigError


def _limiter(ipv4Prefix=32, ipv6Prefix=64):
    return RateLimiter(2, 10, [], Clock(), ipv4Prefix, ipv6Prefix)


def test_ipv6SlashSixtyFourIsOneClient():
    """Distinct addresses of one /64 share one allowance; another /64 has its own."""
    limiter = _limiter()
    assert limiter.take("2001:db8:1:2::1") and limiter.take("2001:db8:1:2::ffff:1")
    assert not limiter.take("2001:db8:1:2:aaaa:bbbb:cccc:dddd")
    assert limiter.take("2001:db8:1:3::1")


def test_ipv4CountedPerAddress():
    """By default IPv4 addresses count one by one."""
    limiter = _limiter()
    limiter.take("192.0.2.1")
    limiter.take("192.0.2.1")
    assert limiter.take("192.0.2.2")


def test_prefixesConfigurable():
    """A shorter IPv6 prefix groups more; an IPv4 prefix groups a subnet."""
    limiter = _limiter(ipv4Prefix=24, ipv6Prefix=48)
    limiter.take("2001:db8:1:2::1")
    limiter.take("2001:db8:1:9::1")
    assert not limiter.take("2001:db8:1:ffff::1")
    limiter.take("192.0.2.1")
    limiter.take("192.0.2.77")
    assert not limiter.take("192.0.2.200")


def test_mappedAddressIsItsIPv4():
    """An IPv4-mapped IPv6 address counts as the IPv4 address."""
    limiter = _limiter()
    limiter.take("::ffff:192.0.2.1")
    limiter.take("192.0.2.1")
    assert not limiter.take("::ffff:192.0.2.1")


def test_unknownAddressShared():
    """An address that is not one (None, a framing that cannot tell) is one shared key."""
    limiter = _limiter()
    limiter.take(None)
    limiter.take(None)
    assert not limiter.take(None)


def test_configured():
    """ipv6_prefix and ipv4_prefix are read from the section and checked."""
    def options(**values):
        return RegisterOptions.fromConfig(ComponentConfig("register.localhost", options=values))
    assert (options().ipv4Prefix, options().ipv6Prefix) == (32, 64)
    assert options(ipv6_prefix="56").ipv6Prefix == 56
    with pytest.raises(ConfigError):
        options(ipv6_prefix="129")
    with pytest.raises(ConfigError):
        options(ipv4_prefix="0")
