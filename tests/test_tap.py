"""Tests for L{jabberd.tap}: C{twistd jabberd} builds the services its configuration names."""

import json
import os

import pytest
from twisted.python import usage

from jabberd import tap
from jabberd.config import parse
from jabberd.listening import ListenerService


def build(tmp_path, overrides=None):
    text = (f"[server]\ndatadir = {tmp_path}\ndatabase = memory:\n"
            "[c2s]\nlisten = tcp:0\nlisten_tls = tcp:0\n"
            "[components]\nlisten = tcp:0:interface=127.0.0.1\n")
    return tap.buildServer(parse(text, str(tmp_path / "jabberd.ini"), overrides))


def names(server):
    return {child.name for child in server}


def test_buildsConfiguredListeners(tmp_path):
    """Every configured listener is a named ListenerService on its endpoint, with HTTP as one service."""
    server = build(tmp_path, {("s2s", "listen"): "tcp:0", ("http", "listen"): "tcp:0"})
    assert {"c2s", "c2s-tls", "components", "s2s", "http"} <= names(server)
    listener = server.getServiceNamed("c2s")
    assert isinstance(listener, ListenerService) and listener.description == "tcp:0"
    assert server.getServiceNamed("components").description == "tcp:0:interface=127.0.0.1"
    assert server.http is server.getServiceNamed("http")
    assert server.router.defaultRoute is not None  # remote domains go to s2s


def test_unconfiguredListenersAbsent(tmp_path):
    """Without s2s, direct TLS, components or HTTP listeners, none of those services exist."""
    server = build(tmp_path, {("c2s", "listen_tls"): "", ("components", "listen"): "",
                              ("http", "listen"): ""})
    assert names(server) & {"c2s-tls", "components", "s2s", "http"} == set()
    assert "c2s" in names(server) and server.http is None


def test_portBoundPublishesPorts(tmp_path):
    """Each bound port is recorded and all of them written to DATADIR/ports.json."""
    server = build(tmp_path)
    server.portBound("c2s", 5222)
    server.portBound("s2s", 5269)
    with open(os.path.join(str(tmp_path), "ports.json")) as f:
        assert json.load(f) == {"c2s": 5222, "s2s": 5269} == server.ports


def test_badConfigIsUsageError(tmp_path):
    """A configuration error is a command-line usage error naming the section and key."""
    path = tmp_path / "jabberd.ini"
    path.write_text("[c2s]\nrequire_tls = perhaps\n")
    with pytest.raises(usage.UsageError, match=r"\[c2s\] require_tls"):
        tap.Options().parseOptions(["-c", str(path)])


_ALONE = """
import sys, tempfile
from jabberd import tap
from jabberd.config import parse
d = tempfile.mkdtemp()
tap.buildServer(parse(f"[server]\\ndatadir = {d}\\ndatabase = memory:\\n[c2s]\\nlisten = tcp:0\\n"
                      "listen_tls =\\n[components]\\nlisten =\\n[http]\\nlisten =\\n", d + "/j.ini"))
print(sorted(m for m in sys.modules if m == "nats" or m.startswith(("nats.", "jabberd.cluster"))))
"""


def test_aloneLoadsNoCluster():
    """A server without [cluster] imports neither the NATS client nor jabberd.cluster."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", _ALONE], cwd=root, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


_SAMPLE = """
import os, shutil, sys, tempfile
from jabberd import tap
from jabberd.config import load
d = tempfile.mkdtemp()
overrides = {("server", "datadir"): d}
for section, key in (("c2s", "listen"), ("c2s", "listen_tls"), ("s2s", "listen"),
                     ("components", "listen"), ("http", "listen")):
    overrides[(section, key)] = "tcp:0:interface=127.0.0.1"
tap.buildServer(load(os.path.join("etc", "jabberd.ini"), overrides))
shutil.rmtree(d)
print(sorted(m for m in sys.argv[1:] if m in sys.modules))
"""


def loadedBySample(*modules):
    """Which of C{modules} a child interpreter holds once it has built the sample configuration."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", _SAMPLE] + list(modules), cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_sampleLoadsNoClientService():
    """The sample configuration (components in process) imports neither ClientService nor automat."""
    assert loadedBySample("automat", "twisted.application.internet",
                          "jabberd.component.connect") == "[]"


def test_sampleLoadsNoWebServerUntilARequest():
    """The sample configuration's HTTP service (BOSH, upload, web chat) imports no twisted.web.server or static."""
    assert loadedBySample("twisted.web.server", "twisted.web.static", "twisted.web.util",
                          "jabberd.web.site", "jabberd.web.webchat.assets") == "[]"
