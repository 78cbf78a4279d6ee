"""
C{[cluster] workers = 2} (jabberd.cluster.workers): one C{twistd jabberd}
starts a second process; both listen on the same ports with SO_REUSEPORT,
connections are spread over them, and clients that landed on different
processes chat through the cluster.
"""

import asyncio
import os

import pytest

from tests.integration.clients import Client, run
from tests.integration.clusterharness import runningCluster

CLIENTS = 8


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One node with two workers, accounts u0 ... u7."""
    yield from runningCluster(tmp_path_factory, "workers", ("w",),
                              [f"u{n}" for n in range(CLIENTS)], workers=2)


def workerLog(cluster):
    path = os.path.join(cluster.nodes["w"].datadir, "worker-1.log")
    with open(path, errors="replace") as f:
        return f.read()


def test_twoProcessesShareThePortsAndChat(cluster):
    """Clients spread over both processes; each one's message to the next arrives."""
    async def body():
        clients = []
        for n in range(CLIENTS):
            client = Client(f"u{n}@localhost/w", f"u{n}pw")
            assert await client.login(cluster.port("w"))
            clients.append(client)
        await asyncio.sleep(0.5)
        for n, client in enumerate(clients):
            client.send_message(f"u{(n + 1) % CLIENTS}@localhost/w", f"from u{n}", mtype="chat")
        for n, client in enumerate(clients):
            got = await client.nextMessage(lambda m: m["body"])
            assert got["body"] == f"from u{(n - 1) % CLIENTS}"
        inFirst = cluster.nodes["w"].logText(limit=None).count("authenticated from")
        inSecond = workerLog(cluster).count("authenticated from")
        assert inFirst + inSecond == CLIENTS and inFirst and inSecond
        for client in clients:
            await client.close()
    run(body())
