"""
A three-node cluster losing a node (jabberd.cluster): kill -9 of the node
holding bob while alice, on another node, chats to him.  Bob's contacts
see him go within the cluster's dead time (RFC 6121 section 4.5.2),
every message alice's stream management (XEP-0198) acknowledged is in
bob's archive (XEP-0313) when he logs in again on a surviving node, the
messages sent after the death wait in offline storage (XEP-0160), and
the killed node comes back and serves again.  Each node runs on a test
host of its own (L{tests.netns}) where the tests may make them (root),
else on loopback; on test hosts a node is also cut off the network and put
back (a partition).
"""

import asyncio
import signal
import time

import pytest

from tests.integration.clients import Client, run
from tests.integration.clusterharness import clusterPlaces, runningCluster

PLUGINS = ["xep_0059", "xep_0313", "xep_0198"]
MESSAGES = 60


@pytest.fixture(scope="module", params=clusterPlaces())
def cluster(request, tmp_path_factory):
    """Nodes n1, n2, n3 (dead after 1.5 s of silence), accounts alice, bob and carol."""
    yield from runningCluster(tmp_path_factory, "failover", ("n1", "n2", "n3"),
                              ("alice", "bob", "carol"), network=request.param == "netns")


async def connect(cluster, node, user, resource, plugins=PLUGINS):
    return await cluster.connect(node, user, resource, plugins=plugins)


async def revived(cluster, node="n3"):
    """Start C{node} again if an earlier test killed it, and let the others hear it."""
    if cluster.nodes[node].process is None:
        cluster.start(node)
        await asyncio.sleep(1)


async def watching(watcher, contact):
    """C{watcher} subscribes to C{contact}'s presence (approved): C{contact}'s presence."""
    await watcher.get_roster()
    await contact.get_roster()
    watcher.send_presence_subscription(contact.boundjid.bare)
    return await watcher.nextPresence(lambda p: p["from"] == contact.boundjid
                                      and p["type"] == "available")


async def allAcknowledged(client):
    """Wait until the server acknowledged everything C{client} sent (XEP-0198 <a h/>)."""
    plugin = client["xep_0198"]
    for _ in range(200):
        plugin.request_ack()
        await asyncio.sleep(0.05)
        if not plugin.unacked_queue and plugin.last_ack == plugin.seq:
            return plugin.last_ack
    raise AssertionError(f"acknowledged {plugin.last_ack} of {plugin.seq}")


async def archived(client, peer):
    """The bodies in C{client}'s archive of messages with C{peer}, in order."""
    iq = await client["xep_0313"].retrieve(with_jid=peer, rsm={"max": 100}, timeout=10)
    return [m["mam_result"]["forwarded"]["stanza"]["body"] for m in iq["mam"]["results"]]


def test_killedNodeUnderChatLoad(cluster):
    """kill -9 of bob's node: carol sees him go, nothing acknowledged is lost, bob resumes elsewhere."""
    async def body():
        carol = await connect(cluster, "n1", "carol", "desk")
        bob = await connect(cluster, "n3", "bob", "phone")
        alice = await connect(cluster, "n2", "alice", "laptop")
        await watching(carol, bob)
        received = []
        bob.add_event_handler("message", lambda m: m["body"] and received.append(m["body"]))
        for n in range(MESSAGES):
            alice.send_message("bob@localhost", f"m{n}", mtype="chat")
            if n == MESSAGES // 3:
                await asyncio.sleep(0.3)
                cluster.nodes["n3"].stop(signal.SIGKILL)
                killed = time.monotonic()
            await asyncio.sleep(0.02)
        gone = await carol.nextPresence(lambda p: p["from"] == "bob@localhost/phone"
                                        and p["type"] == "unavailable")
        noticed = time.monotonic() - killed
        assert gone is not None and noticed < 10
        acknowledged = await allAcknowledged(alice)
        assert acknowledged >= MESSAGES
        assert received and len(received) < MESSAGES  # some arrived live, then the node died

        # Bob logs in on a surviving node: what he did not get live waits
        # offline (the messages n3 never confirmed included), and the
        # archive has every acknowledged message.
        again = Client("bob@localhost/phone", "bobpw", plugins=PLUGINS)
        offline = []
        again.add_event_handler("message", lambda m: m["body"] and offline.append(m["body"]))
        assert await again.login(cluster.port("n1"), host=cluster.address("n1"))
        everything = {f"m{n}" for n in range(MESSAGES)}
        for _ in range(100):
            if set(received) | set(offline) >= everything:
                break
            await asyncio.sleep(0.1)
        assert set(received) | set(offline) == everything
        bodies = await archived(again, "alice@localhost")
        assert bodies == [f"m{n}" for n in range(MESSAGES)]
        for client in (carol, alice, again):
            await client.close()
        bob.disconnect()
    run(body())


def test_restartedNodeServesAgain(cluster):
    """The killed node restarts, rejoins, and its users chat with users on the other nodes."""
    async def body():
        await revived(cluster)
        bob = await connect(cluster, "n3", "bob", "back", plugins=())
        alice = await connect(cluster, "n2", "alice", "again", plugins=())
        await asyncio.sleep(0.5)
        alice.send_message("bob@localhost/back", "welcome back", mtype="chat")
        got = await bob.nextMessage(lambda m: m["body"] == "welcome back")
        assert got["from"] == "alice@localhost/again"
        bob.send_message("alice@localhost/again", "thanks", mtype="chat")
        await alice.nextMessage(lambda m: m["body"] == "thanks")
        await bob.close()
        await alice.close()
    run(body())


def roomOn(node, nodes, prefix="kept"):
    """A room JID that rendezvous hashing places on C{node} among C{nodes}."""
    from jabberd.cluster.rooms import weight

    for n in range(1000):
        room = f"{prefix}{n}@conference.localhost"
        if max(nodes, key=lambda name: weight(room, name)) == node:
            return room
    raise AssertionError("no room hashes to " + node)


def test_persistentRoomComesBackOnAnotherNode(cluster):
    """A persistent room whose node is killed comes back elsewhere with its subject and history."""
    plugins = ["xep_0045", "xep_0004"]

    async def body():
        await revived(cluster)
        room = roomOn("n3", ["n1", "n2", "n3"])
        alice = await connect(cluster, "n1", "alice", "owner", plugins=plugins)
        await alice["xep_0045"].join_muc_wait(room, "Alice", timeout=10)
        form = await alice["xep_0045"].get_room_config(room)
        form.get_fields()["muc#roomconfig_persistentroom"]["value"] = True
        await alice["xep_0045"].set_room_config(room, form)
        alice["xep_0045"].set_subject(room, "Still here")
        await alice.nextMessage(lambda m: m["subject"] == "Still here")
        alice.send_message(room, "remember me", mtype="groupchat")
        await alice.nextMessage(lambda m: m["body"] == "remember me")
        await asyncio.sleep(0.5)  # the room archive's group commit
        cluster.nodes["n3"].stop(signal.SIGKILL)
        await asyncio.sleep(2.5)  # dead after 1.5 s of silence
        bob = await connect(cluster, "n2", "bob", "later", plugins=plugins)
        _self, subject, _occupants, history = await bob["xep_0045"].join_muc_wait(
            room, "Bob", maxstanzas=10, timeout=10)
        assert "Still here" in str(subject)
        assert "remember me" in [m["body"] for m in history]
        await alice.close()
        await bob.close()
    run(body())


def test_partitionedNodeComesBackWithoutRestart(cluster):
    """
    n3 cut off the network: carol (n1) sees bob (n3) go; when n3 is back
    each sees the other's presence again, re-sent by the nodes (the same
    stanza, not a new one from the client), and they chat.
    """
    if cluster.network is None:
        pytest.skip("a partition needs test hosts of their own")

    def isFrom(jid, presenceType="available"):
        return lambda p: p["from"] == jid and p["type"] == presenceType

    async def body():
        await revived(cluster)
        carol = await connect(cluster, "n1", "carol", "partition", plugins=())
        bob = await connect(cluster, "n3", "bob", "partition", plugins=())
        bobWas = await watching(carol, bob)
        carolWas = await bob.nextPresence(isFrom("carol@localhost/partition"))
        host = cluster.network.hosts["n3"]
        host.cut()
        try:
            assert await carol.nextPresence(isFrom("bob@localhost/partition", "unavailable"))
            await asyncio.sleep(cluster.deadAfter / 1000 + 0.5)  # n3 finds the others dead too
        finally:
            host.restore()
        bobBack = await carol.nextPresence(isFrom("bob@localhost/partition"))
        carolBack = await bob.nextPresence(isFrom("carol@localhost/partition"))
        assert (bobBack["id"], carolBack["id"]) == (bobWas["id"], carolWas["id"])
        carol.send_message("bob@localhost/partition", "you are back", mtype="chat")
        got = await bob.nextMessage(lambda m: m["body"] == "you are back")
        assert got["from"] == "carol@localhost/partition"
        await carol.close()
        await bob.close()
    run(body())


def test_unacknowledgedByClientRetriedWhenItsNodeDies(cluster):
    """
    Messages bob's node wrote to him but his client never acknowledged
    (XEP-0198) are not confirmed to the sender's node: when bob's node is
    killed they go to offline storage, and bob gets them on a survivor.
    """
    async def body():
        await revived(cluster)
        bob = await connect(cluster, "n3", "bob", "mute")
        bob["xep_0198"].send_ack = lambda: None  # reads everything, acknowledges nothing
        alice = await connect(cluster, "n1", "alice", "mute", plugins=())
        await asyncio.sleep(0.3)
        live = []
        bob.add_event_handler("message", lambda m: m["body"] and live.append(m["body"]))
        sent = [f"unacked {n}" for n in range(10)]
        for text in sent:
            alice.send_message("bob@localhost/mute", text, mtype="chat")
        for _ in range(100):
            if len(live) == len(sent):
                break
            await asyncio.sleep(0.05)
        assert live == sent
        await asyncio.sleep(cluster.heartbeat / 1000 * 3)  # heartbeats that could confirm them
        cluster.nodes["n3"].stop(signal.SIGKILL)
        bob.disconnect()
        await asyncio.sleep(cluster.deadAfter / 1000 + 1)
        again = Client("bob@localhost/again", "bobpw", plugins=PLUGINS)
        offline = []
        again.add_event_handler("message", lambda m: m["body"] and offline.append(m["body"]))
        assert await again.login(cluster.port("n2"), host=cluster.address("n2"))
        for _ in range(100):
            if set(offline) >= set(sent):
                break
            await asyncio.sleep(0.1)
        assert set(sent) <= set(offline)
        await alice.close()
        await again.close()
    run(body())
