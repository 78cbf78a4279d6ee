"""
PEP notifications filtered by entity capabilities (XEP-0163 section 4,
XEP-0115) end to end: slixmpp's xep_0163 announces NODE+notify in its
caps, the server's caps handler verifies them, and PEP notifies without
any explicit subscription.
"""

from tests.integration.clients import Client, run
from tests.integration.test_pep import NS_EVENT, TIMEOUT, closeAll, payload, subscribeBoth

NODE = "urn:test:caps"


async def login(server, jid, interest=(), plugins=("xep_0060", "xep_0163")):
    """
    A client with C{plugins} whose caps advertise NODE+notify for each node
    of C{interest} (what xep_0163's add_interest adds), computed before its
    first presence.
    """
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=list(plugins) + ["xep_0115"])
    assert await client.login(server.ports["c2s"], presence=False)
    for node in interest:
        client["xep_0030"].add_feature(node + "+notify")
    await client["xep_0115"].update_caps(broadcast=False)
    client.send_presence()
    await client.nextPresence(lambda p: p["from"] == client.boundjid)
    return client


def drain(queue):
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def nextItemId(client, node):
    message = await client.nextMessage(
        lambda m: m.xml.find(f"{{{NS_EVENT}}}event/{{{NS_EVENT}}}items[@node='{node}']")
        is not None)
    return message.xml.find(f".//{{{NS_EVENT}}}item").get("id")


def test_notifiedByCaps(server):
    """A contact whose caps want NODE+notify gets the last item on coming online, then each publication; one that does not, nothing."""
    async def body():
        alice = await login(server, "alice@localhost/caps")
        bob = await login(server, "bob@localhost/caps", interest=[NODE])
        carol = await login(server, "carol@localhost/caps")
        await subscribeBoth(alice, bob)
        await subscribeBoth(alice, carol)
        await alice["xep_0060"].publish("alice@localhost", NODE, id="first",
                                        payload=payload("1"), timeout=TIMEOUT)
        await bob.close()
        bob = await login(server, "bob@localhost/caps2", interest=[NODE])
        assert await nextItemId(bob, NODE) == "first"
        await alice["xep_0060"].publish("alice@localhost", NODE, id="second",
                                        payload=payload("2"), timeout=TIMEOUT)
        assert await nextItemId(bob, NODE) == "second"
        # bob heard of it, so the broadcast is done; a ping flushes carol's stream.
        await carol["xep_0199"].ping(jid="localhost", timeout=TIMEOUT)
        assert [m for m in drain(carol.messages)
                if m.xml.find(f"{{{NS_EVENT}}}event") is not None] == []
        await closeAll(alice, bob, carol)
    run(body())
