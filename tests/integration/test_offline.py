"""
Offline messages end to end: XEP-0160 storage and delivery with
delay stamps, XEP-0013 flexible retrieval through namespace delegation, a
crash right after a message was accepted, and the offline store run out of
process with a configuration change only; real jabberd, slixmpp clients,
on SQLite and PostgreSQL.

"Accepted" means: the offline store committed the message.  That is when
the store answers the session manager, and before it no one is told the
message exists; XMPP has no per-message acknowledgement for the sender
(without XEP-0198), so the tests observe the commit as the recipient
would, through the XEP-0013 message count.
"""

import asyncio
import signal

import pytest

from tests.integration.clients import Client, run

NS_DELAY = "urn:xmpp:delay"
NS_DELAY_LEGACY = "jabber:x:delay"
NS_DATA = "jabber:x:data"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_OFFLINE = "http://jabber.org/protocol/offline"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
OFFLINE_SECTION = """[component:offline.localhost]
plugin = offline
trusted = yes
delegate = http://jabber.org/protocol/offline
"""


async def login(server, jid, presence=True):
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=["xep_0013"])
    assert await client.login(server.ports["c2s"], presence=presence)
    return client


async def count(client):
    """The XEP-0013 message count of the client's own account."""
    iq = await client["xep_0013"].get_count(timeout=10)
    value = iq.xml.find(f".//{{{NS_DATA}}}field[@var='number_of_messages']/{{{NS_DATA}}}value")
    return int(value.text)


async def countReaches(client, expected):
    """Poll the count until it is C{expected} (the store commits asynchronously)."""
    for _ in range(100):
        if await count(client) == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"offline count never reached {expected}")


def assertDelayed(message, sender):
    """C{message} came from C{sender} via offline storage: XEP-0203 and XEP-0091 stamps."""
    assert message["from"] == sender
    delay = message.xml.find(f"{{{NS_DELAY}}}delay")
    assert delay is not None and delay.get("from") == "localhost"
    assert delay.get("stamp").endswith("Z") and delay.text == "Offline Storage"
    legacy = message.xml.find(f"{{{NS_DELAY_LEGACY}}}x")
    assert legacy is not None and legacy.get("stamp")[8] == "T"


def errorConditionOf(stanza):
    error = stanza.xml.find("{jabber:client}error")
    return [child.tag.split("}")[1] for child in error if child.tag.startswith("{" + NS_STANZAS)][0]


def test_storedAndDeliveredOnLogin(server):
    """Chats to an offline user arrive in order, from their sender, with delay stamps, on login."""
    async def body():
        alice = await login(server, "alice@localhost/desk")
        watcher = await login(server, "bob@localhost/count", presence=False)
        for text in ("first", "second"):
            # One at a time: the session manager's account check runs in the
            # storage thread pool, which (on PostgreSQL) may reorder two
            # messages sent back to back before they reach the store.
            alice.send_message("bob@localhost", text, mtype="chat")
            await countReaches(watcher, 1 if text == "first" else 2)
        await watcher.close()
        bob = await login(server, "bob@localhost/phone")
        messages = [await bob.nextMessage(lambda m: m["body"]) for _ in range(2)]
        assert [m["body"] for m in messages] == ["first", "second"]
        for message in messages:
            assertDelayed(message, "alice@localhost/desk")
            assert message["to"] == "bob@localhost/phone"
        await bob.close()
        await alice.close()
    run(body())


def test_notStoredKinds(server):
    """Headlines are dropped, groupchat bounces, unknown accounts bounce; only chat is kept."""
    async def body():
        alice = await login(server, "alice@localhost/kinds")
        alice.send_message("carol@localhost", "news", mtype="headline")
        alice.send_message("carol@localhost", "room talk", mtype="groupchat")
        bounce = await alice.nextMessage(lambda m: m["type"] == "error")
        assert bounce["body"] == "room talk" and errorConditionOf(bounce) == "service-unavailable"
        alice.send_message("nobody@localhost", "hello?", mtype="chat")
        bounce = await alice.nextMessage(lambda m: m["type"] == "error")
        assert bounce["body"] == "hello?" and errorConditionOf(bounce) == "service-unavailable"
        alice.send_message("carol@localhost", "kept", mtype="chat")
        carol = await login(server, "carol@localhost/x")
        first = await carol.nextMessage(lambda m: m["body"])
        assert first["body"] == "kept"
        await carol.close()
        await alice.close()
    run(body())


def test_flexibleRetrieval(server):
    """XEP-0013: count, headers, view and remove; presence afterwards floods nothing."""
    async def body():
        alice = await login(server, "alice@localhost/flex")
        dave = await login(server, "dave@localhost/flex", presence=False)
        for expected, text in enumerate(("one", "two"), 1):
            alice.send_message("dave@localhost", text, mtype="chat")
            await countReaches(dave, expected)  # in this order (see above)
        headers = await dave["xep_0013"].get_headers(timeout=10)
        # slixmpp gives the items as a set; their order is in the XML.
        items = headers.xml.findall(f".//{{{NS_DISCO_ITEMS}}}item")
        assert [i.get("name") for i in items] == ["alice@localhost/flex"] * 2
        assert {i.get("jid") for i in items} == {"dave@localhost"}
        first, second = [i.get("node") for i in items]
        viewed = []
        await dave["xep_0013"].view([second], timeout=10, callback=viewed.append)
        [message] = viewed[0]["offline"]["results"]
        assert message["body"] == "two"
        assert message.xml.find(f"{{{NS_OFFLINE}}}offline/{{{NS_OFFLINE}}}item").get(
            "node") == second
        assertDelayed(message, "alice@localhost/flex")
        await dave["xep_0013"].remove([first], timeout=10)
        dave.send_presence()
        await dave["xep_0199"].ping("localhost", timeout=10)
        assert await count(dave) == 1  # no flood drained the rest
        await dave["xep_0013"].purge(timeout=10)
        assert await count(dave) == 0
        await dave.close()
        await alice.close()
    run(body())


def test_serverAdvertisesOfflineSupport(server):
    """The server's disco#info lists msgoffline (XEP-0160) and XEP-0013's namespace."""
    async def body():
        erin = await login(server, "erin@localhost/disco")
        info = await erin["xep_0030"].get_info("localhost", local=False, timeout=10)
        features = set(info["disco_info"]["features"])
        assert {"msgoffline", "http://jabber.org/protocol/offline"} <= features
        await erin.close()
    run(body())


@pytest.fixture
def ownServer(ownServers):
    """
    Make a jabberd of this module's back end with a database of its own
    (it may be killed), the offline section replaced by C{section}.
    """
    return lambda section=OFFLINE_SECTION: ownServers.make({OFFLINE_SECTION: section})


def test_acceptedMessageSurvivesKill9(ownServer):
    """A message accepted (committed) for an offline user is delivered after kill -9 and restart."""
    proc = ownServer()

    async def send():
        alice = await login(proc, "alice@localhost/crash")
        bob = await login(proc, "bob@localhost/watch", presence=False)
        alice.send_message("bob@localhost", "survives", mtype="chat")
        await countReaches(bob, 1)
        proc.stop(signal.SIGKILL)  # right after it was accepted
        alice.abort()
        bob.abort()

    async def receive():
        bob = await login(proc, "bob@localhost/back")
        message = await bob.nextMessage(lambda m: m["body"])
        assert message["body"] == "survives"
        assertDelayed(message, "alice@localhost/crash")
        await bob.close()

    run(send())
    proc.start()
    run(receive())


def test_outOfProcessStoreWithQuota(ownServer):
    """The store in its own process (config change only) keeps, counts and delivers; its quota bounces."""
    proc = ownServer(OFFLINE_SECTION + "secret = offline-secret\nexternal = yes\nquota = 2\n")
    proc.startComponent("offline.localhost")

    async def body():
        alice = await login(proc, "alice@localhost/out")
        bob = await login(proc, "bob@localhost/out", presence=False)
        for text in ("one", "two", "three"):
            message = alice.make_message("bob@localhost", text, mtype="chat")
            message["id"] = text
            message.send()
        bounce = await alice.nextMessage(lambda m: m["type"] == "error")
        assert errorConditionOf(bounce) == "service-unavailable" and not bounce["body"]
        await countReaches(bob, 2)
        bob.send_presence()
        messages = [await bob.nextMessage(lambda m: m["body"]) for _ in range(2)]
        assert sorted(m["body"] for m in messages) == sorted(
            {"one", "two", "three"} - {bounce["id"]})
        for message in messages:
            assertDelayed(message, "alice@localhost/out")
        assert await count(bob) == 0
        await bob.close()
        await alice.close()
    run(body())
