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


@pytest.mark.parametrize("section, key", [
    ("c2s", "resumption_max_queue"), ("c2s", "auth_threads"), ("http", "bosh_max_wait"),
    ("http", "bosh_max_payloads"), ("push", "timeout"), ("parser", "max_depth"),
    ("caps", "timeout"), ("pep", "max_nodes"), ("vcard", "max_size"),
])
def test_zeroRefusedWhereItWouldRefuseEverything(section, key):
    """A count, size or time that 0 would turn into "refuse all" must be at least 1."""
    with pytest.raises(ConfigError, match=rf"\[{section}\] {key}: must be at least 1, got 0"):
        parse(f"[{section}]\n{key} = 0\n")


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


def test_parserAndConnectionsDefaults():
    """[parser] and [connections] have safe defaults when absent."""
    config = parse("[server]\ndomains = localhost\n")
    assert (config.parser.maxElements, config.parser.maxDepth, config.parser.maxAttributes,
            config.parser.maxHeaderSize) == (5000, 32, 32, 4096)
    assert (config.parser.maxElementsBeforeAuth, config.parser.maxStanzaSizeBeforeAuth) == \
        (50, 16384)
    c = config.connections
    assert (c.authTimeout, c.maxPerAddress, c.maxTotal, c.ipv6Prefix, c.exempt,
            c.tlsMaxEmptyRecords) == (60, 50, 10000, 64, [], 32)


def test_parserAndConnectionsValues():
    """Every key of [parser] and [connections] is read; durations take a suffix."""
    config = parse("[parser]\nmax_elements = 100\nmax_depth = 8\nmax_attributes = 4\n"
                   "max_header_size = 1000\nmax_elements_before_auth = 5\n"
                   "max_stanza_size_before_auth = 2000\n"
                   "[connections]\nauth_timeout = 2m\nmax_per_address = 3\nmax_total = 9\n"
                   "ipv6_prefix = 56\nexempt = 10.0.0.0/8, ::1\ntls_max_empty_records = 7\n")
    p, c = config.parser, config.connections
    assert (p.maxElements, p.maxDepth, p.maxAttributes, p.maxHeaderSize,
            p.maxElementsBeforeAuth, p.maxStanzaSizeBeforeAuth) == (100, 8, 4, 1000, 5, 2000)
    assert (c.authTimeout, c.maxPerAddress, c.maxTotal, c.ipv6Prefix,
            c.tlsMaxEmptyRecords) == (120, 3, 9, 56, 7)
    assert [str(n) for n in c.exempt] == ["10.0.0.0/8", "::1/128"]


def test_parserAndConnectionsErrors():
    """Bad values name their section and key."""
    for text, where in (("[parser]\nmax_depth = 0\n", "[parser] max_depth"),
                        ("[connections]\nexempt = nonsense\n", "[connections] exempt"),
                        ("[connections]\nipv6_prefix = 200\n", "[connections] ipv6_prefix")):
        with pytest.raises(ConfigError) as caught:
            parse(text)
        assert where in str(caught.value)


def test_hardeningDefaults():
    """Authentication, flow and web-body limits are on by default with the documented values."""
    config = parse("")
    c2s, http = config.c2s, config.http
    assert (c2s.authFailFree, c2s.authFailDelay, c2s.authFailMaxDelay, c2s.authFailWindow,
            c2s.authFailTracked, c2s.authThreads, c2s.authMaxPending) == (5, 1, 60, 900, 10000, 2, 64)
    assert (c2s.maxOutputBuffer, c2s.inputRate, c2s.inputBurst, c2s.stanzaRate,
            c2s.stanzaBurst) == (1048576, 262144, 1048576, 500, 2000)
    assert (http.boshMaxBody, http.boshMaxPayloads, http.boshMaxElements,
            http.websocketMaxMessage) == (0, 100, 10000, 0)
    assert config.server.mmapThreshold == 131072
    assert parse("[server]\nmmap_threshold = 0\n").server.mmapThreshold == 0


def test_shippedConfigParses():
    """etc/jabberd.ini, with every hardening key uncommented, parses to its documented defaults."""
    import os
    import re

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "etc", "jabberd.ini")
    with open(path) as f:
        text = f.read()
    keys = ("auth_fail_", "auth_threads", "auth_max_pending", "max_output_buffer", "input_",
            "stanza_", "bosh_max_body", "bosh_max_payloads", "bosh_max_elements",
            "websocket_max_message")
    text = re.sub(r"(?m)^;(%s)" % "|".join(keys), r"\1", text)
    shipped, default = parse(text), parse("")
    names = ("authFailFree", "authFailDelay", "authFailMaxDelay", "authFailWindow",
             "authFailTracked", "authThreads", "authMaxPending", "maxOutputBuffer", "inputRate",
             "inputBurst", "stanzaRate", "stanzaBurst")
    assert [getattr(shipped.c2s, n) for n in names] == [getattr(default.c2s, n) for n in names]
    names = ("boshMaxBody", "boshMaxPayloads", "boshMaxElements", "websocketMaxMessage")
    assert [getattr(shipped.http, n) for n in names] == [getattr(default.http, n) for n in names]


@pytest.mark.parametrize("text, where", [
    ("[c2s]\nauth_threads = 0", "[c2s] auth_threads"),
    ("[c2s]\nauth_max_pending = 0", "[c2s] auth_max_pending"),
    ("[c2s]\nmax_output_buffer = lots", "[c2s] max_output_buffer"),
    ("[http]\nbosh_max_payloads = 0", "[http] bosh_max_payloads"),
    ("[http]\nbosh_max_elements = -1", "[http] bosh_max_elements"),
    ("[server]\nmmap_threshold = 100", "[server] mmap_threshold"),
    ("[server]\nmmap_threshold = 67108864", "[server] mmap_threshold"),
])
def test_hardeningErrorsNameSectionAndKey(text, where):
    """A bad limit is a start-up error naming its section and key."""
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert where in str(caught.value)


def test_streamManagementSettings():
    """[c2s] resumption_timeout and resumption_max_queue default to 3600 s and 500 stanzas."""
    defaults = parse("").c2s
    assert (defaults.resumptionTimeout, defaults.resumptionMaxQueue) == (3600, 500)
    c2s = parse("[c2s]\nresumption_timeout = 0\nresumption_max_queue = 50\n").c2s
    assert (c2s.resumptionTimeout, c2s.resumptionMaxQueue) == (0, 50)
    for text, where in (("resumption_timeout = -5", "[c2s] resumption_timeout"),
                        ("resumption_max_queue = 0", "[c2s] resumption_max_queue")):
        with pytest.raises(ConfigError) as e:
            parse("[c2s]\n" + text + "\n")
        assert where in str(e.value)


def test_vcardAndAvatarLimits():
    """[vcard] max_size and [avatars] max_bytes are read, default to 65536 and must be at least 1."""
    config = parse("[vcard]\nmax_size = 5000\n[avatars]\nmax_bytes = 7000\n")
    assert (config.vcard.maxSize, config.avatars.maxBytes) == (5000, 7000)
    assert (parse("").vcard.maxSize, parse("").avatars.maxBytes) == (65536, 65536)
    with pytest.raises(ConfigError, match=r"\[avatars\] max_bytes"):
        parse("[avatars]\nmax_bytes = 0\n")
def test_noClusterByDefault():
    """Without a [cluster] section the server runs alone."""
    assert parse("[server]\ndomains = localhost\n").cluster is None


def test_clusterValues():
    """[cluster] is read with its defaults, and its database replaces [server] database."""
    config = parse("[server]\ndatabase = sqlite:///x.db\n[cluster]\nnode = n1\n"
                   "secret = sixteen characters\ndatabase = postgresql://db/j\n"
                   "dead_after_ms = 4000\nworkers = 2\n")
    c = config.cluster
    assert (c.node, c.nats, c.name, c.heartbeat, c.deadAfter, c.workers, c.maxInFlight) == \
        ("n1", "nats://127.0.0.1:4222", "jabberd", 1.0, 4.0, 2, 10000)
    assert config.server.database == "postgresql://db/j"


@pytest.mark.parametrize("text, where", [
    ("node = \nsecret = sixteen characters", "[cluster] node"),
    ("node = a.b\nsecret = sixteen characters", "[cluster] node"),
    ("node = n1\nsecret = short", "[cluster] secret"),
    ("node = n1\nsecret = sixteen characters\nnats = http://x", "[cluster] nats"),
    ("node = n1\nsecret = sixteen characters\ndead_after_ms = 1500", "[cluster] dead_after_ms"),
    ("node = n1\nsecret = sixteen characters\nworkers = 0", "[cluster] workers: must be at least 1"),
    ("node = n1\nsecret = sixteen characters\nheartbeat_ms = 0", "[cluster] heartbeat_ms"),
])
def test_clusterErrors(text, where):
    """A bad [cluster] value is a start-up error naming the key."""
    with pytest.raises(ConfigError, match=where.replace("[", r"\[").replace("]", r"\]")):
        parse("[cluster]\n" + text + "\n")
