"""
Hardening of what strangers can make the server store (issue 14, items 7, 8
and 10), against the real server on SQLite and PostgreSQL: waiting
subscription requests are bounded per account and kept small, offline
messages are bounded in bytes, upload slots are bounded for all accounts
together, and presence floods to a room's bare address
do not grow the server's memory.  An honest client's ping stays answered
within 2 s meanwhile.
"""

import asyncio
import hashlib
from xml.etree import ElementTree

import pytest
from slixmpp.exceptions import IqError

from tests.integration.clients import Client, RawStream, run
from tests.integration.harness import ServerProcess
from tests.integration.watch import pingWithin, rawLogin, rewriteConfig, serverRSS, startServer

MAX_PENDING = 5
QUOTA_BYTES = 100 * 1024
COMPONENT_STREAM = ("<stream:stream xmlns='jabber:component:accept' "
                    "xmlns:stream='http://etherx.jabber.org/streams' to='echo.localhost'>")


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    """A jabberd with small store bounds and no input shaping; accounts alice, bob and carol."""
    proc = ServerProcess(tmp_path_factory.mktemp("stores"), database=backend,
                         extra=f"[presence]\nmax_pending_subscriptions = {MAX_PENDING}\n")
    rewriteConfig(proc, {"delegate = http://jabber.org/protocol/offline\n":
                         f"delegate = http://jabber.org/protocol/offline\nquota_bytes = {QUOTA_BYTES}\n",
                         "[c2s]\n": "[c2s]\ninput_rate = 0\n"})  # floods arrive at once
    proc.start()
    for name in ("alice", "bob", "carol"):
        proc.adduser(name, name + "pw")
    yield proc
    proc.stop()


def component(server):
    """A raw XEP-0114 stream for echo.localhost, handshake done."""
    raw = RawStream(server.ports["components"])
    raw.send(COMPONENT_STREAM)
    header = raw.readUntil(">")
    streamId = header.split("id=", 1)[1][1:].split(header.split("id=", 1)[1][0], 1)[0]
    raw.send(f"<handshake>{hashlib.sha1((streamId + 'echo-secret').encode()).hexdigest()}"
             "</handshake>")
    assert "<handshake" in raw.readUntil("handshake")
    return raw


def test_subscriptionRequestsBounded(server):
    """Requests past the bound are refused; the kept ones arrive small at login."""
    raw = component(server)
    junk = "<x xmlns='urn:example:junk'>" + "j" * 30000 + "</x>"
    for n in range(MAX_PENDING + 3):
        raw.send(f"<presence from='s{n}@echo.localhost' to='bob@localhost' type='subscribe'>"
                 f"<status>let me in {n}</status>{junk}</presence>")
    replies = ""
    while replies.count("resource-constraint") < 3:
        more = raw.readUntil("</presence>")
        if not more:
            break
        replies += more
    assert replies.count("<resource-constraint") == 3

    async def body():
        bob = Client("bob@localhost/login", "bobpw")
        bob.auto_authorize = None  # leave the requests waiting
        assert await bob.login(server.ports["c2s"])
        requests = [await bob.nextPresence(lambda p: p["type"] == "subscribe")
                    for _ in range(MAX_PENDING)]
        assert {p["from"].bare for p in requests} == {f"s{n}@echo.localhost"
                                                      for n in range(MAX_PENDING)}
        assert all(len(str(p)) < 1000 and "let me in" in p["status"] for p in requests)
        await pingWithin(bob)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(bob.nextPresence(lambda p: p["type"] == "subscribe"), 1)
        await bob.close()
    try:
        run(body())
    finally:
        raw.close()


def test_offlineQuotaInBytes(server):
    """Messages past the account's bytes bounce service-unavailable; the ones that fit arrive."""
    async def body():
        alice = Client("alice@localhost/sender", "alicepw")
        assert await alice.login(server.ports["c2s"])
        text = "b" * 30000
        for n in range(5):
            alice.send_message("carol@localhost", f"{n} {text}", mtype="chat")
        bounces = [await alice.nextMessage(lambda m: m["type"] == "error") for _ in range(2)]
        assert {m["error"]["condition"] for m in bounces} == {"service-unavailable"}
        await pingWithin(alice)
        carol = Client("carol@localhost/back", "carolpw")
        assert await carol.login(server.ports["c2s"])
        kept = [await carol.nextMessage(lambda m: m["body"]) for _ in range(3)]
        assert sorted(m["body"][0] for m in kept) == ["0", "1", "2"]
        await carol.close()
        await alice.close()
    run(body())


def test_offlineFloodCostsNeitherEchoNorMemory(server):
    """200 messages of 60 KB to a full spool bounce without their payload; server memory and pings stay bounded."""
    raw = rawLogin(server.ports["c2s-tls"], "bob", "bobpw", "flood")
    body = "f" * 60000

    def flood():
        for n in range(200):
            raw.send(f"<message to='carol@localhost' type='chat' id='f{n}'><body>{body}</body>"
                     "</message>")
        received = ""
        while received.count("<message") < 195:  # the spool keeps one 60 KB message at most
            more = raw.readUntil("</message>", limit=10 ** 6)
            if not more:
                break
            received += more
        return received

    async def body_():
        alice = Client("alice@localhost/honest", "alicepw")
        assert await alice.login(server.ports["c2s"])
        before = serverRSS(server)
        flooding = asyncio.get_running_loop().run_in_executor(None, flood)
        while not flooding.done():
            await pingWithin(alice)
            await asyncio.sleep(0.2)
        received = await flooding
        await pingWithin(alice)
        grown = serverRSS(server) - before
        await alice.close()
        return received, grown

    try:
        received, grown = run(body_())
    finally:
        raw.close()
    bounces = received.count("type='error'") + received.count('type="error"')
    assert bounces >= 195, bounces  # the quota keeps one 60 KB message at most
    assert len(received) < 200 * 1000, len(received)  # echoing the bodies was 12 MB
    assert grown < 40 * 1024 * 1024, grown  # 12 MB went through; freed buffers wait for the trim


def test_legacyRoomPresenceFloodBounded(server):
    """Presences from 1500 senders to a room's bare address do not keep their 30 MB."""
    raw = component(server)
    status = "s" * 20000

    def flood():
        for n in range(1500):
            raw.send(f"<presence from='u{n}@echo.localhost/r' to='lounge@conference.localhost'>"
                     f"<status>{status}</status></presence>")
        # an iq the conference answers only after every presence before it
        raw.send("<iq type='get' id='fence' from='u0@echo.localhost/r' "
                 "to='conference.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/>"
                 "</iq>")
        return raw.readUntil("fence", limit=10 ** 7)

    async def body():
        alice = Client("alice@localhost/honest", "alicepw")
        assert await alice.login(server.ports["c2s"])
        before = serverRSS(server)
        loop = asyncio.get_running_loop()
        flooding = loop.run_in_executor(None, flood)
        while not flooding.done():
            await pingWithin(alice)
            await asyncio.sleep(0.2)
        assert "fence" in await flooding
        await pingWithin(alice)
        grown = serverRSS(server) - before
        assert grown < 15 * 1024 * 1024, grown
        await alice.close()
    try:
        run(body())
    finally:
        raw.close()


NS_UPLOAD = "urn:xmpp:http:upload:0"


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    """An upload component whose accounts may keep 1 MB in all (item 10)."""
    proc = startServer(tmp_path_factory, users=("alice", "bob", "carol"),
                       **{"component:upload.localhost": {"quota_total": 1048576}})
    yield proc
    proc.stop()


async def _slot(client, n, size):
    """The condition a slot request of C{size} bytes gets, or 'result'."""
    iq = client.make_iq_get(ito="upload.localhost")
    iq.append(ElementTree.Element(f"{{{NS_UPLOAD}}}request",
                                  {"filename": f"f{n}.bin", "size": str(size),
                                   "content-type": "application/octet-stream"}))
    try:
        await iq.send(timeout=10)
        return "result"
    except IqError as e:
        return e.iq["error"]["condition"]


def test_uploadSlotsBoundedForAllAccountsTogether(uploads):
    """Slot requests from several accounts stop at quota_total (resource-constraint), each account under its own quota; pings stay fast."""
    async def main():
        alice = Client("alice@localhost/up", "alicepw")
        bob = Client("bob@localhost/up", "bobpw")
        honest = Client("carol@localhost/ping", "carolpw")
        for client in (alice, bob, honest):
            assert await client.login(uploads.ports["c2s"])
        answers = []
        for n in range(10):
            answers.append(await _slot(alice if n % 2 else bob, n, 200 * 1024))
            await pingWithin(honest)
        assert answers[:5] == ["result"] * 5
        assert answers[5:] == ["resource-constraint"] * 5
        for client in (alice, bob, honest):
            await client.close()
    run(main())
