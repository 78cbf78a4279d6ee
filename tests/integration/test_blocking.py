"""
The Blocking Command (XEP-0191) and spam reports (XEP-0377) end to end:
real jabberd on SQLite and PostgreSQL, slixmpp's own xep_0191 and xep_0377
plugins, raw payloads for what the plugins will not send.
"""

import asyncio
import xml.etree.ElementTree as ET

import pytest
from slixmpp.exceptions import IqError

from tests.integration.clients import Client, run

NS_BLOCKING = "urn:xmpp:blocking"
NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
NS_REPORTING = "urn:xmpp:reporting:1"
_NOT_AVAILABLE = ("unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed",
                  "probe", "error")


async def login(server, jid, presence=True):
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=["xep_0191", "xep_0377"])
    assert await client.login(server.ports["c2s"], presence=presence)
    return client


def fromBare(bare, available=True):
    """A presence predicate: from C{bare}, available (or unavailable)."""
    def match(presence):
        if presence["from"].bare != bare:
            return False
        isAvailable = presence["type"] not in _NOT_AVAILABLE
        return isAvailable if available else presence["type"] == "unavailable"
    return match


async def subscribeBoth(one, other):
    """Mutual subscription (slixmpp authorises and subscribes back by itself)."""
    one.send_presence_subscription(pto=other.boundjid.bare)
    await other.nextPresence(fromBare(one.boundjid.bare))
    await one.nextPresence(fromBare(other.boundjid.bare))


async def roundTrip(*clients):
    """Each client pings the server: what was sent to it before has arrived."""
    for client in clients:
        await client["xep_0199"].ping(jid="localhost", timeout=10)


def drain(queue):
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def errorOf(iqFuture):
    with pytest.raises(IqError) as caught:
        await iqFuture
    return caught.value.iq["error"]["condition"]


def rawSet(client, xml):
    iq = client.make_iq_set()
    iq.append(ET.fromstring(xml))
    return iq.send(timeout=10)


def test_blockRefusesAndUnblockRestores(server):
    """Alice blocks bob: his messages are refused, hers to him too, he stops seeing her presence; unblock restores all."""
    async def body():
        alice = await login(server, "alice@localhost/desk")
        bob = await login(server, "bob@localhost/phone")
        await subscribeBoth(alice, bob)
        await alice["xep_0191"].block("bob@localhost", timeout=10)
        assert await alice["xep_0191"].get_blocked_jids(timeout=10) == {"bob@localhost"}
        await bob.nextPresence(fromBare("alice@localhost", available=False))

        bob.send_message("alice@localhost", "blocked?", mtype="chat")
        bounce = await bob.nextMessage(lambda m: m["type"] == "error")
        assert bounce["error"]["condition"] == "service-unavailable"
        alice.send_message("bob@localhost", "to bob", mtype="chat")
        refused = await alice.nextMessage(lambda m: m["type"] == "error")
        assert refused["error"]["condition"] == "not-acceptable"
        assert refused.xml.find(f".//{{{NS_BLOCKING_ERRORS}}}blocked") is not None

        alice.send_presence(pshow="away")
        await roundTrip(alice, bob)
        assert [p for p in drain(bob.presences) if fromBare("alice@localhost")(p)] == []
        assert [m for m in drain(alice.messages) if m["body"] == "blocked?"] == []

        await alice["xep_0191"].unblock("bob@localhost", timeout=10)
        seen = await bob.nextPresence(fromBare("alice@localhost"))
        assert seen["show"] == "away"
        bob.send_message("alice@localhost", "back", mtype="chat")
        assert (await alice.nextMessage(lambda m: m["body"] == "back"))["type"] == "chat"
        await bob.close()
        await alice.close()

    run(body())


def test_pushesToSecondResource(server):
    """A block from one resource is pushed to the other resource that fetched the list."""
    async def body():
        one = await login(server, "carol@localhost/one")
        two = await login(server, "carol@localhost/two")
        pushes = asyncio.Queue()
        two.add_event_handler("blocked", pushes.put_nowait)
        two.add_event_handler("unblocked", pushes.put_nowait)
        for client in (one, two):
            await client["xep_0191"].get_blocked(timeout=10)
        await one["xep_0191"].block(["dave@localhost", "spam.example"], timeout=10)
        push = await asyncio.wait_for(pushes.get(), 10)
        assert {str(i["jid"]) for i in push["block"]} == {"dave@localhost", "spam.example"}
        # Unblock all: the plugin sends no payload without items, so raw.
        await rawSet(one, f"<unblock xmlns='{NS_BLOCKING}'/>")
        push = await asyncio.wait_for(pushes.get(), 10)
        assert push["unblock"] is not None and list(push["unblock"]) == []
        assert await two["xep_0191"].get_blocked_jids(timeout=10) == set()
        await one.close()
        await two.close()

    run(body())


def test_badRequests(server):
    """An empty block is bad-request, a bad JID jid-malformed; nothing is blocked."""
    async def body():
        dave = await login(server, "dave@localhost/raw")
        assert await errorOf(rawSet(dave, f"<block xmlns='{NS_BLOCKING}'/>")) == "bad-request"
        assert await errorOf(rawSet(
            dave, f"<block xmlns='{NS_BLOCKING}'><item jid='a@b@c'/></block>")) == "jid-malformed"
        assert await dave["xep_0191"].get_blocked_jids(timeout=10) == set()
        await dave.close()

    run(body())


def test_reportLoggedAndDiscovered(server):
    """The server advertises both features; a xep_0377 report blocks the JID and is logged."""
    async def body():
        dave = await login(server, "dave@localhost/report")
        info = await dave["xep_0030"].get_info(jid="localhost", timeout=10)
        features = info["disco_info"]["features"]
        assert NS_BLOCKING in features and NS_REPORTING in features
        await dave["xep_0377"].report("spammer@spam.example", reason="spam", timeout=10)
        assert "spammer@spam.example" in {
            str(j) for j in await dave["xep_0191"].get_blocked_jids(timeout=10)}
        await dave["xep_0191"].unblock("spammer@spam.example", timeout=10)
        await dave.close()

    run(body())
    log = server.logText(limit=None)
    assert "XEP-0377 report by dave@localhost/report: spammer@spam.example" in log
    assert "urn:xmpp:reporting:spam" in log


def test_listSurvivesRestart(server):
    """A block list is there after the server restarts, and still enforced."""
    async def block():
        erin = await login(server, "erin@localhost/a")
        await erin["xep_0191"].block("frank@localhost", timeout=10)
        await erin.close()

    async def check():
        erin = await login(server, "erin@localhost/b")
        frank = await login(server, "frank@localhost/b")
        assert await erin["xep_0191"].get_blocked_jids(timeout=10) == {"frank@localhost"}
        frank.send_message("erin@localhost", "after restart", mtype="chat")
        bounce = await frank.nextMessage(lambda m: m["type"] == "error")
        assert bounce["error"]["condition"] == "service-unavailable"
        await frank.close()
        await erin.close()

    run(block())
    server.stop()
    server.start()
    run(check())
