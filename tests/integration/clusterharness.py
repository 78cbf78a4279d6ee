"""
A real jabberd cluster for integration tests: several C{twistd jabberd}
nodes on one machine (ephemeral ports, a data dir each), sharing a fresh
PostgreSQL schema and a NATS server under a random cluster name, so that
tests running at the same time never hear each other.

Without NATS (C{JABBERD_TEST_NATS}, default 127.0.0.1:4222) or PostgreSQL
the tests are skipped, except under CI (C{CI} set), where they fail.

On separate test hosts (C{network}, a L{tests.netns.Network}) each node
runs in a network namespace of its own and listens on its address; the
cluster has a NATS server of its own on the bridge (cutting a host off
cuts it off NATS) and reaches PostgreSQL through its Unix socket, which
no network namespace hides.
"""

import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from tests.integration.clients import Client
from tests.integration.harness import PostgresSchema, ServerProcess
from tests.ports import freePort

NATS_URL = os.environ.get("JABBERD_TEST_NATS", "nats://127.0.0.1:4222")
PG_SOCKET_URL = os.environ.get("JABBERD_TEST_PG_SOCKET",
                               "postgresql+psycopg://postgres@/test?host=/var/run/postgresql")

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


def natsReachable(url=NATS_URL):
    """Whether something answers on the NATS server's port."""
    host, _, port = url.rpartition("//")[2].partition(":")
    try:
        with socket.create_connection((host, int(port or 4222)), timeout=3) as s:
            return s.recv(4).startswith(b"INFO")
    except OSError:
        return False


def requireServices(network=False):
    """
    Skip (or, under CI, fail) unless NATS and PostgreSQL are reachable; on
    test hosts of their own (C{network}) the cluster runs a C{nats-server}
    of its own instead.
    """
    from tests.integration.conftest import _postgresAvailable

    nats = (("the nats-server command", shutil.which("nats-server") is not None) if network
            else ("NATS at " + NATS_URL, natsReachable()))
    missing = [name for name, ok in (nats, ("PostgreSQL at 127.0.0.1:5432", _postgresAvailable()))
               if not ok]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(" and ".join(missing) + " required in CI")
        pytest.skip("no " + " and no ".join(missing))


class NATSServer:
    """A C{nats-server} of a test's own, listening on C{address}."""

    def __init__(self, address, logPath):
        port = freePort(address)
        self.url = f"nats://{address}:{port}"
        self.log = open(logPath, "ab")
        self.process = subprocess.Popen(
            [shutil.which("nats-server") or "nats-server", "-a", address, "-p", str(port)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not natsReachable(self.url):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("nats-server did not start on " + self.url)
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.log.close()


class Cluster:
    """
    Nodes of one test cluster.

    @ivar nodes: node name -> L{ServerProcess}.
    @ivar network: the L{tests.netns.Network} the nodes run on as hosts of
        their own, or None (all on loopback here).
    """

    def __init__(self, tmpdir, heartbeat=200, deadAfter=1500, network=None):
        self.tmpdir = tmpdir
        self.name = "jdtest" + uuid.uuid4().hex[:10]
        self.secret = uuid.uuid4().hex
        self.heartbeat = heartbeat
        self.deadAfter = deadAfter
        self.network = network
        self.nodes = {}
        self.nats = None
        self.schema = PostgresSchema().create()
        self.database = self.schema.url()
        if network is not None:
            self.database = self.schema.url(PG_SOCKET_URL)
            try:
                self.nats = NATSServer(network.address, os.path.join(str(tmpdir), "nats.log"))
            except Exception:
                self.schema.drop()
                raise
        self.natsURL = self.nats.url if self.nats is not None else NATS_URL

    def start(self, node, extra="", workers=1):
        """Start (or restart) node C{node} and wait until it listens."""
        proc = self.nodes.get(node)
        if proc is None:
            directory = os.path.join(str(self.tmpdir), node)
            os.makedirs(directory, exist_ok=True)
            section = CLUSTER_SECTION.format(node=node, nats=self.natsURL, name=self.name,
                                             heartbeat=self.heartbeat,
                                             deadAfter=self.deadAfter, secret=self.secret,
                                             workers=workers)
            host = self.network.add(node) if self.network is not None else None
            proc = ServerProcess(directory, database=self.database, extra=section + extra,
                                 host=host)
            self.nodes[node] = proc
        proc.start()
        return proc

    def port(self, node, listener="c2s"):
        return self.nodes[node].ports[listener]

    def address(self, node):
        """The address node C{node} listens on."""
        return self.nodes[node].address

    async def connect(self, node, user, resource="test", presence=True, plugins=()):
        """A logged-in client of C{user} (password C{user + 'pw'}) on C{node}."""
        client = Client(f"{user}@localhost/{resource}", user + "pw", plugins=plugins)
        assert await client.login(self.port(node), presence=presence,
                                  host=self.address(node))
        return client

    def adduser(self, *names):
        """Accounts (password = name + 'pw') in the shared database."""
        first = next(iter(self.nodes.values()))
        for name in names:
            first.adduser(name, name + "pw")

    def close(self):
        for proc in self.nodes.values():
            proc.stop()
        if self.nats is not None:
            self.nats.stop()
        self.schema.drop()


async def befriend(a, b):
    """Subscribe both ways (slixmpp approves and subscribes back) and wait for presence."""
    await a.get_roster()
    await b.get_roster()
    a.send_presence_subscription(b.boundjid.bare)
    await b.nextPresence(lambda p: p["type"] == "available" and p["from"] == a.boundjid)
    await a.nextPresence(lambda p: p["type"] == "available" and p["from"] == b.boundjid)


def clusterPlaces():
    """
    Where the cluster tests put their nodes: each on a test host of its own
    (L{tests.netns}) where namespaces can be made, and always under CI
    (which fails without them), else all on loopback.  The test hosts do
    everything loopback does and more (addresses other than 127.0.0.1, a
    node cut off the network), so one run of each test is enough.
    """
    from tests.netns import unavailableReason

    return ["netns"] if unavailableReason() is None or os.environ.get("CI") else ["loopback"]


def runningCluster(tmp_path_factory, label, nodes, users, workers=1, network=False):
    """
    A generator for a module fixture: the started nodes C{nodes} of a new
    cluster with accounts C{users}, closed when the module is done; with
    C{network}, each node on a test host of its own (L{tests.netns}).
    """
    requireServices(network)
    made = net = None
    try:
        if network:
            from tests.netns import Network

            net = Network(uplink="auto")
        made = Cluster(tmp_path_factory.mktemp(label), network=net)
        for node in nodes:
            made.start(node, workers=workers)
        made.adduser(*users)
        yield made
    finally:
        if made is not None:
            made.close()
        if net is not None:
            net.close()
