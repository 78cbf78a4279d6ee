"""
Tests for L{jabberd.logs}: the server's log level drops events below it
before they reach any observer; the level comes from C{[server] log_level}.
"""

import pytest
from twisted.logger import globalLogPublisher

from jabberd import config as configmod
from jabberd import logs


@pytest.fixture
def events():
    seen = []
    globalLogPublisher.addObserver(seen.append)
    before = logs.level()
    yield seen
    globalLogPublisher.removeObserver(seen.append)
    logs.setLevel(before)


class Thing:
    log = logs.Logger()


def test_levelFilters(events):
    """At warn, info events are dropped and warnings pass, with their namespace and source."""
    logs.setLevel("warn")
    thing = Thing()
    thing.log.info("quiet {x}", x=1)
    thing.log.warn("loud {x}", x=2)
    assert [e["log_format"] for e in events] == ["loud {x}"]
    assert events[0]["log_namespace"] == __name__ + ".Thing"
    assert events[0]["log_source"] is thing


def test_defaultIsInfo(events):
    """At the default level, info passes and debug does not; the namespace is the module."""
    logs.setLevel("info")
    logs.Logger().info("a login")
    logs.Logger().debug("detail")
    assert [e["log_format"] for e in events] == ["a login"]
    assert events[0]["log_namespace"] == __name__


def test_failuresPassAtError(events):
    """failure() logs at critical: it passes even at the error level."""
    logs.setLevel("error")
    try:
        1 / 0
    except ZeroDivisionError:
        logs.Logger().failure("it broke")
    assert [e["log_format"] for e in events] == ["it broke"]


def test_configuredLevel():
    """[server] log_level is read case-insensitively, defaults to info, refuses others."""
    config = configmod.parse("[server]\ndomains = localhost\nlog_level = WARN\n")
    assert config.server.logLevel == "warn"
    assert configmod.parse("[server]\ndomains = localhost\n").server.logLevel == "info"
    with pytest.raises(configmod.ConfigError, match="log_level"):
        configmod.parse("[server]\ndomains = localhost\nlog_level = loud\n")
