"""
Tests for L{jabberd.admission}: connections per address and in total.
"""

import ipaddress

from jabberd.admission import ConnectionLimiter
from jabberd.config import parse


def admit(limiter, host):
    """Admit a new connection (a fresh object) from C{host}; return (condition, connection)."""
    connection = object()
    return limiter.admit(host, connection), connection


def test_perAddressLimit():
    """An address gets maxPerAddress connections; another address is counted apart."""
    limiter = ConnectionLimiter(maxPerAddress=2)
    assert admit(limiter, "192.0.2.1")[0] is None and admit(limiter, "192.0.2.1")[0] is None
    assert admit(limiter, "192.0.2.1")[0] == "policy-violation"
    assert admit(limiter, "192.0.2.2")[0] is None


def test_releaseFreesTheSlot():
    """A closed connection makes room for the next one and leaves no empty counters."""
    limiter = ConnectionLimiter(maxPerAddress=1)
    refused, connection = admit(limiter, "192.0.2.1")
    assert refused is None
    refused, other = admit(limiter, "192.0.2.1")
    assert refused == "policy-violation"
    limiter.release(other)  # never admitted: nothing changes
    assert limiter.total == 1
    limiter.release(connection)
    limiter.release(connection)
    assert limiter.counts == {} and limiter.total == 0 and limiter.admitted == {}
    assert admit(limiter, "192.0.2.1")[0] is None


def test_totalLimit():
    """Past maxTotal every address is refused with resource-constraint."""
    limiter = ConnectionLimiter(maxTotal=2)
    admit(limiter, "192.0.2.1")
    admit(limiter, "192.0.2.2")
    assert admit(limiter, "192.0.2.3")[0] == "resource-constraint"


def test_ipv6CountedPerPrefix():
    """IPv6 addresses of one /64 share one count; another /64 has its own."""
    limiter = ConnectionLimiter(maxPerAddress=2)
    assert admit(limiter, "2001:db8::1")[0] is None
    assert admit(limiter, "2001:db8::ffff:2")[0] is None
    assert admit(limiter, "2001:db8::3")[0] == "policy-violation"
    assert admit(limiter, "2001:db8:0:1::1")[0] is None


def test_ipv4MappedIsIPv4():
    """An IPv4-mapped IPv6 address counts as the IPv4 address."""
    limiter = ConnectionLimiter(maxPerAddress=1)
    assert admit(limiter, "192.0.2.9")[0] is None
    assert admit(limiter, "::ffff:192.0.2.9")[0] == "policy-violation"


def test_exemptNetworksCountOnlyInTotal():
    """Exempt networks are never limited per address but still count in the total."""
    limiter = ConnectionLimiter(maxPerAddress=1, maxTotal=3,
                                exempt=[ipaddress.ip_network("127.0.0.0/8")])
    assert [admit(limiter, "127.0.0.1")[0] for i in range(3)] == [None] * 3
    assert admit(limiter, "127.0.0.1")[0] == "resource-constraint"


def test_fromConfig():
    """The [connections] section configures the limiter; defaults are safe for one host."""
    limiter = ConnectionLimiter.fromConfig(parse("[connections]\nmax_per_address = 3\n"
                                                 "exempt = 10.0.0.0/8\n").connections)
    assert (limiter.maxPerAddress, limiter.maxTotal, limiter.ipv6Prefix) == (3, 10000, 64)
    assert limiter.key("10.1.2.3") is None
