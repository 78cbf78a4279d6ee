"""
The core server end to end: real jabberd process, real clients
(slixmpp over STARTTLS or direct TLS, raw XML for bad input), on SQLite and
PostgreSQL.
"""

import asyncio
import hashlib

from tests.integration.clients import Client, RawStream, assertRosterPushReaches, run

STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")


def test_scramLoginBothHashes(server):
    """Clients log in over STARTTLS with SCRAM-SHA-1 and SCRAM-SHA-256 and get bound JIDs."""
    async def body():
        for mechanism in ("SCRAM-SHA-1", "SCRAM-SHA-256"):
            client = Client("alice@localhost/" + mechanism, "alicepw", mechanism)
            assert await client.login(server.ports["c2s"])
            assert client.boundjid.full == "alice@localhost/" + mechanism
            await client.close()
    run(body())


def test_directTLSLogin(server):
    """A client logs in on the direct TLS port (XEP-0368)."""
    async def body():
        client = Client("bob@localhost/direct", "bobpw", directTLS=True)
        assert await client.login(server.ports["c2s-tls"])
        await client.close()
    run(body())


def test_wrongPasswordFailsCleanly(server):
    """A wrong password is refused and the right one still works afterwards."""
    async def body():
        bad = Client("carol@localhost/x", "wrong")
        assert not await bad.login(server.ports["c2s"])
        bad.abort()
        good = Client("carol@localhost/x", "carolpw")
        assert await good.login(server.ports["c2s"])
        await good.close()
    run(body())


def test_subscribePresenceAndChat(server):
    """Two users subscribe both ways, see presence, and chat to full and bare JIDs."""
    async def body():
        dave = Client("dave@localhost/desk", "davepw")
        erin = Client("erin@localhost/phone", "erinpw")
        assert await dave.login(server.ports["c2s"])
        assert await erin.login(server.ports["c2s"])
        await dave.get_roster()
        await erin.get_roster()
        dave.send_presence_subscription("erin@localhost")
        # slixmpp auto-authorizes and subscribes back, so both sides end at 'both'.
        await erin.nextPresence(lambda p: p["type"] == "available" and p["from"].bare == "dave@localhost")
        await dave.nextPresence(lambda p: p["type"] == "available" and p["from"].bare == "erin@localhost")
        for _ in range(50):
            if (dave.client_roster["erin@localhost"]["subscription"] == "both"
                    and erin.client_roster["dave@localhost"]["subscription"] == "both"):
                break
            await asyncio.sleep(0.1)
        assert dave.client_roster["erin@localhost"]["subscription"] == "both"
        assert erin.client_roster["dave@localhost"]["subscription"] == "both"

        dave.send_message("erin@localhost/phone", "to full", mtype="chat")
        message = await erin.nextMessage(lambda m: m["body"] == "to full")
        assert message["from"] == "dave@localhost/desk"
        erin.send_message("dave@localhost", "to bare", mtype="chat")
        message = await dave.nextMessage(lambda m: m["body"] == "to bare")
        assert message["from"] == "erin@localhost/phone"

        await erin.close()
        gone = await dave.nextPresence(lambda p: p["from"] == "erin@localhost/phone"
                                       and p["type"] == "unavailable")
        assert gone is not None
        await dave.close()
    run(body())


def test_rosterPushToSecondResource(server):
    """A roster change made by one resource is pushed to the user's other resource."""
    async def body():
        first = Client("frank@localhost/one", "frankpw")
        second = Client("frank@localhost/two", "frankpw")
        assert await first.login(server.ports["c2s"])
        assert await second.login(server.ports["c2s"])
        await assertRosterPushReaches(first, second)
        await first.close()
        await second.close()
    run(body())


def test_malformedXmlDoesNotDisturbOthers(server):
    """Malformed XML gets not-well-formed and the connection closes; others keep chatting."""
    async def body():
        alice = Client("alice@localhost/m", "alicepw")
        bob = Client("bob@localhost/m", "bobpw")
        assert await alice.login(server.ports["c2s"])
        assert await bob.login(server.ports["c2s"])
        raw = RawStream(server.ports["c2s"])
        raw.send(STREAM + "<message><body>unterminated</mess>")
        reply = await asyncio.get_running_loop().run_in_executor(None, raw.readAll)
        raw.close()
        assert "not-well-formed" in reply and "</stream:stream>" in reply
        alice.send_message("bob@localhost/m", "still here", mtype="chat")
        assert (await bob.nextMessage(lambda m: m["body"] == "still here"))["from"] == "alice@localhost/m"
        await alice.close()
        await bob.close()
    run(body())


def test_doctypeRefused(server):
    """A DTD in the stream is refused with a stream error."""
    raw = RawStream(server.ports["c2s"])
    raw.send("<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY x 'y'>]>" + STREAM[21:])
    reply = raw.readAll()
    raw.close()
    assert "restricted-xml" in reply or "not-well-formed" in reply


def test_stanzaBeforeAuthRefused(server):
    """A message before authentication gets the not-authorized stream error."""
    raw = RawStream(server.ports["c2s-tls"], tls=True)
    raw.send(STREAM)
    raw.readUntil("</stream:features>")
    raw.send("<message to='bob@localhost'><body>sneaky</body></message>")
    reply = raw.readAll()
    raw.close()
    assert "not-authorized" in reply


def _handshake(raw, secret):
    header = raw.readUntil(">")
    streamId = header.split(" id='", 1)[1].split("'", 1)[0] if " id='" in header else \
        header.split(' id="', 1)[1].split('"', 1)[0]
    digest = hashlib.sha1((streamId + secret).encode()).hexdigest()
    raw.send(f"<handshake>{digest}</handshake>")
    return raw.readUntil("handshake")


COMPONENT_STREAM = ("<stream:stream xmlns='jabber:component:accept' "
                    "xmlns:stream='http://etherx.jabber.org/streams' to='echo.localhost'>")


def test_componentWrongSecret(server):
    """A component with a wrong secret gets not-authorized and is disconnected."""
    raw = RawStream(server.ports["components"])
    raw.send(COMPONENT_STREAM)
    reply = _handshake(raw, "wrong") + raw.readAll()
    raw.close()
    assert "not-authorized" in reply


def test_componentExchangesMessages(server):
    """An external component connects with its secret and exchanges messages with a client."""
    async def body():
        loop = asyncio.get_running_loop()
        raw = RawStream(server.ports["components"])
        raw.send(COMPONENT_STREAM)
        reply = await loop.run_in_executor(None, _handshake, raw, "echo-secret")
        assert "<handshake" in reply and "error" not in reply
        alice = Client("alice@localhost/comp", "alicepw")
        assert await alice.login(server.ports["c2s"])
        alice.send_message("bot@echo.localhost", "ping component", mtype="chat")
        received = await loop.run_in_executor(None, raw.readUntil, "ping component")
        assert "alice@localhost/comp" in received
        raw.send("<message from='bot@echo.localhost' to='alice@localhost/comp' type='chat'>"
                 "<body>pong client</body></message>")
        message = await alice.nextMessage(lambda m: m["body"] == "pong client")
        assert message["from"] == "bot@echo.localhost"
        raw.send("<message from='admin@localhost' to='alice@localhost/comp' type='chat'>"
                 "<body>spoofed</body></message>")
        alice.send_message("bot@echo.localhost", "after spoof", mtype="chat")
        received = await loop.run_in_executor(None, raw.readUntil, "after spoof")
        raw.close()
        await alice.close()
        while not alice.messages.empty():
            assert alice.messages.get_nowait()["body"] != "spoofed"
    run(body())
