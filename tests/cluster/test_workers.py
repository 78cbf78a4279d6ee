"""Tests for L{jabberd.cluster.workers}: what each worker process is started with."""

from jabberd.cluster.workers import WorkerPool, workerOverrides
from jabberd.config import parse

CONFIG = """
[server]
datadir = /srv/jabberd
[c2s]
listen = tcp:5222:interface=0.0.0.0
listen_tls = tcp:0
[http]
listen = tcp:5280
listen_tls = ssl:5281
[cluster]
node = host1
secret = sixteen characters or more
workers = 3
"""


def test_overridesShareBoundPorts():
    """A worker gets its own node name and data dir, the bound ports, and no workers of its own."""
    config = parse(CONFIG)
    overrides = workerOverrides(config, 2, {"c2s": 5222, "c2s-tls": 40001, "http": 5280,
                                            "https": 5281})
    assert overrides[("cluster", "node")] == "host1-w2"
    assert overrides[("cluster", "workers")] == "1"
    assert overrides[("cluster", "reuse_port")] == "yes"
    assert overrides[("server", "datadir")] == "/srv/jabberd/worker-2"
    assert overrides[("c2s", "listen")] == "tcp:5222:interface=0.0.0.0"
    assert overrides[("c2s", "listen_tls")] == "tcp:40001"
    assert overrides[("http", "listen_tls")] == ""  # an ssl: port stays with the first process


def test_workerConfigurationParses():
    """The overrides, applied to the same file, make a valid worker configuration."""
    config = parse(CONFIG)
    worker = parse(CONFIG, overrides=workerOverrides(config, 1, {"c2s": 5222}))
    assert (worker.cluster.node, worker.cluster.workers, worker.cluster.reusePort) == \
        ("host1-w1", 1, True)
    assert config.cluster.reusePort and worker.http.listenTLS == ""


class FakeServer:
    def __init__(self, config):
        self.config = config
        self.ports = {"c2s": 5222}


def test_commandRunsTwistdWithOverrides():
    """The command runs twistd jabberd on the same file with --set per override."""
    pool = WorkerPool(FakeServer(parse(CONFIG, path="/etc/jabberd.ini")), 2)
    args = pool.command(1)
    tail = args[args.index("jabberd"):]
    assert tail[:3] == ["jabberd", "-c", "/etc/jabberd.ini"]
    assert "cluster.node=host1-w1" in args and "c2s.listen=tcp:5222:interface=0.0.0.0" in args
