"""
Hardening of client connections' flow (issue 14, item 6) against the real
server: a client that does not read is no longer read from (its sends
block) and is dropped once C{max_output_buffer} bytes pile up for it; a
client over its stanza rate is slowed, not cut off; a TLS 1.3 peer asking
for key updates in a loop without reading gets one answer, not one per
request (RFC 8446 section 4.6.3).  An honest client's ping is answered
within 2 s throughout.
"""

import base64
import os
import re
import select
import socket
import ssl
import struct
import time

import pytest

from tests.integration.clients import Client, insecureContext, run
from tests.integration.watch import (PING_LIMIT, STREAM, plainAuth, rssKB, startServer,
                                     tls13Connection, whilePinging)

PING = "<iq type='get' id='p%d' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """No input shaping, so only output backpressure stops reading; 1 MB output limit."""
    proc = startServer(tmp_path_factory, c2s={"input_rate": 0, "stanza_rate": 0,
                                              "max_output_buffer": 1048576})
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def shaped(tmp_path_factory):
    """Twenty stanzas a second, twenty at once."""
    proc = startServer(tmp_path_factory, users=("alice",),
                       c2s={"stanza_rate": 20, "stanza_burst": 20})
    yield proc
    proc.stop()


class NonReader:
    """
    A logged-in client on a socket with a small receive buffer, whose test
    decides when (if ever) it reads; subclasses frame its pings.
    """

    def pingBatch(self):
        """200 pings, framed for this transport, as bytes."""
        raise NotImplementedError()

    def floodWithoutReading(self, limit):
        """Send pings until a send blocks for 3 s or C{limit} bytes went; return the bytes sent."""
        self.sock.settimeout(3)
        batch = self.pingBatch()
        sent = 0
        try:
            while sent < limit:
                self.sock.sendall(batch)
                sent += len(batch)
        except (socket.timeout, ssl.SSLWantWriteError):
            pass
        return sent

    def readAll(self, timeout=10):
        """Everything until the server closes (or C{timeout}); (bytes, whether it closed)."""
        self.sock.settimeout(timeout)
        total = 0
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return total, True
                total += len(chunk)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return total, True
        except socket.timeout:
            return total, False

    def close(self):
        self.sock.close()


class SlowReader(NonReader):
    """A raw direct-TLS client with a small receive buffer, logged in as C{username}."""

    def __init__(self, port, username, resource="slow"):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        context = ssl.create_default_context()
        insecureContext(context)
        self.sock = context.wrap_socket(sock, server_hostname="localhost")
        self.send(STREAM)
        self.readUntil(b"</stream:features>")
        self.send(plainAuth(username, username + "pw"))
        assert b"<success" in self.readUntil(b"success")
        self.send(STREAM)
        self.readUntil(b"</stream:features>")
        self.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  f"<resource>{resource}</resource></bind></iq>")
        assert b"</jid>" in self.readUntil(b"</iq>")

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def readUntil(self, marker):
        data = b""
        while marker not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def pingBatch(self):
        return "".join(PING % n for n in range(200)).encode()


def assertNotReadWhileFlooding(server, reader):
    """
    C{reader} (a logged-in L{NonReader}) sends pings and reads nothing: its
    sends block long before 32 MB, server memory grows less than 50 MB, and
    an honest client's pings are answered within 2 s meanwhile.
    """
    async def main():
        honest = Client("bob@localhost/ping", "bobpw")
        assert await honest.login(server.ports["c2s"])
        slow = reader()
        rss = rssKB(server.process.pid)
        sent, pings = await whilePinging(honest, slow.floodWithoutReading, 32 * 2 ** 20)
        assert sent < 32 * 2 ** 20
        assert rssKB(server.process.pid) - rss < 50_000
        assert pings and max(pings) < PING_LIMIT
        slow.close()
        await honest.close()
    run(main())


def assertDroppedPastTheLimit(server, reader, resource):
    """
    6 MB of messages for C{reader} (logged in as alice/C{resource}, reading
    nothing) drop it before all arrive; the sender's ping stays fast.
    """
    async def main():
        slow = reader()
        sender = Client("bob@localhost/flood", "bobpw")
        assert await sender.login(server.ports["c2s"])
        body = "x" * 40000
        for _ in range(150):  # 6 MB, more than the kernel buffers hold
            sender.send_message(mto=f"alice@localhost/{resource}", mbody=body)
        await sender["xep_0199"].ping(jid="localhost", timeout=10)
        received, closed = slow.readAll()
        assert closed and received < 150 * 40000, (closed, received)
        started = time.monotonic()
        await sender["xep_0199"].ping(jid="localhost", timeout=10)
        assert time.monotonic() - started < PING_LIMIT
        await sender.close()
    run(main())


def test_clientThatDoesNotReadIsNotRead(server):
    """Pings from a client that reads nothing stop being read: its sends block long before 32 MB, memory stays bounded."""
    assertNotReadWhileFlooding(server, lambda: SlowReader(server.ports["c2s-tls"], "alice"))


def test_outputPastTheLimitDropsTheClient(server):
    """Messages piling up for a client that does not read drop it past max_output_buffer; the sender is unaffected."""
    assertDroppedPastTheLimit(server, lambda: SlowReader(server.ports["c2s-tls"], "alice", "sink"),
                              "sink")
    assert re.search(r"dropping .*: \d+ bytes of output not read", server.logText(limit=None))


def test_stanzaRateSlowsButDropsNothing(shaped):
    """100 pings at once at 20 a second: fewer than 60 answered in the first second, all 100 in the end."""
    reader = SlowReader(shaped.ports["c2s-tls"], "alice")
    reader.send("".join(PING % n for n in range(100)))
    started = time.monotonic()
    seen = b""
    early = None
    deadline = started + 20
    while seen.count(b"type='result'") + seen.count(b'type="result"') < 100:
        assert time.monotonic() < deadline, seen.count(b"result")
        if early is None and time.monotonic() - started >= 1.0:
            early = seen.count(b"type='result'") + seen.count(b'type="result"')
        ready, _, _ = select.select([reader.sock], [], [], 0.1)
        if ready or reader.sock.pending():
            seen += reader.sock.recv(65536)
    assert early is not None and early < 60
    reader.close()


def keyUpdateLoop(port, keylog, count):
    """
    A TLS 1.3 client that, once the handshake is done, sends C{count}
    KeyUpdates asking for ours and reads nothing for a second; then the
    number of bytes the server had sent in all.
    """
    sock, channel = tls13Connection(port, keylog)
    sock.sendall(b"".join(channel._keyUpdate(1) for _ in range(count)))
    time.sleep(1)
    sock.settimeout(2)
    total = 0
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            total += len(chunk)
    except socket.timeout:
        pass
    sock.close()
    return total


def test_keyUpdateLoopGetsOneAnswer(server, tmp_path):
    """20,000 KeyUpdate requests from a peer that does not read get one KeyUpdate back, not 540 KB."""
    async def main():
        honest = Client("bob@localhost/ku", "bobpw")
        assert await honest.login(server.ports["c2s"])
        received, pings = await whilePinging(honest, keyUpdateLoop, server.ports["c2s-tls"],
                                             str(tmp_path / "keys.log"), 20000)
        assert received < 20000  # tickets and one KeyUpdate; one per request is 540,000 bytes
        assert pings and max(pings) < PING_LIMIT
        await honest.close()
    run(main())


NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"


class WebSocketReader(NonReader):
    """A raw RFC 7395 client with a small receive buffer, logged in as C{username}."""

    def __init__(self, port, username, resource="ws"):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        self.sock, self.pending = sock, b""
        key = base64.b64encode(os.urandom(16))
        sock.sendall(b"GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
                     b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n")
        while b"\r\n\r\n" not in self.pending:
            self.pending += sock.recv(4096)
        head, _, self.pending = self.pending.partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0]
        opening = f"<open xmlns='{NS_FRAMING}' to='localhost' version='1.0'/>"
        self.send(opening)
        features = self.readUntil(b"</mechanisms>")
        assert b"PLAIN" in features, features
        self.send(plainAuth(username, username + "pw"))
        assert b"<success" in self.readUntil(b"success")
        self.send(opening)
        self.readUntil(b"xmpp-bind")
        self.send("<iq xmlns='jabber:client' type='set' id='b'><bind "
                  f"xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{resource}</resource>"
                  "</bind></iq>")
        assert b"</jid>" in self.readUntil(b"</iq>")

    @staticmethod
    def frame(data):
        """One masked text frame (RFC 6455 section 5.2)."""
        data = data.encode() if isinstance(data, str) else data
        mask = os.urandom(4)
        if len(data) < 126:
            head = struct.pack("!BB", 0x81, 0x80 | len(data))
        elif len(data) < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, len(data))
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, len(data))
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def send(self, data):
        self.sock.sendall(self.frame(data))

    def readUntil(self, marker):
        """The payloads of the server's frames (unmasked) until one holds C{marker}."""
        data = b""
        while True:
            while len(self.pending) >= 2:
                length, start = self.pending[1] & 0x7F, 2
                if length == 126:
                    length, start = struct.unpack("!H", self.pending[2:4])[0], 4
                elif length == 127:
                    length, start = struct.unpack("!Q", self.pending[2:10])[0], 10
                if len(self.pending) < start + length:
                    break
                data += self.pending[start:start + length]
                self.pending = self.pending[start + length:]
                if marker in data:
                    return data
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            self.pending += chunk

    def pingBatch(self):
        return b"".join(self.frame("<iq xmlns='jabber:client' type='get' id='p%d' to='localhost'>"
                                   "<ping xmlns='urn:xmpp:ping'/></iq>" % n) for n in range(200))


def test_webSocketClientThatDoesNotReadIsNotRead(server):
    """Pings over a WebSocket from a client that reads nothing stop being read: its sends block, memory stays bounded."""
    assertNotReadWhileFlooding(server, lambda: WebSocketReader(server.ports["http"], "alice"))


def test_webSocketOutputPastTheLimitDropsTheClient(server):
    """Messages piling up for a WebSocket client that does not read drop it past max_output_buffer."""
    assertDroppedPastTheLimit(server, lambda: WebSocketReader(server.ports["http"], "alice", "wssink"),
                              "wssink")
