"""
Stream Management (XEP-0198) end to end: a real jabberd, slixmpp clients
with slixmpp's own C{xep_0198} plugin, raw XML over TCP and over
WebSocket (RFC 7395) for what the plugin does not send; on SQLite and
PostgreSQL.

A connection "cut" is the phone case: the TCP transport is aborted, no
closing tag is sent.
"""

import asyncio
import base64
import os
import re
import socket
import struct
import time

from tests.integration.clients import TIMEOUT, Client, RawStream, run

NS_SM = "urn:xmpp:sm:3"
NS_MAM = "urn:xmpp:mam:2"
STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
QUIET = 1.5  # seconds in which a detached session must not look unavailable


async def login(server, jid, sm=True, maxSeconds=None, port="c2s", directTLS=False, plugins=()):
    """A logged-in slixmpp client, with stream management (asking for C{maxSeconds}) if C{sm}."""
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", directTLS=directTLS,
                    plugins=(["xep_0198"] if sm else []) + list(plugins))
    if maxSeconds is not None:
        askMax(client, maxSeconds)
    assert await client.login(server.ports[port])
    await client.get_roster()
    return client


def askMax(client, seconds):
    """C{client}'s <enable/> asks for at most C{seconds} of resumption (the plugin cannot)."""
    def addMax(stanza):
        if stanza.xml.tag == f"{{{NS_SM}}}enable":
            stanza.xml.set("max", str(seconds))
        return stanza
    client.add_filter("out", addMax)


async def befriend(a, b):
    """C{a} and C{b} subscribe to each other (slixmpp authorizes and subscribes back)."""
    a.send_presence_subscription(b.boundjid.bare)
    for _ in range(200):
        if (a.client_roster[b.boundjid.bare]["subscription"] == "both"
                and b.client_roster[a.boundjid.bare]["subscription"] == "both"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{a.boundjid.bare} and {b.boundjid.bare} never became mutual contacts")


async def settle(client):
    """A ping answered: everything sent to the server before it was processed (RFC 6120 10.1)."""
    await client["xep_0199"].ping(client.boundjid.domain, timeout=TIMEOUT)


async def cut(client):
    """The connection drops without a closing tag (a phone losing its network)."""
    gone = client.loop.create_future()
    client.add_event_handler("disconnected", lambda *_: gone.done() or gone.set_result(True),
                             disposable=True)
    client.transport.abort()
    await asyncio.wait_for(gone, TIMEOUT)


async def reconnect(client, port):
    """Connect again; True once the server resumed the session, False if it refused."""
    outcome = client.loop.create_future()
    client.add_event_handler("session_resumed",
                             lambda *_: outcome.done() or outcome.set_result(True), disposable=True)
    client.add_event_handler("sm_failed", lambda *_: outcome.done() or outcome.set_result(False),
                             disposable=True)
    client.connect("127.0.0.1", port)
    return await asyncio.wait_for(outcome, TIMEOUT)


def drain(queue):
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def unavailableFrom(presences, jid):
    return [p for p in presences if p["type"] == "unavailable" and p["from"] == jid]


# --- raw XML ---


def plainAuth(username):
    token = base64.b64encode(f"\0{username}\0{username}pw".encode()).decode()
    return f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>"


def rawAuthenticated(server, username):
    """A raw direct-TLS stream, authenticated; returns (stream, post-auth features)."""
    raw = RawStream(server.ports["c2s-tls"], tls=True)
    raw.send(STREAM)
    before = raw.readUntil("</stream:features>")
    assert NS_SM not in before  # offered only after authentication (section 2)
    raw.send(plainAuth(username))
    assert "<success" in raw.readUntil("success")
    raw.send(STREAM)
    return raw, raw.readUntil("</stream:features>")


def rawBound(server, username, resource):
    raw, features = rawAuthenticated(server, username)
    raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             f"<resource>{resource}</resource></bind></iq>")
    raw.readUntil("</iq>")
    return raw, features


def rawEnabled(server, username, resource, attributes=" resume='true'"):
    """A raw bound stream with stream management on; returns (stream, SM-ID or None)."""
    raw, _ = rawBound(server, username, resource)
    raw.send(f"<enable xmlns='{NS_SM}'{attributes}/>")
    enabled = raw.readUntil("/>")
    assert "<enabled" in enabled, enabled
    match = re.search(r"id=['\"]([^'\"]+)['\"]", enabled)
    return raw, match.group(1) if match else None, enabled


def attribute(text, element, name):
    """The value of attribute C{name} of the first C{<element ...>} in C{text}."""
    match = re.search(rf"<{element}\b[^>]*\b{name}=['\"]([^'\"]*)['\"]", text)
    return match.group(1) if match else None


# --- enabling and acks ---


def test_featureOfferedAndEnabledBySlixmpp(server):
    """slixmpp sees <sm/>, enables with resumption and gets an SM-ID; acks match what was sent."""
    async def body():
        alice = await login(server, "alice@localhost/acks")
        bob = await login(server, "bob@localhost/acks", sm=False)
        plugin = alice["xep_0198"]
        assert plugin.enabled_in and plugin.sm_id
        for n in range(7):
            alice.send_message(bob.boundjid, f"m{n}", mtype="chat")
        for n in range(7):
            await bob.nextMessage(lambda m, n=n: m["body"] == f"m{n}")
        plugin.request_ack()
        for _ in range(200):
            if not plugin.unacked_queue and plugin.last_ack == plugin.seq:
                break
            await asyncio.sleep(0.05)
        assert not plugin.unacked_queue and plugin.last_ack == plugin.seq
        await alice.close()
        await bob.close()
    run(body())


def test_rawCountingAndServerRequest(server):
    """<r/> is answered with h = stanzas received; the server asks for an ack after writing."""
    raw, _, enabled = rawEnabled(server, "dave", "count")
    assert attribute(enabled, "enabled", "max") == "3600"
    raw.send("".join(f"<iq type='get' id='p{n}'><ping xmlns='urn:xmpp:ping'/></iq>"
                     for n in range(3)) + f"<r xmlns='{NS_SM}'/>")
    text = raw.readUntil("h='3'")
    assert re.search(r"<a xmlns=['\"]urn:xmpp:sm:3['\"] h=['\"]3['\"]", text), text
    text += raw.readUntil("<r ")
    assert text.count("<iq") == 3 and "<r xmlns" in text, text
    raw.send(f"<a xmlns='{NS_SM}' h='3'/></stream:stream>")
    raw.readAll()
    raw.close()


def test_ackTooHighIsStreamError(server):
    """An <a/> acknowledging more than was sent ends the stream with handled-count-too-high."""
    raw, _, _ = rawEnabled(server, "dave", "toohigh", "")
    raw.send(f"<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq><a xmlns='{NS_SM}' h='9'/>")
    text = raw.readAll()
    raw.close()
    assert "undefined-condition" in text and "handled-count-too-high" in text, text
    assert attribute(text, "handled-count-too-high", "send-count") == "1"
    assert attribute(text, "handled-count-too-high", "h") == "9"


def test_enableBeforeBindAndTwice(server):
    """<enable/> before binding and a second <enable/> both get <failed/> unexpected-request."""
    raw, features = rawAuthenticated(server, "frank")
    assert f"<sm xmlns='{NS_SM}'" in features or f'<sm xmlns="{NS_SM}"' in features
    raw.send(f"<enable xmlns='{NS_SM}'/>")
    text = raw.readUntil("</failed>")
    assert "unexpected-request" in text, text
    raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert "type='result'" in raw.readUntil("</iq>").replace('"', "'")
    raw.send(f"<enable xmlns='{NS_SM}'/>")
    assert "<enabled" in raw.readUntil("/>")
    raw.send(f"<enable xmlns='{NS_SM}'/>")
    text = raw.readUntil("</failed>")
    assert "unexpected-request" in text, text
    raw.send("</stream:stream>")
    raw.close()


# --- the phone: cut, contacts keep writing, resume ---


def phoneScenario(server, user, contact, reconnectPort, directTLS):
    async def body():
        phone = await login(server, f"{user}@localhost/phone")
        friend = await login(server, f"{contact}@localhost/desk", sm=False)
        await befriend(phone, friend)
        await settle(phone)
        await settle(friend)
        drain(phone.messages)
        drain(friend.presences)
        await cut(phone)
        texts = [f"while away {n}" for n in range(5)]
        for text in texts:
            friend.send_message(phone.boundjid.bare, text, mtype="chat")
        await settle(friend)
        await asyncio.sleep(QUIET)
        assert not unavailableFrom(drain(friend.presences), phone.boundjid)
        phone.enable_direct_tls = directTLS
        phone.enable_starttls = not directTLS
        assert await reconnect(phone, server.ports[reconnectPort])
        for text in texts:
            message = await phone.nextMessage(lambda m, text=text: m["body"] == text)
            # resent, with when it was first written (XEP-0203)
            assert message.xml.find("{urn:xmpp:delay}delay") is not None
        friend.send_message(phone.boundjid.bare, "after", mtype="chat")
        await phone.nextMessage(lambda m: m["body"] == "after")
        await settle(phone)
        assert not [m for m in drain(phone.messages) if m["body"]]  # nothing twice
        assert not unavailableFrom(drain(friend.presences), phone.boundjid)
        await phone.close()
        await friend.close()
    run(body())


def test_phoneResumesOverStartTLS(server):
    """Cut, five messages meanwhile, resume on a new STARTTLS connection: each arrives once."""
    phoneScenario(server, "alice", "bob", "c2s", False)


def test_phoneResumesOverDirectTLS(server):
    """The same with the new connection on the direct TLS port (a new TLS session)."""
    phoneScenario(server, "carol", "bob", "c2s-tls", True)


def test_resumeAfterRest(server):
    """A stream that rested (parser and TLS state freed) still acks, and is replaced on resume."""
    raw, smId, _ = rawEnabled(server, "erin", "rest")
    time.sleep(2.5)  # longer than the stream's rest period (ClientStream.restAfter)
    raw.send(f"<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='{NS_SM}'/>")
    assert "h='1'" in raw.readUntil("h='1'").replace('"', "'")
    time.sleep(2.5)
    again, _ = rawAuthenticated(server, "erin")
    again.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='1'/>")
    text = again.readUntil("/>")
    assert "<resumed" in text and attribute(text, "resumed", "h") == "1", text
    old = raw.readAll()
    assert "conflict" in old, old
    raw.close()
    again.send("</stream:stream>")
    again.readAll()
    again.close()


def test_resumeAfterRestAndCut(server):
    """A stream cut while resting (parser and TLS state freed) is resumed with what it missed."""
    async def contact():
        bob = await login(server, "bob@localhost/rest-contact", sm=False)
        bob.send_message("erin@localhost/restcut", "sent while resting", mtype="chat")
        await settle(bob)
        await bob.close()

    raw, smId, _ = rawEnabled(server, "erin", "restcut")
    time.sleep(2.5)  # longer than the stream's rest period (ClientStream.restAfter)
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()  # cut: a reset, no closing tag
    run(contact())
    again, _ = rawAuthenticated(server, "erin")
    again.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='0'/>")
    text = again.readUntil("sent while resting")
    assert "<resumed" in text and text.count("sent while resting") == 1, text
    again.send("</stream:stream>")
    again.readAll()
    again.close()


# --- refused resumption ---


def test_resumeUnknownId(server):
    """An unknown SM-ID gets <failed/> item-not-found; the stream may still bind."""
    raw, _ = rawAuthenticated(server, "frank")
    raw.send(f"<resume xmlns='{NS_SM}' previd='no-such-id' h='0'/>")
    assert "item-not-found" in raw.readUntil("</failed>")
    raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert "type='result'" in raw.readUntil("</iq>").replace('"', "'")
    raw.send("</stream:stream>")
    raw.close()


def test_resumeOtherUsersSession(server):
    """frank cannot resume erin's session with its SM-ID; erin still can."""
    raw, smId, _ = rawEnabled(server, "erin", "victim")
    raw.close()  # cut
    thief, _ = rawAuthenticated(server, "frank")
    thief.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='0'/>")
    assert "item-not-found" in thief.readUntil("</failed>")
    thief.send("</stream:stream>")
    thief.close()
    again, _ = rawAuthenticated(server, "erin")
    again.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='0'/>")
    assert "<resumed" in again.readUntil("/>")
    again.send("</stream:stream>")
    again.readAll()
    again.close()


def test_resumeWithTooHighH(server):
    """An h above what the server sent: <failed h/> undefined-condition; the id is gone after."""
    raw, smId, _ = rawEnabled(server, "erin", "wrongh")
    raw.send(f"<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='{NS_SM}'/>")
    raw.readUntil("h='1'")
    raw.close()
    again, _ = rawAuthenticated(server, "erin")
    again.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='5'/>")
    text = again.readUntil("</failed>")
    assert "undefined-condition" in text and attribute(text, "failed", "h") == "1", text
    again.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='1'/>")
    assert "item-not-found" in again.readUntil("</failed>")
    again.send("</stream:stream>")
    again.close()


# --- the session ends for good ---


def test_expiryStoresUnackedOfflineAndContactSeesUnavailable(server):
    """Not resumed in time: the contact sees unavailable only then; the message comes offline."""
    async def body():
        phone = await login(server, "dave@localhost/phone", maxSeconds=3)
        friend = await login(server, "bob@localhost/expiry", sm=False)
        await befriend(phone, friend)
        await settle(friend)
        drain(friend.presences)
        await cut(phone)
        friend.send_message(phone.boundjid.bare, "kept for later", mtype="chat")
        await settle(friend)
        await asyncio.sleep(QUIET)
        assert not unavailableFrom(drain(friend.presences), phone.boundjid)
        await friend.nextPresence(lambda p: p["type"] == "unavailable"
                                  and p["from"] == phone.boundjid)
        raw, _ = rawAuthenticated(server, "dave")
        raw.send(f"<resume xmlns='{NS_SM}' previd='{phone['xep_0198'].sm_id}' h='0'/>")
        assert "item-not-found" in raw.readUntil("</failed>")  # expired
        raw.close()
        later = await login(server, "dave@localhost/later", sm=False)
        later.send_presence()
        message = await later.nextMessage(lambda m: m["body"] == "kept for later")
        assert message.xml.find("{urn:xmpp:delay}delay") is not None  # via offline storage
        await settle(later)
        await asyncio.sleep(0.5)
        await settle(later)
        assert not [m for m in drain(later.messages) if m["body"] == "kept for later"]
        await later.close()
        await friend.close()
    run(body())


def test_expiryOfArchiveClientLeavesItToTheArchive(server):
    """A client that used MAM finds the unacked message in its archive, once, not offline too."""
    async def body():
        phone = await login(server, "frank@localhost/phone", maxSeconds=2,
                            plugins=["xep_0059", "xep_0313"])
        await phone["xep_0313"].retrieve(timeout=TIMEOUT)
        friend = await login(server, "bob@localhost/mam", sm=False)
        await cut(phone)
        friend.send_message(phone.boundjid.bare, "in the archive", mtype="chat")
        await settle(friend)
        await asyncio.sleep(4)  # past the 2 s the client asked for
        later = await login(server, "frank@localhost/later", sm=False,
                            plugins=["xep_0059", "xep_0313"])
        later.send_presence()
        await settle(later)
        await asyncio.sleep(1)
        await settle(later)
        assert not [m for m in drain(later.messages) if m["body"] == "in the archive"]
        iq = await later["xep_0313"].retrieve(with_jid=friend.boundjid.bare, timeout=TIMEOUT)
        bodies = [m["mam_result"]["forwarded"]["stanza"]["body"] for m in iq["mam"]["results"]]
        assert bodies.count("in the archive") == 1
        await later.close()
        await friend.close()
    run(body())


# --- WebSocket (RFC 7395) ---


class WebSocket:
    """A minimal RFC 6455 client on a blocking socket: text messages in and out."""

    def __init__(self, port, path="/xmpp-websocket"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n"
                           ).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed during the handshake"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head
        self.buffer = head.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(data))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self):
        """The next text message (pings and pongs are skipped)."""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(length)
            if first & 0x0F == 0x1:
                return payload.decode()
            if first & 0x0F == 0x8:
                return None

    def receiveUntil(self, marker, limit=50):
        """Messages until one contains C{marker}; all of them, joined."""
        seen = []
        for _ in range(limit):
            message = self.receive()
            if message is None:
                break
            seen.append(message)
            if marker in message.replace('"', "'"):
                break
        return "\n".join(seen)

    def abort(self):
        """Drop the TCP connection without a WebSocket or XMPP close."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>"


def wsAuthenticated(server, username):
    ws = WebSocket(server.ports["http"])
    ws.send(OPEN)
    ws.receiveUntil("features>")
    ws.send(plainAuth(username))
    assert "success" in ws.receiveUntil("success")
    ws.send(OPEN)
    features = ws.receiveUntil("features")
    assert NS_SM in features, features
    return ws


def test_webSocketEnableCutAndResume(server):
    """Over WebSocket: enable, acks, a cut, a message meanwhile, resume on a new WebSocket."""
    async def contact():
        return await login(server, "bob@localhost/ws-contact", sm=False)

    ws = wsAuthenticated(server, "carol")
    ws.send("<iq xmlns='jabber:client' type='set' id='b1'>"
            "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>ws</resource></bind></iq>")
    ws.receiveUntil("</iq>")
    ws.send(f"<enable xmlns='{NS_SM}' resume='true'/>")
    enabled = ws.receiveUntil("enabled")
    smId = attribute(enabled, "enabled", "id")
    assert smId, enabled
    ws.send("<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
    ws.send(f"<r xmlns='{NS_SM}'/>")
    assert "h='1'" in ws.receiveUntil("h='1'").replace('"', "'")
    ws.abort()

    async def sendWhileAway():
        bob = await contact()
        bob.send_message("carol@localhost/ws", "over websocket", mtype="chat")
        await settle(bob)
        await bob.close()
    run(sendWhileAway())

    again = wsAuthenticated(server, "carol")
    again.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='0'/>")
    text = again.receiveUntil("over websocket")
    assert "<resumed" in text and attribute(text, "resumed", "h") == "1", text
    assert text.count("over websocket") == 1
    again.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
    again.receiveUntil("close")
    again.close()


def test_detachedSessionsMessagesSurviveRestart(sqliteServer):
    """A message kept for a detached session is in offline storage after a server restart."""
    proc = sqliteServer

    async def before():
        phone = await login(proc, "alice@localhost/phone")
        friend = await login(proc, "bob@localhost/desk", sm=False)
        await cut(phone)
        friend.send_message(phone.boundjid.bare, "across the restart", mtype="chat")
        await settle(friend)
        await friend.close()
    run(before())
    proc.stop()
    proc.start()

    async def after():
        alice = await login(proc, "alice@localhost/later", sm=False)
        alice.send_presence()
        await alice.nextMessage(lambda m: m["body"] == "across the restart")
        await alice.close()
    run(after())
