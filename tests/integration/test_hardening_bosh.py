"""
Hardening of the web transports (issue 14, item 2) against the real
server: BOSH request bodies bounded per resource (XEP-0124 section 17.2:
HTTP 413 before a large body is kept, C{policy-violation} for too many
payloads or elements) and the WebSocket message limit (RFC 7395 section
3.3.3), while an honest client's ping is answered within 2 s.
"""

import base64
import os
import re
import socket
import struct
import time

import pytest

from tests.integration.clients import Client, run
from tests.integration.watch import (PING_LIMIT, cpuSeconds, pingedThroughout, rssKB, startServer,
                                     whilePinging)

NS_HTTPBIND = "http://jabber.org/protocol/httpbind"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = startServer(tmp_path_factory)
    yield proc
    proc.stop()


def post(port, data, path="/http-bind"):
    """POST C{data}; return (status code, response body)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (path.encode(), len(data)))
        for start in range(0, len(data), 65536):
            sock.sendall(data[start:start + 65536])
        response = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
    finally:
        sock.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def body(inner, **attributes):
    attrs = "".join(f" {k}='{v}'" for k, v in attributes.items())
    return f"<body xmlns='{NS_HTTPBIND}'{attrs}>{inner}</body>".encode()


def bigBody():
    """The issue's body: 20 <m> holding 50,000 <a/> in all, about 5 MB."""
    pad = "x" * 92
    inner = ("<m>" + f"<a p='{pad}'/>" * 2500 + "</m>") * 20
    return body(inner, rid="1", to="localhost", wait="60", hold="1")


def test_hugeUnauthenticatedBodyRefusedBeforeParsing(server):
    """A 5 MB body to /http-bind gets 413 without being parsed: little CPU and memory, pings answered."""
    async def main():
        client = Client("alice@localhost/ping", "alicepw")
        assert await client.login(server.ports["c2s"])
        pid = server.process.pid
        rss, cpu = rssKB(pid), cpuSeconds(pid)
        data = bigBody()
        assert len(data) > 5_000_000
        (status, _), pings = await whilePinging(client, post, server.ports["http"], data)
        assert status == 413
        assert cpuSeconds(pid) - cpu < 2.0  # parsing it took 7.3 s
        assert rssKB(pid) - rss < 40_000  # parsing it took 81 MB
        assert pings and max(pings) < PING_LIMIT
        await client.close()
    run(main())


def test_tooManyElementsIsPolicyViolation(server):
    """A body under the size limit with more elements than bosh_max_elements is terminated with policy-violation; pings are answered meanwhile."""
    status, answer = pingedThroughout(server, post, server.ports["http"],
                                      body("<m>" + "<a/>" * 20000 + "</m>", rid="1", to="localhost"))
    assert status == 200
    assert b"type='terminate'" in answer and b"condition='policy-violation'" in answer


def test_tooManyPayloadsIsPolicyViolation(server):
    """A body with more first-level elements than bosh_max_payloads is terminated with policy-violation; pings are answered meanwhile."""
    inner = "<presence xmlns='jabber:client'/>" * 101
    status, answer = pingedThroughout(server, post, server.ports["http"],
                                      body(inner, rid="1", to="localhost"))
    assert status == 200 and b"condition='policy-violation'" in answer


def test_ordinarySessionStillCreated(server):
    """A normal session request is answered with a session id (XEP-0124 section 7.1)."""
    status, answer = post(server.ports["http"],
                          body("", rid="1000", to="localhost", wait="5", hold="1", ver="1.6",
                               **{"xmpp:version": "1.0",
                                  "xmlns:xmpp": "urn:xmpp:xbosh"}))
    assert status == 200 and re.search(rb"sid='[^']+'", answer)


def test_webSocketOversizedFrameClosedBeforeItsPayload(server):
    """A WebSocket frame announcing 2 MB is closed with 1009 (message too big) before any of it is sent."""
    sock = socket.create_connection(("127.0.0.1", server.ports["http"]), timeout=10)
    try:
        key = base64.b64encode(os.urandom(16))
        sock.sendall(b"GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
                     b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert b" 101 " in head.split(b"\r\n")[0]
        sock.sendall(struct.pack("!BBQ", 0x81, 0x80 | 127, 2_000_000) + os.urandom(4))
        frames = head.partition(b"\r\n\r\n")[2]
        while len(frames) < 4:
            chunk = sock.recv(4096)
            if not chunk:
                break
            frames += chunk
    finally:
        sock.close()
    assert frames[0] == 0x88  # a close frame
    assert struct.unpack("!H", frames[2:4])[0] == 1009


@pytest.fixture(scope="module")
def boundedOutput(tmp_path_factory):
    """BOSH sessions may have 256 KB queued while they poll nothing."""
    proc = startServer(tmp_path_factory, http={"bosh_max_output": 262144})
    yield proc
    proc.stop()


def boshLogin(port, username):
    """A BOSH session logged in with PLAIN and bound (resource 'bosh'); (sid, next rid)."""
    xbosh = {"xmpp:version": "1.0", "xmlns:xmpp": "urn:xmpp:xbosh"}
    _, answer = post(port, body("", rid="100", to="localhost", wait="5", hold="1", **xbosh))
    sid = re.search(rb"sid='([^']+)'", answer).group(1).decode()
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + username.encode() + b"pw")
    auth = ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
            f"{token.decode()}</auth>")
    _, answer = post(port, body(auth, rid="101", sid=sid))
    assert b"<success" in answer, answer
    post(port, body("", rid="102", sid=sid, to="localhost", **{"xmpp:restart": "true",
                                                               "xmlns:xmpp": "urn:xmpp:xbosh"}))
    bind = ("<iq xmlns='jabber:client' type='set' id='b'><bind "
            "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bosh</resource></bind></iq>")
    _, answer = post(port, body(bind, rid="103", sid=sid))
    assert b"</jid>" in answer, answer
    return sid, 104


def test_boshOutputNobodyFetchesEndsTheSession(boundedOutput):
    """800 KB of messages for a BOSH session that polls nothing end it past bosh_max_output; memory stays bounded, pings answered."""
    async def main():
        port = boundedOutput.ports["http"]
        sid, rid = boshLogin(port, "alice")
        sender = Client("bob@localhost/flood", "bobpw")
        assert await sender.login(boundedOutput.ports["c2s"])
        rss = rssKB(boundedOutput.process.pid)

        async def flood():
            for _ in range(20):  # within the sender's input burst (1 MB)
                sender.send_message(mto="alice@localhost/bosh", mbody="x" * 40000)
            await sender["xep_0199"].ping(jid="localhost", timeout=10)
        started = time.monotonic()
        await flood()
        assert time.monotonic() - started < 30
        assert rssKB(boundedOutput.process.pid) - rss < 40_000
        assert re.search(r"BOSH session \S+: \d+ bytes of output not fetched",
                         boundedOutput.logText(limit=None))
        _, answer = post(port, body("", rid=str(rid), sid=sid))
        assert b"type='terminate'" in answer, answer[:300]
        started = time.monotonic()
        await sender["xep_0199"].ping(jid="localhost", timeout=10)
        assert time.monotonic() - started < PING_LIMIT
        await sender.close()
    run(main())
