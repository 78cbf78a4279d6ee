"""Tests for the configuration of the store and outgoing s2s limits (issue 14, items 7-10)."""

import ipaddress

import pytest

from jabberd.config import ConfigError, parse


def test_s2sLimitDefaults():
    """By default private addresses and IP literals are not dialed, and checks are bounded."""
    s2s = parse("").s2s
    assert (s2s.allowPrivateAddresses, s2s.allowedNetworks, s2s.allowIPLiterals) == (
        False, [], False)
    assert (s2s.maxVerifications, s2s.maxVerificationsPerDomain, s2s.maxConnecting) == (
        100, 5, 200)


def test_s2sLimitValues():
    """The s2s limit keys are read; networks as CIDR entries."""
    s2s = parse("[s2s]\nallow_private_addresses = yes\nallowed_networks = 127.0.0.0/8 10.1.0.0/16"
                "\nallow_ip_literals = yes\nmax_verifications = 7\n"
                "max_verifications_per_domain = 2\nmax_connecting = 3\n").s2s
    assert s2s.allowPrivateAddresses and s2s.allowIPLiterals
    assert s2s.allowedNetworks == [ipaddress.ip_network("127.0.0.0/8"),
                                   ipaddress.ip_network("10.1.0.0/16")]
    assert (s2s.maxVerifications, s2s.maxVerificationsPerDomain, s2s.maxConnecting) == (7, 2, 3)


def test_s2sBadNetwork():
    """An allowed_networks entry that is not a network names the key."""
    with pytest.raises(ConfigError, match=r"\[s2s\] allowed_networks"):
        parse("[s2s]\nallowed_networks = localhost\n")


def test_presenceLimits():
    """[presence] bounds waiting subscription requests: 100 and 1024 characters by default."""
    assert (parse("").presence.maxPendingSubscriptions, parse("").presence.maxRequestText) == (
        100, 1024)
    presence = parse("[presence]\nmax_pending_subscriptions = 3\nmax_request_text = 10\n").presence
    assert (presence.maxPendingSubscriptions, presence.maxRequestText) == (3, 10)


def test_offlineBacklogAndBoshOutput():
    """[server] offline_backlog and [http] bosh_max_output default to 1 MB and are read."""
    config = parse("")
    assert (config.server.offlineBacklog, config.http.boshMaxOutput) == (1048576, 1048576)
    config = parse("[server]\noffline_backlog = 5000\n[http]\nbosh_max_output = 0\n")
    assert (config.server.offlineBacklog, config.http.boshMaxOutput) == (5000, 0)


def test_sampleConfigurationDocumentsTheNewLimits():
    """etc/jabberd.ini names offline_backlog and bosh_max_output."""
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "etc", "jabberd.ini")
    with open(path) as f:
        text = f.read()
    assert ";offline_backlog = 1048576" in text and ";bosh_max_output = 1048576" in text
