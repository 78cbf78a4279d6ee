"""
Federation end to end (RFC 6120 section 10.4, XEP-0220): two real jabberd
processes, a.test and b.test, each told where the other listens by
C{[s2s] hosts}; slixmpp users on both sides chat and subscribe across, over
STARTTLS and dialback.  Raw streams check what a peer may not do.
"""

import ssl

import pytest

from tests.integration.clients import Client, RawStream, insecureContext, run
from tests.integration.harness import ServerProcess
from tests.ports import freePort, refusingPort

S2S = """
[s2s]
listen = tcp:{port}:interface=127.0.0.1
hosts = {other}=127.0.0.1:{otherPort} conference.{other}=127.0.0.1:{otherPort}
        nowhere.test=127.0.0.1:{deadPort}
connect_timeout = 5
; the peers listen on loopback, which is not dialed by default
allowed_networks = 127.0.0.0/8
"""


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    """
    Servers a.test and b.test that know each other, with users alice@a.test
    and bob@b.test, and carol@a.test and dave@b.test, who have no roster
    state from the other tests.
    """
    # Each configuration names the other's port, so both are chosen before
    # either server starts (outside the ephemeral range: no other process
    # is given them meanwhile); nowhere.test's port refuses while held.
    portA, portB = freePort(), freePort()
    deadSocket, dead = refusingPort()
    a = ServerProcess(tmp_path_factory.mktemp("a"), domain="a.test",
                      extra=S2S.format(port=portA, other="b.test", otherPort=portB,
                                       deadPort=dead))
    b = ServerProcess(tmp_path_factory.mktemp("b"), domain="b.test",
                      extra=S2S.format(port=portB, other="a.test", otherPort=portA,
                                       deadPort=dead))
    a.start()
    b.start()
    a.adduser("alice", "alicepw")
    b.adduser("bob", "bobpw")
    a.adduser("carol", "carolpw")
    b.adduser("dave", "davepw")
    yield a, b
    a.stop()
    b.stop()
    deadSocket.close()


async def loginBoth(federation, resource, plugins=(), users=("alice", "bob")):
    """C{users} (alice@a.test and bob@b.test), each logged in to their own server."""
    a, b = federation
    alice = Client(f"{users[0]}@a.test/{resource}", users[0] + "pw", plugins=plugins)
    bob = Client(f"{users[1]}@b.test/{resource}", users[1] + "pw", plugins=plugins)
    assert await alice.login(a.ports["c2s"])
    assert await bob.login(b.ports["c2s"])
    return alice, bob


def test_chatAcrossServers(federation):
    """alice@a.test and bob@b.test exchange messages both ways through s2s."""
    async def body():
        alice, bob = await loginBoth(federation, "home")
        alice.send_message(mto="bob@b.test/home", mbody="hello from a", mtype="chat")
        got = await bob.nextMessage(lambda m: m["body"] == "hello from a")
        assert got["from"].full == "alice@a.test/home"
        bob.send_message(mto="alice@a.test/home", mbody="hello from b", mtype="chat")
        back = await alice.nextMessage(lambda m: m["body"] == "hello from b")
        assert back["from"].full == "bob@b.test/home"
        await alice.close()
        await bob.close()
    run(body())


def test_subscriptionAcrossServers(federation):
    """A subscription request and its approval cross servers; then presence flows (RFC 6121 3.1)."""
    async def body():
        alice, bob = await loginBoth(federation, "sub")
        alice.send_presence(pto="bob@b.test", ptype="subscribe")
        request = await bob.nextPresence(lambda p: p["type"] == "subscribe")
        assert request["from"].bare == "alice@a.test"
        bob.send_presence(pto="alice@a.test", ptype="subscribed")
        await alice.nextPresence(lambda p: p["type"] == "subscribed")
        bob.send_presence(pstatus="across")
        seen = await alice.nextPresence(lambda p: p["from"].bare == "bob@b.test"
                                        and p["status"] == "across")
        assert seen["from"].full == "bob@b.test/sub"
        await alice.close()
        await bob.close()
    run(body())


def test_presenceNotSentToBlockedRemoteContact(federation):
    """While carol@a.test blocks dave@b.test (XEP-0191), her presence updates do not cross to him; after unblocking they do."""
    async def body():
        # Accounts of their own: alice's roster already has bob after
        # test_subscriptionAcrossServers (slixmpp's automatic answers make
        # it "both" when they cross in time), and a request from a contact
        # with "from" is answered by the server, never shown (RFC 6121
        # section 3.1.3).  The test answers for itself.
        carol, dave = await loginBoth(federation, "blk", plugins=("xep_0191",),
                                      users=("carol", "dave"))
        for client in (carol, dave):
            client.auto_authorize = None
            client.auto_subscribe = False
        dave.send_presence(pto="carol@a.test", ptype="subscribe")
        await carol.nextPresence(lambda p: p["type"] == "subscribe")
        carol.send_presence(pto="dave@b.test", ptype="subscribed")
        carol.send_presence(pstatus="before")
        await dave.nextPresence(lambda p: p["from"].bare == "carol@a.test"
                                and p["status"] == "before")
        await carol["xep_0191"].block("dave@b.test", timeout=10)
        carol.send_presence(pstatus="while blocked")
        # Section 3.3.1: the block's own unavailable crosses.
        await dave.nextPresence(lambda p: p["from"].bare == "carol@a.test"
                                and p["type"] == "unavailable")
        await carol["xep_0191"].unblock("dave@b.test", timeout=10)
        carol.send_presence(pstatus="after")
        # Section 3.4: the unblocked subscriber gets the current presence,
        # then the next update.  One s2s stream carries all of it in order,
        # so an update sent while blocked would show here as a second
        # "while blocked" before "after" (no fixed wait for it to cross).
        shown = []
        while "after" not in shown:
            presence = await dave.nextPresence(lambda p: p["from"].bare == "carol@a.test"
                                               and p["type"] == "available")
            shown.append(presence["status"])
        assert shown == ["while blocked", "after"], shown
        await carol.close()
        await dave.close()
    run(body())


def test_roomWithRemoteOccupant(federation):
    """bob@b.test joins a room on conference.a.test and chats with alice there (XEP-0045 over s2s)."""
    async def body():
        alice, bob = await loginBoth(federation, "muc", plugins=["xep_0045", "xep_0004"])
        room = "lounge@conference.a.test"
        await alice["xep_0045"].join_muc_wait(room, "Alice", timeout=10)
        form = await alice["xep_0045"].get_room_config(room)
        await alice["xep_0045"].set_room_config(room, form)
        await bob["xep_0045"].join_muc_wait(room, "Bob", timeout=10)
        joined = await alice.nextPresence(lambda p: p["from"].full == room + "/Bob")
        assert joined["type"] != "unavailable"
        bob.send_message(room, "hello from b.test", mtype="groupchat")
        said = await alice.nextMessage(lambda m: m["body"] == "hello from b.test")
        assert said["from"].full == room + "/Bob"
        alice.send_message(room, "welcome", mtype="groupchat")
        echo = await bob.nextMessage(lambda m: m["body"] == "welcome")
        assert echo["from"].full == room + "/Alice"
        await alice.close()
        await bob.close()
    run(body())


def test_unreachableServerBounces(federation):
    """A message to a domain whose server does not answer bounces with remote-server-not-found."""
    a, _ = federation

    async def body():
        alice = Client("alice@a.test/bounce", "alicepw")
        assert await alice.login(a.ports["c2s"])
        alice.send_message(mto="someone@nowhere.test", mbody="anyone?", mtype="chat")
        error = await alice.nextMessage(lambda m: m["type"] == "error")
        assert error["error"]["condition"] == "remote-server-not-found"
        assert error["from"].bare == "someone@nowhere.test"
        await alice.close()
    run(body())


def _header(sender, to):
    return ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
            "xmlns:stream='http://etherx.jabber.org/streams' "
            f"xmlns:db='jabber:server:dialback' from='{sender}' to='{to}' version='1.0'>")


def _openStream(port, sender, to):
    stream = RawStream(port)
    stream.send(_header(sender, to))
    return stream


def test_stanzaBeforeDialbackRefused(federation):
    """A peer that sends a stanza without proving its domain gets a stream error, not delivery."""
    _, b = federation
    stream = _openStream(b.ports["s2s"], "a.test", "b.test")
    features = stream.readUntil("</stream:features>")
    assert "urn:ietf:params:xml:ns:xmpp-tls" in features and "<required" in features
    assert "urn:xmpp:features:dialback" in features
    stream.send("<message from='alice@a.test/x' to='bob@b.test' type='chat'><body>spoof</body>"
                "</message>")
    reply = stream.readAll()
    assert "<invalid-from" in reply and "</stream:stream>" in reply


def test_unknownHostRefused(federation):
    """A stream to a domain the server does not host ends with host-unknown."""
    _, b = federation
    stream = _openStream(b.ports["s2s"], "a.test", "elsewhere.test")
    reply = stream.readAll()
    assert "<host-unknown" in reply


def test_dialbackBeforeTLSRefused(federation):
    """With require_tls (the default) a dialback key over plain TCP is refused."""
    _, b = federation
    stream = _openStream(b.ports["s2s"], "a.test", "b.test")
    stream.readUntil("</stream:features>")
    stream.send("<db:result from='a.test' to='b.test'>0123456789abcdef</db:result>")
    reply = stream.readAll()
    assert "<policy-violation" in reply


def test_forgedKeyRejected(federation):
    """A peer claiming a.test with a key a.test never made is answered invalid and may not send."""
    _, b = federation
    stream = _openStream(b.ports["s2s"], "a.test", "b.test")
    stream.readUntil("</stream:features>")
    stream.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    assert "<proceed" in stream.readUntil("proceed")
    context = ssl.create_default_context()
    insecureContext(context)
    stream.sock = context.wrap_socket(stream.sock, server_hostname="b.test")
    stream.send(_header("a.test", "b.test"))
    features = stream.readUntil("</stream:features>")
    assert "xmpp-tls" not in features and "urn:xmpp:features:dialback" in features
    stream.send("<db:result from='a.test' to='b.test'>" + "ab" * 32 + "</db:result>")
    answer = stream.readUntil("/>")
    assert "type='invalid'" in answer or 'type="invalid"' in answer
    stream.send("<message from='alice@a.test/x' to='bob@b.test' type='chat'><body>forged</body>"
                "</message>")
    assert "<invalid-from" in stream.readAll()
