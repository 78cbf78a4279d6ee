"""
Hardening of outgoing s2s (issue 14, item 9), against the real server:
local users cannot make it dial IP literals or private addresses
(request forgery, port scanning), and a peer presenting dialback keys
cannot make it open more than the configured number of verification
connections.  An honest client's ping stays answered within 2 s.
"""

import socket
import time

import pytest

from tests.integration.clients import Client, RawStream, run
from tests.integration.harness import ServerProcess
from tests.integration.watch import pingWithin


class Trap:
    """A loopback listener that accepts connections, counts them and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = []

    def collect(self, seconds):
        """Accept for C{seconds}; return how many connections arrived in all."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.accepted.append(self.sock.accept()[0])
            except socket.timeout:
                pass
        return len(self.accepted)

    def close(self):
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def trap():
    listener = Trap()
    yield listener
    listener.close()


def _server(tmp_path, extra):
    server = ServerProcess(tmp_path, extra="[s2s]\nlisten = tcp:0:interface=127.0.0.1\n"
                           "require_tls = no\nconnect_timeout = 10\n" + extra)
    server.start()
    server.adduser("alice", "alicepw")
    return server


def test_privateDestinationsRefused(tmp_path, trap):
    """Messages to an IP literal and to a domain on loopback bounce; nothing is dialed."""
    server = _server(tmp_path, f"hosts = inside.test=127.0.0.1:{trap.port}\n")

    async def body():
        alice = Client("alice@localhost/probe", "alicepw")
        assert await alice.login(server.ports["c2s"])
        for target in ("x@10.0.0.5", "x@[::1]", "x@127.0.0.1", "x@inside.test"):
            alice.send_message(mto=target, mbody="knock", mtype="chat")
            error = await alice.nextMessage(lambda m: m["type"] == "error")
            assert error["error"]["condition"] == "remote-server-not-found"
        await pingWithin(alice)
        await alice.close()
    try:
        run(body())
        assert trap.collect(0.5) == 0
    finally:
        server.stop()


def test_dialbackChecksBounded(tmp_path, trap):
    """Keys claimed for domains on a silent server open at most the configured checks."""
    domains = ["t1.test", "t2.test", "t3.test", "t4.test"]
    hosts = " ".join(f"{d}=127.0.0.1:{trap.port}" for d in domains)
    server = _server(tmp_path, f"hosts = {hosts}\nallowed_networks = 127.0.0.0/8\n"
                     "max_verifications = 4\nmax_verifications_per_domain = 2\n")
    claims = ["t1.test"] * 5 + ["t2.test"] * 5 + domains[2:] * 3
    try:
        peer = RawStream(server.ports["s2s"])
        peer.send("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                  "xmlns:stream='http://etherx.jabber.org/streams' "
                  "xmlns:db='jabber:server:dialback' from='t1.test' to='localhost' "
                  "version='1.0'>")
        peer.readUntil("</stream:features>")
        for domain in claims:
            peer.send(f"<db:result from='{domain}' to='localhost'>{'ab' * 32}</db:result>")
        answers = ""
        while answers.count("resource-constraint") < len(claims) - 4:
            more = peer.readUntil("</db:result>")
            if not more:
                break
            answers += more
        # t1 x2 and t2 x2 fill the total; every other claim is refused at once.
        assert answers.count("<resource-constraint") == len(claims) - 4

        async def body():
            alice = Client("alice@localhost/honest", "alicepw")
            assert await alice.login(server.ports["c2s"])
            await pingWithin(alice)
            await alice.close()
        run(body())
        assert trap.collect(1.0) == 4
        peer.close()
    finally:
        server.stop()
