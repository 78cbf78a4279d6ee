"""Tests for L{jabberd.config}: typed values and errors naming section and key."""

import pytest

from jabberd.config import ConfigError, parse


def test_defaults():
    """An empty file yields a working localhost configuration on SQLite."""
    config = parse("")
    assert config.server.domains == ["localhost"]
    assert config.server.database.startswith("sqlite:///")
    assert config.c2s.requireTLS is True
    assert config.c2s.mechanisms == ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
    assert config.server.maxStanzaSize == 262144


def test_values():
    """Values are converted to their types."""
    config = parse("[server]\ndomains = a.example, B.example\nmax_stanza_size = 1000\n"
                   "[c2s]\nrequire_tls = no\nmechanisms = PLAIN\n")
    assert config.server.domains == ["a.example", "b.example"]
    assert config.server.maxStanzaSize == 1000
    assert config.c2s.requireTLS is False and config.c2s.mechanisms == ["PLAIN"]


@pytest.mark.parametrize("text, where", [
    ("[server]\nmax_stanza_size = big\n", "[server] max_stanza_size"),
    ("[c2s]\nrequire_tls = maybe\n", "[c2s] require_tls"),
    ("[c2s]\nmechanisms = DIGEST-MD5\n", "[c2s] mechanisms"),
    ("[component:x.localhost]\ntrusted = yes\n", "[component:x.localhost] secret"),
])
def test_errorsNameSectionAndKey(text, where):
    """A bad value raises ConfigError naming its section and key."""
    with pytest.raises(ConfigError) as e:
        parse(text)
    assert where in str(e.value)


def test_components():
    """component:DOMAIN sections declare components with secret and trust."""
    config = parse("[component:Echo.localhost]\nsecret = s\ntrusted = yes\nfoo = bar\n")
    comp = config.components["echo.localhost"]
    assert comp.secret == "s" and comp.trusted and comp.options == {"foo": "bar"}


def test_s2sOffByDefault():
    """Without an [s2s] section federation is off and TLS would be required."""
    s2s = parse("[server]\ndomains = a.test\n").s2s
    assert (s2s.listen, s2s.requireTLS, s2s.secret, s2s.hosts, s2s.connectTimeout,
            s2s.idleTimeout) == ("", True, "", {}, 30, 600)


def test_s2sValues():
    """[s2s] keys are read, hosts as DOMAIN=HOST:PORT entries (an IPv6 host in brackets)."""
    s2s = parse("[s2s]\nlisten = tcp:5269\nrequire_tls = no\nsecret = x\n"
                "hosts = B.test=127.0.0.1:5270, c.test=[::1]:5271\nconnect_timeout = 9\n"
                "idle_timeout = 0\n").s2s
    assert s2s.listen == "tcp:5269" and not s2s.requireTLS and s2s.secret == "x"
    assert s2s.hosts == {"b.test": ("127.0.0.1", 5270), "c.test": ("::1", 5271)}
    assert (s2s.connectTimeout, s2s.idleTimeout) == (9, 0)


@pytest.mark.parametrize("entry", ["b.test", "b.test=host", "b.test=host:port", "=h:5"])
def test_s2sBadHosts(entry):
    """A hosts entry that is not DOMAIN=HOST:PORT is a start-up error naming [s2s] hosts."""
    with pytest.raises(ConfigError, match=r"\[s2s\] hosts"):
        parse(f"[s2s]\nhosts = {entry}\n")


def test_pushDefaultsAndValues():
    """[push] defaults to 5 registrations, 30 s and bodies on request; its keys are read."""
    push = parse("").push
    assert (push.maxRegistrations, push.timeout, push.includeBody) == (5, 30, "on_request")
    push = parse("[push]\nmax_registrations = 0\ntimeout = 5\ninclude_body = Never\n").push
    assert (push.maxRegistrations, push.timeout, push.includeBody) == (0, 5, "never")


@pytest.mark.parametrize("text, where", [
    ("[push]\nmax_registrations = -1\n", "[push] max_registrations"),
    ("[push]\ntimeout = 0\n", "[push] timeout"),
    ("[push]\ninclude_body = always\n", "[push] include_body"),
])
def test_pushErrors(text, where):
    """A bad [push] value raises ConfigError naming its key."""
    with pytest.raises(ConfigError) as e:
        parse(text)
    assert where in str(e.value)
