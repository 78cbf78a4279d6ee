"""
The session manager's server iqs and stream rules end to end:
real server, slixmpp or raw XML as the client.
"""

import asyncio

import pytest
from slixmpp.exceptions import IqError

from tests.integration.clients import Client, RawStream, run

STREAM_LEGACY = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>")
STREAM = STREAM_LEGACY[:-1] + " version='1.0'>"


async def login(server, jid, password, **kwargs):
    client = Client(jid, password, **kwargs)
    assert await client.login(server.ports["c2s"])
    return client


def test_serverDiscoVersionTimePingLast(server):
    """The server answers disco (listing components), version, time, ping and last."""
    async def body():
        alice = await login(server, "alice@localhost/iq", "alicepw")
        info = await alice["xep_0030"].get_info("localhost")
        features = info["disco_info"]["features"]
        for ns in ("jabber:iq:version", "urn:xmpp:time", "urn:xmpp:ping", "jabber:iq:last",
                   "vcard-temp", "jabber:iq:private"):
            assert ns in features, ns
        assert ("server", "im") in {(i[0], i[1]) for i in info["disco_info"]["identities"]}
        items = await alice["xep_0030"].get_items("localhost")
        jids = {item[0] for item in items["disco_items"]["items"]}
        assert {"conference.localhost", "upload.localhost"} <= jids
        version = await alice.make_iq_get("jabber:iq:version", ito="localhost").send(timeout=10)
        assert "jabberd" in str(version)
        clock = await alice.make_iq_get("urn:xmpp:time", ito="localhost").send(timeout=10)
        assert "<utc>" in str(clock) or "utc" in str(clock)
        await alice["xep_0199"].ping("localhost", timeout=10)
        uptime = await alice.make_iq_get("jabber:iq:last", ito="localhost").send(timeout=10)
        assert int(uptime.xml.find("{jabber:iq:last}query").get("seconds")) >= 0
        await alice.close()
    run(body())


def test_unknownNamespaceAnswered(server):
    """An iq get in an unknown namespace gets service-unavailable with legacy code 503."""
    async def body():
        alice = await login(server, "alice@localhost/ns", "alicepw")
        with pytest.raises(IqError) as error:
            await alice.make_iq_get("urn:example:nothing", ito="localhost").send(timeout=10)
        assert error.value.condition == "service-unavailable"
        assert error.value.iq.xml.find("{jabber:client}error").get("code") == "503"
        await alice.close()
    run(body())


def test_vcardAndPrivateStorage(server):
    """A vCard and private XML are stored, read back, and a vCard is visible to others."""
    async def body():
        bob = await login(server, "bob@localhost/v", "bobpw")
        iq = bob.make_iq_set(ito=None)
        iq.xml.append(_xml("<vCard xmlns='vcard-temp'><FN>Bob Builder</FN></vCard>"))
        await iq.send(timeout=10)
        iq = bob.make_iq_set()
        iq.xml.append(_xml("<query xmlns='jabber:iq:private'>"
                           "<notes xmlns='urn:example:notes'>secret</notes></query>"))
        await iq.send(timeout=10)
        get = bob.make_iq_get()
        get.xml.append(_xml("<query xmlns='jabber:iq:private'><notes xmlns='urn:example:notes'/></query>"))
        assert "secret" in str(await get.send(timeout=10))
        carol = await login(server, "carol@localhost/v", "carolpw")
        get = carol.make_iq_get(ito="bob@localhost")
        get.xml.append(_xml("<vCard xmlns='vcard-temp'/>"))
        assert "Bob Builder" in str(await get.send(timeout=10))
        await bob.close()
        await carol.close()
    run(body())


def _xml(text):
    import xml.etree.ElementTree as ET

    return ET.fromstring(text)


def test_sameResourceReplacesOldSession(server):
    """A second login with the same full JID gets the session; the first gets a conflict stream error."""
    async def body():
        first = await login(server, "erin@localhost/same", "erinpw")
        second = await login(server, "erin@localhost/same", "erinpw")
        error = await asyncio.wait_for(first.streamErrors.get(), 10)
        assert error["condition"] == "conflict"
        await second["xep_0199"].ping("localhost", timeout=10)
        first.abort()
        await second.close()
    run(body())


def test_abruptDisconnectBroadcastsUnavailable(server):
    """When a client's TCP connection just drops, its contacts get unavailable presence."""
    async def body():
        dave = await login(server, "dave@localhost/watch", "davepw")
        frank = await login(server, "frank@localhost/drop", "frankpw")
        await dave.get_roster()
        await frank.get_roster()
        dave.send_presence_subscription("frank@localhost")
        await dave.nextPresence(lambda p: p["from"] == "frank@localhost/drop"
                                and p["type"] == "available")
        frank.transport.abort()
        gone = await dave.nextPresence(lambda p: p["from"] == "frank@localhost/drop"
                                       and p["type"] == "unavailable")
        assert gone is not None
        await dave.close()
    run(body())


def test_legacyAuthOnDirectTLS(server):
    """A jabberd 1.4-era client logs in with jabber:iq:auth over direct TLS and chats."""
    raw = RawStream(server.ports["c2s-tls"], tls=True)
    raw.send(STREAM_LEGACY)
    raw.readUntil(">")
    raw.send("<iq type='get' id='a1'><query xmlns='jabber:iq:auth'><username>carol</username>"
             "</query></iq>")
    fields = raw.readUntil("</iq>")
    assert "<password" in fields and "<resource" in fields
    raw.send("<iq type='set' id='a2'><query xmlns='jabber:iq:auth'><username>carol</username>"
             "<password>carolpw</password><resource>old</resource></query></iq>"
             "<iq type='get' id='a3'><query xmlns='jabber:iq:roster'/></iq>")
    replies = raw.readUntil("jabber:iq:roster").replace('"', "'")
    raw.close()
    assert "id='a2'" in replies and "type='error'" not in replies
    bad = RawStream(server.ports["c2s-tls"], tls=True)
    bad.send(STREAM_LEGACY)
    bad.readUntil(">")
    bad.send("<iq type='set' id='b1'><query xmlns='jabber:iq:auth'><username>carol</username>"
             "<password>wrong</password><resource>x</resource></query></iq>")
    reply = bad.readUntil("</iq>")
    bad.close()
    assert "not-authorized" in reply and "401" in reply


def test_oversizedStanzaPolicyViolation(server):
    """A stanza over max_stanza_size ends only that stream with policy-violation."""
    async def body():
        alice = await login(server, "alice@localhost/big", "alicepw")
        alice.send_message("bob@localhost", "x" * 70000, mtype="chat")
        error = await asyncio.wait_for(alice.streamErrors.get(), 10)
        assert error["condition"] == "policy-violation"
        alice.abort()
        other = await login(server, "bob@localhost/fine", "bobpw")
        await other["xep_0199"].ping("localhost", timeout=10)
        await other.close()
    run(body())


def test_plainRefusedBeforeTLS(server):
    """Before STARTTLS the server requires TLS and offers no authentication."""
    raw = RawStream(server.ports["c2s"])
    raw.send(STREAM)
    features = raw.readUntil("</stream:features>")
    raw.close()
    assert "<required" in features and "starttls" in features
    assert "PLAIN" not in features and "SCRAM" not in features
