"""
Message Carbons (XEP-0280) end to end: slixmpp's xep_0280 plugin enables
carbons on two resources of each user and sees the copies it expects,
both ways; private messages and a resource that did not enable get none;
raw XML for what the plugin will not send (a forged carbon, another
account's carbons).  Real jabberd, on SQLite and PostgreSQL.

A resource that must get nothing is checked by a marker: a message sent to
it last.  One stream delivers in order, so if the marker is the first
thing it gets after the exchange, nothing else came.
"""

import asyncio
from xml.etree import ElementTree

from slixmpp.exceptions import IqError

from tests.integration.clients import Client, run

NS_CARBONS = "urn:xmpp:carbons:2"


async def login(server, jid, carbons=True):
    """A logged-in slixmpp client with the carbons plugin, carbons enabled if asked."""
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=["xep_0280", "xep_0297", "xep_0334"])
    client.received, client.sent = asyncio.Queue(), asyncio.Queue()
    client.add_event_handler("carbon_received", client.received.put_nowait)
    client.add_event_handler("carbon_sent", client.sent.put_nowait)
    assert await client.login(server.ports["c2s"])
    if carbons:
        result = await client["xep_0280"].enable(timeout=10)
        assert result["type"] == "result"
    return client


def summary(message):
    """(how it came, body): a message itself, or a received or sent carbon of one."""
    for direction in ("received", "sent"):
        # Looked up in the XML: slixmpp's message["carbon_..."] would add one.
        if message.xml.find(f"{{{NS_CARBONS}}}{direction}") is not None:
            return direction, carbon(message, direction)["body"]
    return "message", message["body"]


async def untilMarker(marker, clients, sender):
    """
    What each of C{clients} got, as L{summary}s, up to a headline (never
    copied) C{marker} that C{sender} sends it last.
    """
    for client in clients:
        sender.send_message(client.boundjid.full, marker, mtype="headline")
    got = []
    for client in clients:
        summaries = []
        while True:
            message = await client.nextMessage()
            if message["type"] == "headline" and message["body"] == marker:
                break
            summaries.append(summary(message))
        got.append(summaries)
    return got


def carbon(message, direction):
    """The forwarded message of a carbon as slixmpp's plugin reads it."""
    return message["carbon_" + direction]


async def nextCarbon(queue):
    return await asyncio.wait_for(queue.get(), 10)


async def closeAll(*clients):
    for client in clients:
        await client.close()


def test_copiesBothWays(server):
    """Each side's other enabled resources get one copy; the originals' recipients and a resource without carbons get none."""
    async def body():
        alice1 = await login(server, "alice@localhost/one")
        alice2 = await login(server, "alice@localhost/two")
        alice3 = await login(server, "alice@localhost/three", carbons=False)
        bob1 = await login(server, "bob@localhost/one")
        bob2 = await login(server, "bob@localhost/two")
        frank = await login(server, "frank@localhost/marker", carbons=False)

        alice1.send_message("bob@localhost/one", "hi bob", mtype="chat")
        copy = await nextCarbon(bob2.received)
        assert copy["from"] == "bob@localhost" and copy["to"] == "bob@localhost/two"
        inner = carbon(copy, "received")
        assert (inner["from"], inner["to"], inner["body"]) == (
            "alice@localhost/one", "bob@localhost/one", "hi bob")
        sent = await nextCarbon(alice2.sent)
        assert sent["from"] == "alice@localhost" and sent["type"] == "chat"
        assert (carbon(sent, "sent")["to"], carbon(sent, "sent")["body"]) == (
            "bob@localhost/one", "hi bob")

        bob2.send_message("alice@localhost/one", "hi alice", mtype="chat")
        assert carbon(await nextCarbon(alice2.received), "received")["from"] == "bob@localhost/two"
        assert carbon(await nextCarbon(bob1.sent), "sent")["body"] == "hi alice"

        # To the bare JID: every resource of top priority gets the message
        # itself, so none gets a copy of it.
        bob1.send_message("alice@localhost", "to all", mtype="chat")
        assert carbon(await nextCarbon(bob2.sent), "sent")["body"] == "to all"

        got = await untilMarker("end", [alice1, alice2, alice3, bob1, bob2], frank)
        assert got == [
            [("message", "hi alice"), ("message", "to all")],
            [("sent", "hi bob"), ("received", "hi alice"), ("message", "to all")],
            [("message", "to all")],
            [("message", "hi bob"), ("sent", "hi alice")],
            [("received", "hi bob"), ("sent", "to all")],
        ]
        await closeAll(alice1, alice2, alice3, bob1, bob2, frank)
    run(body())


def test_privateMessagesNotCopied(server):
    """A message with <private/> and <no-copy/> reaches its recipient, with <private/>, and is copied to no one."""
    async def body():
        carol1 = await login(server, "carol@localhost/one")
        carol2 = await login(server, "carol@localhost/two")
        dave1 = await login(server, "dave@localhost/one")
        dave2 = await login(server, "dave@localhost/two")
        message = carol1.make_message("dave@localhost/one", "just us", mtype="chat")
        message.enable("carbon_private")
        message.enable("no-copy")
        message.send()
        delivered = await dave1.nextMessage(lambda m: m["body"] == "just us")
        assert delivered.xml.find(f"{{{NS_CARBONS}}}private") is not None
        assert await untilMarker("end", [carol1, carol2, dave2], dave1) == [[], [], []]
        await closeAll(carol1, carol2, dave1, dave2)
    run(body())


def test_disableStopsCopies(server):
    """After <disable/> a resource gets no more copies, and a new session starts without carbons."""
    async def body():
        erin1 = await login(server, "erin@localhost/one")
        erin2 = await login(server, "erin@localhost/two")
        frank = await login(server, "frank@localhost/one", carbons=False)
        frank.send_message("erin@localhost/one", "first", mtype="chat")
        assert carbon(await nextCarbon(erin2.received), "received")["body"] == "first"
        result = await erin2["xep_0280"].disable(timeout=10)
        assert result["type"] == "result"
        frank.send_message("erin@localhost/one", "second", mtype="chat")
        assert await untilMarker("m1", [erin2], frank) == [[("received", "first")]]
        await erin2.close()
        erin2 = await login(server, "erin@localhost/two", carbons=False)
        frank.send_message("erin@localhost/one", "third", mtype="chat")
        got = await untilMarker("m2", [erin1, erin2], frank)
        assert got == [[("message", "first"), ("message", "second"), ("message", "third")], []]
        await closeAll(erin1, erin2, frank)
    run(body())


def test_discoAdvertisesCarbons(server):
    """disco#info of the server and of the user's own account lists urn:xmpp:carbons:2."""
    async def body():
        alice = await login(server, "alice@localhost/disco", carbons=False)
        for jid in ("localhost", "alice@localhost"):
            info = await alice["xep_0030"].get_info(jid=jid, timeout=10)
            assert NS_CARBONS in info["disco_info"]["features"], jid
        await alice.close()
    run(body())


async def iqError(iq):
    """The error condition the server answers C{iq} with."""
    try:
        await iq.send(timeout=10)
    except IqError as e:
        return e.iq["error"]["condition"]
    raise AssertionError("the iq was answered with a result")


def test_forgedAndForeignRequestsRefused(server):
    """A carbon forged by one's own resource gets not-acceptable; another's carbons not-allowed; a stray element bad-request."""
    async def body():
        forger = await login(server, "alice@localhost/forger", carbons=False)
        victim = await login(server, "alice@localhost/victim")
        forger.send_raw(
            "<message to='alice@localhost/victim' type='chat' id='forged'>"
            f"<received xmlns='{NS_CARBONS}'><forwarded xmlns='urn:xmpp:forward:0'>"
            "<message xmlns='jabber:client' from='bob@localhost/x' to='alice@localhost/victim' "
            "type='chat'><body>trust me</body></message></forwarded></received></message>")
        error = await forger.nextMessage(lambda m: m["id"] == "forged")
        assert error["type"] == "error" and error["error"]["condition"] == "not-acceptable"
        assert error.xml.find(f"{{{NS_CARBONS}}}received") is None

        other = forger.make_iq_set(ito="bob@localhost")
        other.enable("carbon_enable")
        assert await iqError(other) == "not-allowed"
        stray = forger.make_iq_set()
        stray.xml.append(ElementTree.Element(f"{{{NS_CARBONS}}}sent"))
        assert await iqError(stray) == "bad-request"

        assert await untilMarker("end", [victim], forger) == [[]]
        assert victim.received.empty()
        await closeAll(forger, victim)
    run(body())
