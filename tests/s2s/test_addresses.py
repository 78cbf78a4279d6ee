"""Tests for L{jabberd.s2s.addresses}: which addresses s2s may dial."""

import pytest

from jabberd.s2s.addresses import AddressPolicy


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.5", "192.168.1.1", "172.16.0.1",
                                  "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
                                  "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1"])
def test_nonPublicRefused(host):
    """Loopback, private, link-local, shared, multicast and mapped forms are refused by default."""
    assert AddressPolicy().refusesAddress(host) is not None


@pytest.mark.parametrize("host", ["192.0.32.10", "8.8.8.8", "2001:4860:4860::8888"])
def test_publicPermitted(host):
    """A globally routable address is permitted by default."""
    assert AddressPolicy().refusesAddress(host) is None


def test_allowedNetwork():
    """An allowed network opens only itself, not the other private ranges."""
    policy = AddressPolicy(allowedNetworks=AddressPolicy.networks(["127.0.0.0/8"]))
    assert policy.refusesAddress("127.0.0.1") is None
    assert policy.refusesAddress("10.0.0.5") is not None


def test_allowPrivate():
    """allow_private_addresses opens every address."""
    assert AddressPolicy(allowPrivate=True).refusesAddress("10.0.0.5") is None


def test_notAnAddress():
    """Something that is not an address (an unresolved name) is refused."""
    assert AddressPolicy(allowPrivate=True).refusesAddress("b.test") is not None


@pytest.mark.parametrize("domain", ["10.0.0.5", "[::1]", "192.0.32.10"])
def test_ipLiteralDomains(domain):
    """IP-literal domains are refused unless allowed (RFC 6120 section 3.2)."""
    assert AddressPolicy().refusesDomain(domain) is not None
    assert AddressPolicy(allowIPLiterals=True).refusesDomain(domain) is None


def test_namedDomain():
    """A domain name is not refused as such; its addresses are checked later."""
    assert AddressPolicy().refusesDomain("b.test") is None
