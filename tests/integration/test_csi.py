"""
Client State Indication (XEP-0352) end to end: a real jabberd, slixmpp
clients with slixmpp's own C{xep_0352} plugin, and raw XML for what the
plugin does not send; on SQLite and PostgreSQL.

alice is the inactive client; bob and carol are her mutual contacts.
"""

import asyncio
import base64

from tests.integration.clients import Client, RawStream, run

NS_CSI = "urn:xmpp:csi:0"
STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
QUIET = 0.7  # seconds in which an inactive client must receive nothing


async def login(server, jid):
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=["xep_0352"])
    assert await client.login(server.ports["c2s"])
    await client.get_roster()
    return client


async def befriend(alice, contact):
    """alice and C{contact} subscribe to each other (slixmpp authorizes and subscribes back)."""
    alice.send_presence_subscription(contact.boundjid.bare)
    for _ in range(100):
        if (alice.client_roster[contact.boundjid.bare]["subscription"] == "both"
                and contact.client_roster[alice.boundjid.bare]["subscription"] == "both"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{contact.boundjid.bare} never became a mutual contact")


async def settle(client):
    """A ping answered: everything the client sent before it has been processed (RFC 6120 10.1)."""
    await client["xep_0199"].ping(client.boundjid.domain, timeout=10)


async def setShow(client, show):
    """C{client} broadcasts a presence update and sees its own copy come back."""
    client.send_presence(pshow=show)
    await client.nextPresence(lambda p: p["from"] == client.boundjid and p["show"] == show)


def drain(queue):
    """Everything already in C{queue}."""
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def contactShows(presences, contacts):
    return [(str(p["from"]), p["show"]) for p in presences if p["from"].bare in contacts]


def test_inactiveClientGetsLatestPresenceBeforeMessage(server):
    """
    An inactive client gets no presence updates until a message with a body arrives, then the
    latest presence of that message's sender before it; the other contacts' latest presence
    stays held until <active/>.
    """
    async def body():
        alice = await login(server, "alice@localhost/phone")
        bob = await login(server, "bob@localhost/desk")
        carol = await login(server, "carol@localhost/desk")
        await befriend(alice, bob)
        await befriend(alice, carol)
        assert alice["xep_0352"].enabled  # the server offered <csi/> after authentication
        alice["xep_0352"].send_inactive()
        await settle(alice)
        await asyncio.sleep(0.2)
        drain(alice.presences)

        await setShow(bob, "away")
        await setShow(carol, "xa")
        await setShow(bob, "dnd")
        await asyncio.sleep(QUIET)
        assert drain(alice.presences) == []

        carol.send_message("alice@localhost/phone", "wake up", mtype="chat")
        message = await alice.nextMessage(lambda m: m["body"] == "wake up")
        # slixmpp queues stanzas in arrival order: what came before the message is queued.
        assert contactShows(drain(alice.presences), ("bob@localhost", "carol@localhost")) == [
            ("carol@localhost/desk", "xa")]
        assert message["from"] == "carol@localhost/desk"

        await setShow(bob, "chat")
        await asyncio.sleep(QUIET)
        assert drain(alice.presences) == []
        alice["xep_0352"].send_active()
        await settle(alice)
        assert contactShows(drain(alice.presences), ("bob@localhost",)) == [
            ("bob@localhost/desk", "chat")]
        await setShow(bob, "away")
        await alice.nextPresence(lambda p: p["from"] == bob.boundjid and p["show"] == "away")

        for client in (alice, bob, carol):
            await client.close()
    run(body())


def plainAuth(username, password):
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
    return f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>"


def rawLogin(server, username, resource):
    """A raw direct-TLS stream authenticated and bound; returns (stream, post-auth features)."""
    raw = RawStream(server.ports["c2s-tls"], tls=True)
    raw.send(STREAM)
    before = raw.readUntil("</stream:features>")
    assert NS_CSI not in before  # offered only after authentication (section 4.1)
    raw.send(plainAuth(username, username + "pw"))
    assert "<success" in raw.readUntil("success")
    raw.send(STREAM)
    features = raw.readUntil("</stream:features>")
    raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             f"<resource>{resource}</resource></bind></iq>")
    raw.readUntil("</iq>")
    return raw, features


def test_rawStateElementsGetNoReply(server):
    """Raw <inactive/> and <active/> get no reply; the next iq's answer is the next thing read."""
    raw, features = rawLogin(server, "dave", "raw")
    assert f"<csi xmlns='{NS_CSI}'/>" in features or f'<csi xmlns="{NS_CSI}"/>' in features
    raw.send(f"<inactive xmlns='{NS_CSI}'/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/>"
             f"</iq><active xmlns='{NS_CSI}'/><iq type='get' id='p2'>"
             "<ping xmlns='urn:xmpp:ping'/></iq>")
    reply = raw.readUntil("id='p2'")
    raw.close()
    assert reply.count("<iq") == 2 and "error" not in reply and "csi" not in reply, reply


def test_csiBeforeAuthenticationIsRefused(server):
    """<inactive/> on an unauthenticated stream ends it with unsupported-stanza-type, nothing else."""
    raw = RawStream(server.ports["c2s-tls"], tls=True)
    raw.send(STREAM)
    raw.readUntil("</stream:features>")
    raw.send(f"<inactive xmlns='{NS_CSI}'/>")
    reply = raw.readAll()
    raw.close()
    assert "unsupported-stanza-type" in reply and "</stream:stream>" in reply


def test_unknownCSIElementIsRefused(server):
    """A bound client sending <csi/> (the feature, not a state) gets unsupported-stanza-type."""
    raw, _ = rawLogin(server, "erin", "raw")
    raw.send(f"<csi xmlns='{NS_CSI}'/>")
    reply = raw.readAll()
    raw.close()
    assert "unsupported-stanza-type" in reply
