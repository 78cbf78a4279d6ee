"""
The crowd proof of issue 14: with 200 attacking connections of the worst
kind before login, the server's memory stays under the bound documented
in docs/SECURITY.md and honest clients keep chatting.

Each attacker opens a stream and holds a half-sent stanza at the limits
for clients that have not authenticated (C{[parser]
max_stanza_size_before_auth} bytes and C{max_elements_before_auth}
elements, just under both), so none of them is refused and each costs the
most an unauthenticated stream may.  Loopback is listed in C{[connections]
exempt}: the per-address limit (C{test_hardening_parser}
C{test_connectionsPerAddress}) would otherwise refuse all but 50 of them,
as it should; the crowd stands for attackers from many addresses.
"""

import asyncio
import select
import time

from tests.integration.clients import Client, RawStream, run
from tests.integration.harness import ServerProcess
from tests.integration.test_hardening_parser import HEADER, MB
from tests.integration.watch import PING_LIMIT, serverRSS

ATTACKERS = 200
ROUNDS = 10
BOUND = 40 * MB
"""RSS growth allowed for the 200 (docs/SECURITY.md, "200 attackers")."""

STANZA_SIZE = 16384  # the default [parser] max_stanza_size_before_auth
ELEMENTS = 50  # the default [parser] max_elements_before_auth
HALF_SENT = "<x>" + "t" * (STANZA_SIZE - 4 * ELEMENTS - 400) + "<a/>" * (ELEMENTS - 4)

EXTRA = """
[connections]
exempt = 127.0.0.0/8
"""


def openAttackers(port):
    """The 200 streams, each answered with features, then holding HALF_SENT."""
    attackers = []
    for _ in range(ATTACKERS):
        raw = RawStream(port)
        raw.send(HEADER)
        attackers.append(raw)
    for raw in attackers:
        assert "</stream:features>" in raw.readUntil("</stream:features>")
        raw.send(HALF_SENT)
    return attackers


def refused(attackers):
    """The attackers whose stream the server has ended or written to since its features."""
    readable = select.select([raw.sock for raw in attackers], [], [], 0)[0]
    return [raw for raw in attackers if raw.sock in readable]


async def chat(alice, bob):
    """One round: a message each way and a ping each; return the slowest of the four."""
    slowest = 0
    for sender, receiver in ((alice, bob), (bob, alice)):
        started = time.monotonic()
        text = "round at %f" % started
        sender.send_message(receiver.boundjid.bare, text, mtype="chat")
        message = await receiver.nextMessage(lambda m: m["body"] == text)
        assert message["from"].bare == sender.boundjid.bare
        slowest = max(slowest, time.monotonic() - started)
        started = time.monotonic()
        await sender["xep_0199"].ping("localhost", timeout=PING_LIMIT)
        slowest = max(slowest, time.monotonic() - started)
    return slowest


def test_crowdOfHalfSentStanzas(tmp_path):
    """200 half-sent stanzas at the pre-login limits: bounded memory, honest chat goes on."""
    server = ServerProcess(tmp_path, extra=EXTRA).start()
    attackers = []
    try:
        for name in ("alice", "bob"):
            server.adduser(name, name + "pw")

        async def body():
            loop = asyncio.get_running_loop()
            alice = Client("alice@localhost/crowd", "alicepw")
            bob = Client("bob@localhost/crowd", "bobpw")
            assert await alice.login(server.ports["c2s"])
            assert await bob.login(server.ports["c2s"])
            await chat(alice, bob)
            before = serverRSS(server)
            attackers.extend(await loop.run_in_executor(None, openAttackers,
                                                         server.ports["c2s"]))
            slowest = 0
            for _ in range(ROUNDS):
                slowest = max(slowest, await chat(alice, bob))
                await asyncio.sleep(0.3)
            grown = serverRSS(server) - before
            await alice.close()
            await bob.close()
            return grown, slowest

        grown, slowest = run(body())
        assert refused(attackers) == [], "the server ended some attackers' streams"
        print("RSS growth for %d attackers: %.1f MB; slowest round trip %.2f s"
              % (ATTACKERS, grown / MB, slowest))
        assert slowest < PING_LIMIT, slowest
        assert grown < BOUND, grown
    finally:
        for raw in attackers:
            raw.close()
        server.stop()
