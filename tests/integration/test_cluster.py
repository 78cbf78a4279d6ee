"""
Two jabberd nodes serving one domain through NATS and a shared PostgreSQL
schema (jabberd.cluster): clients on different nodes chat, see each
other's presence and get roster pushes; a resource bound on both nodes is
resolved cluster-wide (RFC 6120 section 7.7.2.2); a stream management
session (XEP-0198) resumes on the other node.  Each node runs on a test
host of its own (a network namespace, L{tests.netns}) where the tests may
make them (root), else on loopback.
"""

import asyncio
import signal

import pytest

from tests.integration.clients import TIMEOUT, assertRosterPushReaches, run
from tests.integration.clusterharness import befriend, clusterPlaces, runningCluster
from tests.integration.test_streammanagement import cut, drain, settle, unavailableFrom


@pytest.fixture(scope="module", params=clusterPlaces())
def cluster(request, tmp_path_factory):
    """Nodes n1 and n2, with accounts alice to frank, and grace to judy for resumption."""
    yield from runningCluster(tmp_path_factory, "cluster", ("n1", "n2"),
                              ("alice", "bob", "carol", "dave", "erin", "frank",
                               "grace", "heidi", "ivan", "judy"),
                              network=request.param == "netns")


def test_chatAcrossNodes(cluster):
    """A message to a full JID and one to a bare JID reach a client on the other node."""
    async def body():
        alice = await cluster.connect("n1", "alice")
        bob = await cluster.connect("n2", "bob")
        await asyncio.sleep(0.3)
        alice.send_message(mto=bob.boundjid.full, mbody="to your resource", mtype="chat")
        got = await bob.nextMessage(lambda m: m["body"])
        assert (got["body"], got["from"]) == ("to your resource", alice.boundjid)
        bob.send_message(mto="alice@localhost", mbody="to your account", mtype="chat")
        got = await alice.nextMessage(lambda m: m["body"])
        assert (got["body"], got["from"]) == ("to your account", bob.boundjid)
        await alice.close()
        await bob.close()
    run(body())


def test_presenceAcrossNodes(cluster):
    """Contacts on different nodes subscribe, see each other come, change status and go."""
    async def body():
        carol = await cluster.connect("n1", "carol")
        dave = await cluster.connect("n2", "dave")
        await befriend(carol, dave)
        dave.send_presence(pshow="away", pstatus="lunch")
        update = await carol.nextPresence(lambda p: p["from"] == dave.boundjid and p["show"])
        assert (update["show"], update["status"]) == ("away", "lunch")
        daveJID = dave.boundjid.full
        await dave.close()
        gone = await carol.nextPresence(lambda p: p["from"] == daveJID
                                        and p["type"] == "unavailable")
        assert gone is not None
        await carol.close()
    run(body())


def test_bareDeliverySeesResourcesOnBothNodes(cluster):
    """A message to a bare JID reaches the highest-priority resource, on whichever node it is."""
    async def body():
        home = await cluster.connect("n1", "erin", "home", presence=False)
        work = await cluster.connect("n2", "erin", "work", presence=False)
        home.send_presence(ppriority=1)
        work.send_presence(ppriority=5)
        # Each resource sees the other's presence: the directory is current on both nodes.
        await home.nextPresence(lambda p: p["from"] == work.boundjid)
        await work.nextPresence(lambda p: p["from"] == home.boundjid)
        sender = await cluster.connect("n1", "frank")
        sender.send_message(mto="erin@localhost", mbody="highest first", mtype="chat")
        got = await work.nextMessage(lambda m: m["body"])
        assert got["body"] == "highest first"
        work.send_presence(ppriority=0)
        await home.nextPresence(lambda p: p["from"] == work.boundjid)
        await asyncio.sleep(0.3)
        sender.send_message(mto="erin@localhost", mbody="now home", mtype="chat")
        got = await home.nextMessage(lambda m: m["body"])
        assert got["body"] == "now home"
        for client in (home, work, sender):
            await client.close()
    run(body())


def test_rosterPushToResourceOnOtherNode(cluster):
    """A roster change made by a resource on one node is pushed to the resource on the other."""
    async def body():
        first = await cluster.connect("n1", "frank", "one")
        second = await cluster.connect("n2", "frank", "two")
        await asyncio.sleep(0.3)
        await assertRosterPushReaches(first, second)
        await first.close()
        await second.close()
    run(body())


def test_resourceConflictAcrossNodes(cluster):
    """Binding a resource held on the other node replaces it there with a conflict stream error."""
    async def body():
        earlier = await cluster.connect("n1", "bob", "same")
        await asyncio.sleep(0.3)
        later = await cluster.connect("n2", "bob", "same")
        error = await asyncio.wait_for(earlier.streamErrors.get(), 10)
        assert error["condition"] == "conflict"
        watcher = await cluster.connect("n1", "alice", "watch")
        await asyncio.sleep(0.3)
        watcher.send_message(mto="bob@localhost/same", mbody="which one", mtype="chat")
        got = await later.nextMessage(lambda m: m["body"])
        assert got["body"] == "which one"
        await later.close()
        await watcher.close()
    run(body())


def test_componentOnOneNodeReachableFromTheOther(cluster):
    """An external component connected to n1 exchanges messages with a client on n2 (XEP-0114)."""
    from tests.integration.clients import RawStream
    from tests.integration.test_core import COMPONENT_STREAM, _handshake

    async def body():
        loop = asyncio.get_running_loop()
        raw = RawStream(cluster.port("n1", "components"), host=cluster.address("n1"))
        raw.send(COMPONENT_STREAM)
        reply = await loop.run_in_executor(None, _handshake, raw, "echo-secret")
        assert "<handshake" in reply and "error" not in reply
        await asyncio.sleep(0.3)
        carol = await cluster.connect("n2", "carol", "comp")
        carol.send_message("bot@echo.localhost", "ping across", mtype="chat")
        received = await loop.run_in_executor(None, raw.readUntil, "ping across")
        assert "carol@localhost/comp" in received
        raw.send("<message from='bot@echo.localhost' to='carol@localhost/comp' type='chat'>"
                 "<body>pong across</body></message>")
        message = await carol.nextMessage(lambda m: m["body"] == "pong across")
        assert message["from"] == "bot@echo.localhost"
        # A second connection for the domain, on the other node, is refused.
        second = RawStream(cluster.port("n2", "components"), host=cluster.address("n2"))
        second.send(COMPONENT_STREAM)
        refused = await loop.run_in_executor(None, _handshake, second, "echo-secret")
        refused += await loop.run_in_executor(None, second.readAll)
        assert "conflict" in refused
        second.close()
        raw.close()
        await asyncio.sleep(0.5)
        carol.send_message("bot@echo.localhost", "gone?", mtype="chat")
        bounced = await carol.nextMessage(lambda m: m["type"] == "error")
        assert bounced["error"]["condition"] == "service-unavailable"
        await carol.close()
    run(body())


def test_roomWithOccupantsOnBothNodes(cluster):
    """Occupants connected to different nodes share one room: presence and groupchat reach all."""
    room = "crossroads@conference.localhost"

    async def body():
        alice = await cluster.connect("n1", "alice", "muc", plugins=["xep_0045", "xep_0004"])
        bob = await cluster.connect("n2", "bob", "muc", plugins=["xep_0045", "xep_0004"])
        await alice["xep_0045"].join_muc_wait(room, "Alice", timeout=10)
        form = await alice["xep_0045"].get_room_config(room)
        await alice["xep_0045"].set_room_config(room, form)
        _self, _subject, occupants, _history = await bob["xep_0045"].join_muc_wait(
            room, "Bob", timeout=10)
        await alice.nextPresence(lambda p: p["from"] == room + "/Bob")
        bob.send_message(room, "hello from n2", mtype="groupchat")
        for client in (alice, bob):
            message = await client.nextMessage(lambda m: m["body"] == "hello from n2")
            assert message["from"] == room + "/Bob"
        assert await roomsHeld(cluster) == 1
        await alice.close()
        await bob.close()
        # The temporary room vanished with its occupants: its claim is released.
        for _ in range(10):
            held = await roomsHeld(cluster)
            if held == 0:
                break
            await asyncio.sleep(0.2)
        assert held == 0
    run(body())


async def roomsHeld(cluster):
    """The rooms every node holds, as jabberdctl cluster status on n1 counts them."""
    result = await asyncio.get_running_loop().run_in_executor(
        None, cluster.nodes["n1"].ctl, "cluster", "status")
    assert result.returncode == 0, result.stderr
    return sum(int(line.split()[2]) for line in result.stdout.splitlines()[1:])


def test_clusterStatus(cluster):
    """jabberdctl cluster status lists both nodes with the sessions each holds."""
    async def body():
        alice = await cluster.connect("n1", "alice", "status")
        bob = await cluster.connect("n2", "bob", "status")
        dave = await cluster.connect("n2", "dave", "status")
        await asyncio.sleep(0.3)
        result = await asyncio.get_running_loop().run_in_executor(
            None, cluster.nodes["n1"].ctl, "cluster", "status")
        assert result.returncode == 0, result.stderr
        rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
        assert set(rows) == {"n1", "n2"}
        assert (rows["n1"][1], rows["n2"][1]) == ("1", "2")
        for client in (alice, bob, dave):
            await client.close()
    run(body())


def test_carbonsToResourceOnOtherNode(cluster):
    """Both sides of a conversation held on n1 reach the user's resource on n2 (XEP-0280)."""
    async def body():
        plugins = ["xep_0280"]
        here = await cluster.connect("n1", "dave", "here", plugins=plugins)
        there = await cluster.connect("n2", "dave", "there", plugins=plugins)
        erin = await cluster.connect("n1", "erin", "carbons")
        for client in (here, there):
            await client["xep_0280"].enable()
        await asyncio.sleep(0.3)
        here.send_message(mto="erin@localhost/carbons", mbody="dave says", mtype="chat")
        erin.send_message(mto="dave@localhost/here", mbody="erin says", mtype="chat")
        sent = await there.nextMessage(lambda m: m["carbon_sent"]["body"])
        assert (sent["from"], sent["carbon_sent"]["body"]) == ("dave@localhost", "dave says")
        received = await there.nextMessage(lambda m: m["carbon_received"]["body"])
        assert received["carbon_received"]["body"] == "erin says"
        assert received["carbon_received"]["from"] == "erin@localhost/carbons"
        for client in (here, there, erin):
            await client.close()
    run(body())


async def resumeOn(cluster, client, node):
    """C{client} connects to C{node} and resumes: True once resumed, False if refused."""
    outcome = client.loop.create_future()
    client.add_event_handler("session_resumed",
                             lambda *_: outcome.done() or outcome.set_result(True), disposable=True)
    client.add_event_handler("sm_failed", lambda *_: outcome.done() or outcome.set_result(False),
                             disposable=True)
    client.connect(cluster.address(node), cluster.port(node))
    return await asyncio.wait_for(outcome, TIMEOUT)


def test_resumeOnOtherNode(cluster):
    """
    Cut on n1 (no </stream>), a message meanwhile, resumed on n2 (XEP-0198
    section 5): the message arrives once, the contact on n1 sees no
    unavailable presence, and chat goes on both ways.
    """
    async def body():
        phone = await cluster.connect("n1", "grace", "phone", plugins=["xep_0198"])
        friend = await cluster.connect("n1", "heidi", "desk")
        await befriend(phone, friend)
        friend.send_message(phone.boundjid.full, "before", mtype="chat")
        await phone.nextMessage(lambda m: m["body"] == "before")
        await settle(phone)
        drain(phone.messages)
        drain(friend.presences)
        await cut(phone)
        friend.send_message(phone.boundjid.full, "while away", mtype="chat")
        await settle(friend)
        await asyncio.sleep(0.5)
        assert await resumeOn(cluster, phone, "n2")
        missed = await phone.nextMessage(lambda m: m["body"] == "while away")
        assert missed.xml.find("{urn:xmpp:delay}delay") is not None
        friend.send_message(phone.boundjid.full, "after", mtype="chat")
        await phone.nextMessage(lambda m: m["body"] == "after")
        phone.send_message(friend.boundjid.full, "reply", mtype="chat")
        await friend.nextMessage(lambda m: m["body"] == "reply")
        await settle(phone)
        assert [m["body"] for m in drain(phone.messages) if m["body"]] == []  # nothing twice
        assert not unavailableFrom(drain(friend.presences), phone.boundjid)
        await phone.close()
        await friend.close()
    run(body())


def test_resumeAfterNodeKilled(cluster):
    """
    n1 killed (kill -9) with a message its client never acknowledged:
    resuming on n2 gets item-not-found, and the message waits in offline
    storage.  This kills n1: it is the module's last test.
    """
    async def body():
        phone = await cluster.connect("n1", "ivan", "phone", plugins=["xep_0198"])
        phone["xep_0198"].send_ack = lambda: None  # reads everything, acknowledges nothing
        friend = await cluster.connect("n2", "judy", "desk")
        await asyncio.sleep(0.3)
        friend.send_message(phone.boundjid.full, "unacked", mtype="chat")
        await phone.nextMessage(lambda m: m["body"] == "unacked")
        await asyncio.sleep(cluster.heartbeat / 1000 * 3)  # heartbeats that could confirm it
        cluster.nodes["n1"].stop(signal.SIGKILL)
        await cut(phone)
        await asyncio.sleep(cluster.deadAfter / 1000 + 1)
        drain(phone.messages)
        assert not await resumeOn(cluster, phone, "n2")
        phone.send_presence()
        again = await phone.nextMessage(lambda m: m["body"] == "unacked")
        assert again.xml.find("{urn:xmpp:delay}delay") is not None
        await phone.close()
        await friend.close()
    run(body())
