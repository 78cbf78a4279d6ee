"""
A real jabberd cluster for integration tests: several C{twistd jabberd}
nodes on one machine (ephemeral ports, a data dir each), sharing a fresh
PostgreSQL schema and a NATS server under a random cluster name, so that
tests running at the same time never hear each other.

Without NATS (C{JABBERD_TEST_NATS}, default 127.0.0.1:4222) or PostgreSQL
the tests are skipped, except under CI (C{CI} set), where they fail.
"""

import os
import socket
import uuid

import pytest

from tests.integration.harness import PostgresSchema, ServerProcess

NATS_URL = os.environ.get("JABBERD_TEST_NATS", "nats://127.0.0.1:4222")

CLUSTER_SECTION = """
[cluster]
node = {node}
nats = {nats}
name = {name}
heartbeat_ms = {heartbeat}
dead_after_ms = {deadAfter}
secret = {secret}
workers = {workers}
"""


def natsReachable():
    """Whether something answers on the NATS server's port."""
    host, _, port = NATS_URL.rpartition("//")[2].partition(":")
    try:
        with socket.create_connection((host, int(port or 4222)), timeout=3) as s:
            return s.recv(4).startswith(b"INFO")
    except OSError:
        return False


def requireServices():
    """Skip (or, under CI, fail) unless NATS and PostgreSQL are reachable."""
    from tests.integration.conftest import _postgresAvailable

    missing = [name for name, ok in (("NATS at " + NATS_URL, natsReachable()),
                                     ("PostgreSQL at 127.0.0.1:5432", _postgresAvailable()))
               if not ok]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(" and ".join(missing) + " required in CI")
        pytest.skip("no " + " and no ".join(missing))


class Cluster:
    """
    Nodes of one test cluster.

    @ivar nodes: node name -> L{ServerProcess}.
    """

    def __init__(self, tmpdir, heartbeat=200, deadAfter=1500):
        self.tmpdir = tmpdir
        self.name = "jdtest" + uuid.uuid4().hex[:10]
        self.secret = uuid.uuid4().hex
        self.schema = PostgresSchema().create()
        self.heartbeat = heartbeat
        self.deadAfter = deadAfter
        self.nodes = {}

    def start(self, node, extra="", workers=1):
        """Start (or restart) node C{node} and wait until it listens."""
        proc = self.nodes.get(node)
        if proc is None:
            directory = os.path.join(str(self.tmpdir), node)
            os.makedirs(directory, exist_ok=True)
            section = CLUSTER_SECTION.format(node=node, nats=NATS_URL, name=self.name,
                                             heartbeat=self.heartbeat,
                                             deadAfter=self.deadAfter, secret=self.secret,
                                             workers=workers)
            proc = ServerProcess(directory, database=self.schema.url(), extra=section + extra)
            self.nodes[node] = proc
        proc.start()
        return proc

    def port(self, node, listener="c2s"):
        return self.nodes[node].ports[listener]

    def adduser(self, *names):
        """Accounts (password = name + 'pw') in the shared database."""
        first = next(iter(self.nodes.values()))
        for name in names:
            first.adduser(name, name + "pw")

    def close(self):
        for proc in self.nodes.values():
            proc.stop()
        self.schema.drop()


def runningCluster(tmp_path_factory, label, nodes, users, workers=1):
    """
    A generator for a module fixture: the started nodes C{nodes} of a new
    cluster with accounts C{users}, closed when the module is done.
    """
    requireServices()
    made = Cluster(tmp_path_factory.mktemp(label))
    try:
        for node in nodes:
            made.start(node, workers=workers)
        made.adduser(*users)
        yield made
    finally:
        made.close()
