"""
PEP (XEP-0163) on the XEP-0060 engine, end to end: real jabberd on SQLite
and PostgreSQL, slixmpp's own xep_0060, xep_0163 and xep_0223 plugins, and
raw payloads for what the plugins will not send.
"""

import asyncio
import xml.etree.ElementTree as ET

import pytest
from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0004 import Form
from slixmpp.xmlstream import ElementBase

from tests.integration.clients import Client, run
from tests.integration.harness import ServerProcess

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_EVENT = "http://jabber.org/protocol/pubsub#event"
NS_ERRORS = "http://jabber.org/protocol/pubsub#errors"
NS_DELAY = "urn:xmpp:delay"
NS_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"
DEVICELIST = "eu.siacs.conversations.axolotl.devicelist"
TIMEOUT = 10


class Secret(ElementBase):
    """A private payload for XEP-0223 storage."""

    namespace = "urn:test:secret"
    name = "secret"
    plugin_attrib = "secret"


async def login(server, jid, presence=True):
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=["xep_0060", "xep_0163", "xep_0223", "xep_0077"])
    assert await client.login(server.ports["c2s"], presence=presence)
    return client


def payload(text, ns="urn:test:pep"):
    element = ET.Element(f"{{{ns}}}entry")
    element.text = text
    return element


def options(**fields):
    form = Form()
    form["type"] = "submit"
    form.add_field(var="FORM_TYPE", ftype="hidden", value=NS_OPTIONS)
    for name, value in fields.items():
        form.add_field(var="pubsub#" + name, value=value)
    return form


async def subscribeBoth(one, other):
    """Mutual presence subscription (slixmpp approves and subscribes back by itself)."""
    one.send_presence_subscription(pto=other.boundjid.bare)
    for client, peer in ((other, one), (one, other)):
        await client.nextPresence(lambda p, b=peer.boundjid.bare: p["from"].bare == b
                                  and p["type"] not in ("subscribe", "subscribed", "unavailable"))


async def nextEvent(client, node, kind="items"):
    """The next PubSub event message about C{node} carrying a C{kind} child."""
    def match(message):
        event = message.xml.find(f"{{{NS_EVENT}}}event")
        return event is not None and event.find(f"{{{NS_EVENT}}}{kind}[@node='{node}']") \
            is not None
    message = await client.nextMessage(match)
    return message.xml.find(f"{{{NS_EVENT}}}event/{{{NS_EVENT}}}{kind}")


async def failure(future):
    """The (condition, pubsub#errors condition) of an iq that must fail."""
    with pytest.raises(IqError) as caught:
        await future
    error = caught.value.iq.xml.find("{jabber:client}error")
    app = [child.tag.split("}")[1] for child in error if child.tag.startswith(f"{{{NS_ERRORS}}}")]
    return caught.value.iq["error"]["condition"], (app[0] if app else None)


def itemIds(result):
    return [item["id"] for item in result["pubsub"]["items"]]


async def closeAll(*clients):
    for client in clients:
        await client.close()


def test_publishAutoCreatesAndNotifiesSubscriber(server):
    """A first publish creates the node and names a generated id; an explicit subscriber gets the last item, then each new one."""
    async def body():
        alice = await login(server, "alice@localhost/desk")
        bob = await login(server, "bob@localhost/phone")
        await subscribeBoth(alice, bob)
        node = "urn:test:tune"
        result = await alice["xep_0060"].publish("alice@localhost", node,
                                                 payload=payload("first"), timeout=TIMEOUT)
        firstId = result["pubsub"]["publish"]["item"]["id"]
        assert firstId
        await bob["xep_0060"].subscribe("alice@localhost", node, timeout=TIMEOUT)
        last = await nextEvent(bob, node)
        assert last.find(f"{{{NS_EVENT}}}item").get("id") == firstId
        await alice["xep_0060"].publish("alice@localhost", node, id="second",
                                        payload=payload("second"), timeout=TIMEOUT)
        items = await nextEvent(bob, node)
        item = items.find(f"{{{NS_EVENT}}}item")
        assert item.get("id") == "second"
        assert item.find("{urn:test:pep}entry").text == "second"
        await closeAll(alice, bob)
    run(body())


def test_accountAdvertisesPEP(server):
    """The account's disco#info has the pubsub/pep identity and the features implemented."""
    async def body():
        alice = await login(server, "alice@localhost/disco")
        info = await alice["xep_0030"].get_info(jid="alice@localhost", timeout=TIMEOUT)
        features = set(info["disco_info"]["features"])
        for feature in ("publish", "publish-options", "auto-create", "access-open",
                        "access-presence", "access-whitelist", "retrieve-items", "subscribe"):
            assert f"{NS_PUBSUB}#{feature}" in features
        assert ("pubsub", "pep", None, None) in info["disco_info"]["identities"]
        await alice.close()
    run(body())


def test_itemsRetractPurgeDelete(server):
    """Items by id and max_items, retract notified, purge and delete notified, then item-not-found."""
    async def body():
        alice = await login(server, "alice@localhost/items")
        bob = await login(server, "bob@localhost/items")
        await subscribeBoth(alice, bob)
        pubsub, node = alice["xep_0060"], "urn:test:items"
        for n in range(3):
            await pubsub.publish("alice@localhost", node, id=f"i{n}", payload=payload(str(n)),
                                 options=options(max_items="10"), timeout=TIMEOUT)
        await bob["xep_0060"].subscribe("alice@localhost", node, timeout=TIMEOUT)
        await nextEvent(bob, node)  # the last item, on subscription
        newest = await bob["xep_0060"].get_items("alice@localhost", node, max_items=2,
                                                 timeout=TIMEOUT)
        assert itemIds(newest) == ["i2", "i1"]
        one = await bob["xep_0060"].get_item("alice@localhost", node, "i0", timeout=TIMEOUT)
        assert itemIds(one) == ["i0"]
        await pubsub.retract("alice@localhost", node, "i1", notify=True, timeout=TIMEOUT)
        retracted = await nextEvent(bob, node)
        assert retracted.find(f"{{{NS_EVENT}}}retract").get("id") == "i1"
        left = await alice["xep_0060"].get_items("alice@localhost", node, timeout=TIMEOUT)
        assert itemIds(left) == ["i2", "i0"]
        await pubsub.purge("alice@localhost", node, timeout=TIMEOUT)
        await nextEvent(bob, node, "purge")
        empty = await alice["xep_0060"].get_items("alice@localhost", node, timeout=TIMEOUT)
        assert itemIds(empty) == []
        await pubsub.delete_node("alice@localhost", node, timeout=TIMEOUT)
        await nextEvent(bob, node, "delete")
        assert await failure(bob["xep_0060"].get_items("alice@localhost", node,
                                                       timeout=TIMEOUT)) \
            == ("item-not-found", None)
        await closeAll(alice, bob)
    run(body())


def test_publishOptionsPreconditions(server):
    """Publish-options that match the node publish; ones that differ are precondition-not-met."""
    async def body():
        alice = await login(server, "alice@localhost/options")
        pubsub, node = alice["xep_0060"], "urn:test:options"
        await pubsub.publish("alice@localhost", node, payload=payload("a"),
                             options=options(access_model="open", persist_items="1"),
                             timeout=TIMEOUT)
        await pubsub.publish("alice@localhost", node, payload=payload("b"),
                             options=options(access_model="open", persist_items="true"),
                             timeout=TIMEOUT)
        assert await failure(pubsub.publish(
            "alice@localhost", node, payload=payload("c"),
            options=options(access_model="whitelist"), timeout=TIMEOUT)) \
            == ("conflict", "precondition-not-met")
        config = await pubsub.get_node_config("alice@localhost", node, timeout=TIMEOUT)
        form = config["pubsub_owner"]["configure"]["form"]
        assert form.get_values()["pubsub#access_model"] == "open"
        await alice.close()
    run(body())


def test_accessModels(server):
    """A stranger reads an open node (OMEMO device list) and nothing else; a contact reads presence nodes; whitelist nodes are the owner's."""
    async def body():
        alice = await login(server, "alice@localhost/access")
        bob = await login(server, "bob@localhost/access")
        carol = await login(server, "carol@localhost/access")
        await subscribeBoth(alice, bob)
        devices = ET.Element("{eu.siacs.conversations.axolotl}list")
        ET.SubElement(devices, "{eu.siacs.conversations.axolotl}device", id="1234")
        await alice["xep_0060"].publish("alice@localhost", DEVICELIST, id="current",
                                        payload=devices, options=options(access_model="open"),
                                        timeout=TIMEOUT)
        await alice["xep_0060"].publish("alice@localhost", "urn:test:mood",
                                        payload=payload("happy"), timeout=TIMEOUT)
        await alice["xep_0223"].store(Secret(), node="urn:test:secret", id="current",
                                      timeout=TIMEOUT)
        read = await carol["xep_0060"].get_items("alice@localhost", DEVICELIST, timeout=TIMEOUT)
        assert itemIds(read) == ["current"]
        assert await failure(carol["xep_0060"].get_items(
            "alice@localhost", "urn:test:mood", timeout=TIMEOUT)) \
            == ("not-authorized", "presence-subscription-required")
        mood = await bob["xep_0060"].get_items("alice@localhost", "urn:test:mood",
                                               timeout=TIMEOUT)
        assert len(itemIds(mood)) == 1
        assert await failure(bob["xep_0060"].get_items(
            "alice@localhost", "urn:test:secret", timeout=TIMEOUT)) \
            == ("not-allowed", "closed-node")
        own = await alice["xep_0223"].retrieve("urn:test:secret", timeout=TIMEOUT)
        assert itemIds(own) == ["current"]
        seen = await carol["xep_0030"].get_items(jid="alice@localhost", timeout=TIMEOUT)
        nodes = {node for _jid, node, _name in seen["disco_items"]["items"]}
        assert DEVICELIST in nodes and not nodes & {"urn:test:mood", "urn:test:secret"}
        seen = await bob["xep_0030"].get_items(jid="alice@localhost", timeout=TIMEOUT)
        nodes = {node for _jid, node, _name in seen["disco_items"]["items"]}
        assert {DEVICELIST, "urn:test:mood"} <= nodes and "urn:test:secret" not in nodes
        await closeAll(alice, bob, carol)
    run(body())


def test_publishingToAnotherAccountRefused(server):
    """Only the account publishes to its service: another user gets forbidden."""
    async def body():
        bob = await login(server, "bob@localhost/forge")
        assert await failure(bob["xep_0060"].publish(
            "alice@localhost", "urn:test:forged", payload=payload("x"), timeout=TIMEOUT)) \
            == ("forbidden", None)
        await bob.close()
    run(body())


def test_lastItemWhenContactComesOnline(server):
    """A subscribed contact coming online gets the last item, stamped with its publication time."""
    async def body():
        alice = await login(server, "alice@localhost/online")
        dave = await login(server, "dave@localhost/first")
        await subscribeBoth(alice, dave)
        node = "urn:test:status"
        await alice["xep_0060"].publish("alice@localhost", node, id="s1",
                                        payload=payload("one"), timeout=TIMEOUT)
        await dave["xep_0060"].subscribe("alice@localhost", node, timeout=TIMEOUT)
        await nextEvent(dave, node)
        await dave.close()
        await alice["xep_0060"].publish("alice@localhost", node, id="s2",
                                        payload=payload("two"), timeout=TIMEOUT)
        again = await login(server, "dave@localhost/second")
        message = await again.nextMessage(
            lambda m: m.xml.find(f"{{{NS_EVENT}}}event") is not None)
        assert message.xml.find(f".//{{{NS_EVENT}}}item").get("id") == "s2"
        assert message.xml.find(f"{{{NS_DELAY}}}delay") is not None
        assert message["to"] == "dave@localhost/second"
        await closeAll(alice, again)
    run(body())


def test_limitsRestartAndAccountRemoval(backend, tmp_path):
    """Nodes past max_nodes and items past max_item_size are refused; items survive a restart; removing the account removes its nodes."""
    # Accounts of their own: on PostgreSQL the module's server shares the schema.
    proc = ServerProcess(tmp_path, database=backend,
                         extra="\n[pep]\nmax_nodes = 2\nmax_item_size = 1000\n")
    proc.start()
    try:
        for name in ("nina", "oscar"):
            proc.adduser(name, name + "pw")

        async def before():
            nina = await login(proc, "nina@localhost/limits")
            for n in range(2):
                await nina["xep_0060"].publish("nina@localhost", f"urn:test:n{n}",
                                               id="kept", payload=payload(str(n)),
                                               timeout=TIMEOUT)
            assert await failure(nina["xep_0060"].publish(
                "nina@localhost", "urn:test:n2", payload=payload("x"), timeout=TIMEOUT)) \
                == ("not-allowed", "max-nodes-exceeded")
            assert await failure(nina["xep_0060"].publish(
                "nina@localhost", "urn:test:n1", payload=payload("x" * 2000), timeout=TIMEOUT)) \
                == ("not-acceptable", "payload-too-big")
            await nina.close()
        run(before())
        proc.stop()
        proc.start()

        async def after():
            nina = await login(proc, "nina@localhost/limits")
            kept = await nina["xep_0060"].get_items("nina@localhost", "urn:test:n1",
                                                    timeout=TIMEOUT)
            assert itemIds(kept) == ["kept"]
            await nina["xep_0077"].cancel_registration(timeout=TIMEOUT)
            await asyncio.wait_for(nina.streamErrors.get(), TIMEOUT)
            oscar = await login(proc, "oscar@localhost/limits")
            assert await failure(oscar["xep_0060"].get_items(
                "nina@localhost", "urn:test:n1", timeout=TIMEOUT)) \
                == ("service-unavailable", None)
            await oscar.close()
        run(after())
        proc.adduser("nina", "ninapw")

        async def recreated():
            nina = await login(proc, "nina@localhost/new")
            assert await failure(nina["xep_0060"].get_items(
                "nina@localhost", "urn:test:n1", timeout=TIMEOUT)) == ("item-not-found", None)
            await nina.close()
        run(recreated())
    finally:
        proc.stop()


def rawIq(client, iqType, xml, to=None):
    iq = client.make_iq_set() if iqType == "set" else client.make_iq_get()
    if to:
        iq["to"] = to
    iq.append(ET.fromstring(xml))
    return iq.send(timeout=TIMEOUT)


def test_rawEdgeCases(server):
    """Raw requests the plugins will not send get the XEP-0060 errors; a publish with no 'to' is the account's own."""
    async def body():
        alice = await login(server, "alice@localhost/raw")
        bob = await login(server, "bob@localhost/raw")
        published = await rawIq(alice, "set", f"<pubsub xmlns='{NS_PUBSUB}'>"
                                "<publish node='urn:test:raw'><item id='r1'>"
                                "<x xmlns='urn:test:raw'/></item></publish></pubsub>")
        assert published.xml.find(f".//{{{NS_PUBSUB}}}item").get("id") == "r1"
        own = await alice["xep_0060"].get_item("alice@localhost", "urn:test:raw", "r1",
                                               timeout=TIMEOUT)
        assert itemIds(own) == ["r1"]
        cases = [
            (f"<pubsub xmlns='{NS_PUBSUB}'><publish node='urn:test:raw'><item>"
             "<a xmlns='urn:x'/><b xmlns='urn:x'/></item></publish></pubsub>",
             ("bad-request", "invalid-payload")),
            (f"<pubsub xmlns='{NS_PUBSUB}'><publish node='urn:test:raw'/></pubsub>",
             ("bad-request", "item-required")),
            (f"<pubsub xmlns='{NS_PUBSUB}'><publish><item><a xmlns='urn:x'/></item>"
             "</publish></pubsub>", ("bad-request", "nodeid-required")),
            (f"<pubsub xmlns='{NS_PUBSUB}'><create/></pubsub>",
             ("not-acceptable", "nodeid-required")),
        ]
        for xml, expected in cases:
            assert await failure(rawIq(alice, "set", xml)) == expected
        assert await failure(rawIq(bob, "set", f"<pubsub xmlns='{NS_PUBSUB}'>"
                                   "<subscribe node='urn:test:raw' jid='carol@localhost'/>"
                                   "</pubsub>", to="alice@localhost")) \
            == ("bad-request", "invalid-jid")
        assert await failure(rawIq(bob, "get", f"<pubsub xmlns='{NS_PUBSUB}'>"
                                   "<items node='urn:test:raw'/></pubsub>",
                                   to="localhost")) == ("service-unavailable", None)
        await closeAll(alice, bob)
    run(body())
