"""Tests for L{components.register.options}: the component's typed settings."""

import ipaddress

import pytest

from components.register.options import DEFAULT_INSTRUCTIONS, RegisterOptions
from jabberd.config import ComponentConfig, ConfigError


def _options(**values):
    return RegisterOptions.fromConfig(ComponentConfig("register.localhost", options=values))


def test_defaults():
    """Registration is closed by default, 5 accounts per IP per 10 minutes, loopback exempt."""
    options = _options()
    assert options.open is False
    assert (options.maxPerIP, options.window) == (5, 600)
    assert ipaddress.ip_address("127.0.0.5") in options.exempt[0]
    assert ipaddress.ip_address("::1") in options.exempt[1]
    assert options.instructions == DEFAULT_INSTRUCTIONS


def test_values():
    """Values are converted to their types."""
    options = _options(open="yes", max_per_ip="0", window="30", exempt="10.0.0.0/8, 192.0.2.1",
                       instructions="Hello")
    assert options.open is True and options.maxPerIP == 0 and options.window == 30
    assert [str(n) for n in options.exempt] == ["10.0.0.0/8", "192.0.2.1/32"]
    assert options.instructions == "Hello"


@pytest.mark.parametrize("key, value", [
    ("open", "perhaps"), ("max_per_ip", "-1"), ("window", "ten"), ("exempt", "not-a-net"),
])
def test_badValueNamesSectionAndKey(key, value):
    """A bad value is a ConfigError naming the section and the key."""
    with pytest.raises(ConfigError) as e:
        _options(**{key: value})
    assert f"[component:register.localhost] {key}" in str(e.value)
