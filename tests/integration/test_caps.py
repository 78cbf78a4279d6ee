"""
Entity Capabilities (XEP-0115) end to end: a real jabberd, slixmpp clients
with slixmpp's own C{xep_0115} plugin publishing caps in their presence and
answering the server's disco#info, and raw XML for the misbehaving clients
(a wrong hash, a client that never answers).  On SQLite and PostgreSQL.

What the server trusts is seen from outside through its queries: a
verification string it verified and cached is never asked about again,
while one it did not trust is asked of the next client advertising it.  A
client's own presence comes back to it after any query the server sent it
for that presence (one stream, in order), so once a client has seen its own
presence, the queries it got for it are all there.
"""

import asyncio
import base64
import itertools
import re

import pytest
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from tests.integration.clients import Client, RawStream, run
from tests.integration.harness import PostgresSchema, ServerProcess

NS_CAPS = "http://jabber.org/protocol/caps"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
QUICK_TIMEOUT = 2  # [caps] timeout of the second server, seconds
_features = itertools.count(1)


@pytest.fixture(scope="module")
def quickServer(backend, tmp_path_factory):
    """A second jabberd, on its own database, that gives up on a disco#info after 2 s."""
    schema = PostgresSchema().create() if backend else None
    proc = ServerProcess(tmp_path_factory.mktemp("jabberd-quick"),
                         database=schema.url() if schema else None,
                         extra=f"\n[caps]\ntimeout = {QUICK_TIMEOUT}\n")
    proc.start()
    for name in ("dave", "erin", "frank"):
        proc.adduser(name, name + "pw")
    yield proc
    proc.stop()
    if schema:
        schema.drop()


def uniqueFeature():
    """A feature no other test's clients advertise: a verification string of this test's own."""
    return f"urn:test:caps:{next(_features)}+notify"


async def capsClient(server, jid, feature, presence=True):
    """
    A logged-in slixmpp client with xep_0115 advertising C{feature} too;
    C{capsQueries} collects the disco#info gets of a caps node the server sends it.
    """
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=["xep_0115"])
    client.capsQueries = []

    def counted(iq):
        node = iq["disco_info"]["node"] or ""
        if iq["type"] == "get" and iq["from"] == "localhost" and "#" in node:
            client.capsQueries.append(node)

    client.register_handler(Callback("caps queries", MatchXPath(
        f"{{jabber:client}}iq/{{{NS_DISCO_INFO}}}query"), counted))
    assert await client.login(server.ports["c2s"], presence=False)
    client["xep_0030"].add_feature(feature)
    await client["xep_0115"].update_caps(broadcast=False)
    if presence:
        await announce(client)
    return client


async def announce(client):
    """Send presence (with caps, by the plugin) and wait for it to come back."""
    client.send_presence()
    await client.nextPresence(lambda p: p["from"] == client.boundjid)


async def ownCaps(client):
    """The (node, ver) the plugin puts in C{client}'s presence."""
    return client["xep_0115"].caps_node, await client["xep_0115"].get_verstring()


async def eventually(predicate, limit=100):
    """Wait, in 0.1 s steps up to C{limit}, until C{predicate()} is true; return it."""
    for _ in range(limit):
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


async def closeAll(*clients):
    for client in clients:
        await client.close()


# --- raw XML ---


def rawLogin(server, username, resource):
    """A raw direct-TLS stream authenticated and bound: (stream, post-authentication features)."""
    raw = RawStream(server.ports["c2s-tls"], tls=True)
    raw.send(STREAM)
    raw.readUntil("</stream:features>")
    token = base64.b64encode(f"\0{username}\0{username}pw".encode()).decode()
    raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
    assert "<success" in raw.readUntil("success")
    raw.send(STREAM)
    features = raw.readUntil("</stream:features>")
    raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             f"<resource>{resource}</resource></bind></iq>")
    raw.readUntil("</iq>")
    return raw, features


def rawCapsPresence(raw, node, ver):
    """Send presence with caps and read up to the disco#info query it brings: (id, node)."""
    raw.send(f"<presence><c xmlns='{NS_CAPS}' hash='sha-1' node='{node}' ver='{ver}'/></presence>")
    text = raw.readUntil(f"{node}#{ver}")
    text += raw.readUntil("</iq>") if "</iq>" not in text.split(f"{node}#{ver}", 1)[1] else ""
    match = re.search(r"<iq [^>]*type=.get[^>]*>", text)
    assert match, text
    ident = re.search(r"id=.([^'\"]+)", match.group(0)).group(1)
    return ident, f"{node}#{ver}"


# --- tests ---


def test_serverCapsInStreamFeatures(server):
    """The features after authentication carry the server's caps; slixmpp's plugin verifies them against the server's disco#info."""
    raw, features = rawLogin(server, "alice", "features")
    raw.close()
    match = re.search(r"<c xmlns=.http://jabber.org/protocol/caps.[^>]*>", features)
    assert match, features
    ver = re.search(r"ver=.([^'\"]+)", match.group(0)).group(1)
    assert "hash='sha-1'" in match.group(0) or 'hash="sha-1"' in match.group(0)

    async def body():
        client = Client("alice@localhost/caps", "alicepw", plugins=["xep_0115"])
        assert await client.login(server.ports["c2s"])
        verified = client["xep_0115"].get_verstring

        async def check():
            return await verified("localhost")

        for _ in range(100):
            if await check():
                break
            await asyncio.sleep(0.1)
        assert await check() == ver
        info = await client["xep_0030"].get_info(jid="localhost", timeout=10)
        assert NS_CAPS in info["disco_info"]["features"]
        assert client["xep_0115"].generate_verstring(info["disco_info"], "sha-1") == ver
        await client.close()
    run(body())


def test_oneQueryPerVer(server):
    """Two resources advertising one ver get one disco#info between them; a later client with that ver gets none."""
    async def body():
        feature = uniqueFeature()
        one = await capsClient(server, "alice@localhost/one", feature, presence=False)
        two = await capsClient(server, "alice@localhost/two", feature, presence=False)
        assert await ownCaps(one) == await ownCaps(two)
        await asyncio.gather(announce(one), announce(two))
        queries = one.capsQueries + two.capsQueries
        node, ver = await ownCaps(one)
        assert queries == [f"{node}#{ver}"]
        # The answer is cached for every user: bob's client is not asked.
        bob = await capsClient(server, "bob@localhost/one", feature)
        assert bob.capsQueries == []
        # Another ver is asked about, once.
        other = await capsClient(server, "bob@localhost/other", uniqueFeature())
        assert len(other.capsQueries) == 1
        await closeAll(one, two, bob, other)
    run(body())


def test_wrongHashNotTrusted(server):
    """An answer that does not hash to the ver is not cached: the next client advertising it is asked, and its right answer is."""
    async def body():
        feature = uniqueFeature()
        honest = await capsClient(server, "carol@localhost/honest", feature, presence=False)
        node, ver = await ownCaps(honest)
        liar, _ = rawLogin(server, "dave", "liar")
        ident, queried = rawCapsPresence(liar, node, ver)
        liar.send(f"<iq type='result' id='{ident}' to='localhost'>"
                  f"<query xmlns='{NS_DISCO_INFO}' node='{queried}'>"
                  "<identity category='client' type='pc'/>"
                  f"<feature var='{NS_DISCO_INFO}'/><feature var='{feature}'/></query></iq>")
        # The server reads the liar's stream in order: once the ping is
        # answered, the wrong answer has been processed.
        liar.send("<iq type='get' id='after' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert "after" in liar.readUntil("after")
        await announce(honest)
        assert honest.capsQueries == [queried]
        cached = await capsClient(server, "erin@localhost/cached", feature)
        assert cached.capsQueries == []
        assert "not trusted" in server.logText(200000)
        liar.close()
        await closeAll(honest, cached)
    run(body())


def test_legacyCapsIgnored(server):
    """Caps without a hash attribute (the legacy format) bring no disco#info query."""
    async def body():
        frank = Client("frank@localhost/legacy", "frankpw")
        frank.capsQueries = []
        frank.register_handler(Callback("queries", MatchXPath(
            f"{{jabber:client}}iq/{{{NS_DISCO_INFO}}}query"),
            lambda iq: iq["from"] == "localhost" and frank.capsQueries.append(iq)))
        assert await frank.login(server.ports["c2s"], presence=False)
        frank.send_raw(f"<presence><c xmlns='{NS_CAPS}' node='http://example.org/legacy' "
                       "ver='1.0' ext='voice'/></presence>")
        await frank.nextPresence(lambda p: p["from"] == frank.boundjid)
        assert frank.capsQueries == []
        await frank.close()
    run(body())


def test_silentClientBounded(quickServer):
    """A client that never answers holds its ver only until the timeout; the next client with it is then asked, and others are served meanwhile."""
    async def body():
        feature = uniqueFeature()
        erin = await capsClient(quickServer, "erin@localhost/next", feature, presence=False)
        node, ver = await ownCaps(erin)
        silent, _ = rawLogin(quickServer, "dave", "silent")
        rawCapsPresence(silent, node, ver)  # read, never answered
        await announce(erin)
        # Meanwhile another user's caps are asked about and the server serves chat.
        frank = await capsClient(quickServer, "frank@localhost/other", uniqueFeature())
        assert len(frank.capsQueries) == 1
        frank.send_message("erin@localhost/next", "still here", mtype="chat")
        assert (await erin.nextMessage(lambda m: m["body"]))["body"] == "still here"
        # After the timeout the ver is asked of erin, who answers: cached.
        assert await eventually(lambda: erin.capsQueries == [f"{node}#{ver}"])
        later = await capsClient(quickServer, "frank@localhost/later", feature)
        assert await eventually(lambda: "not trusted" in quickServer.logText(200000))
        assert later.capsQueries == []
        silent.close()
        await closeAll(erin, frank, later)
    run(body())
