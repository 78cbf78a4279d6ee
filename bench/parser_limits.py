"""
What the attacks on the stream parser and the client listener cost a
running jabberd (issue 14 items 1 and 3), measured from outside: the
server's resident memory (VmRSS) and CPU time (utime + stime) in /proc.

Starts one server the way the integration tests do (ephemeral loopback
ports, a temporary data dir, 1 MB stanzas for the long bodies), then:

 A. 8 unauthenticated streams of a header, <x> and 80,000 nested <a>;
 B. 50 unauthenticated streams each holding a stanza just under the
    before-login limits (49 elements, 16,000 bytes of text);
 C. 4 logged-in streams each holding a stanza of 4,990 empty elements;
 D. a logged-in body of 200,000 letters, newlines and '&amp;' each.

    python -m bench.parser_limits

The figures are in docs/SECURITY.md.  Not a test: nothing is asserted.
"""

import asyncio
import tempfile
import time

from tests.integration import test_hardening_parser as attacks
from tests.integration.clients import Client, RawStream, run
from tests.integration.harness import ServerProcess

MB = 1024 * 1024


def startServer():
    proc = ServerProcess(tempfile.mkdtemp(), extra="[connections]\nmax_per_address = 200\n")
    with open(proc.configPath) as f:
        text = f.read()
    with open(proc.configPath, "w") as f:
        f.write(text.replace("max_stanza_size = 65536", "max_stanza_size = 1048576"))
    proc.start()
    for name in ("alice", "bob"):
        proc.adduser(name, name + "pw")
    time.sleep(1)
    return proc


def holdStreams(proc, count, payload):
    """Open C{count} streams sending C{payload}; (RSS growth while held, their stream errors)."""
    before = attacks.rss(proc)
    streams = []
    for i in range(count):
        raw = RawStream(proc.ports["c2s"])
        raw.send(attacks.HEADER)
        raw.send(payload)
        streams.append(raw)
    time.sleep(2)
    grown = attacks.rss(proc) - before
    errors = set()
    for raw in streams:
        raw.sock.settimeout(0.5)
        errors.add(attacks.streamError(raw.readUntil("</stream:stream>", 100000)))
        raw.close()
    return grown, errors


async def bodies(proc):
    alice = Client("alice@localhost/bench", "alicepw")
    await alice.login(proc.ports["c2s"])
    bob = Client("bob@localhost/bench", "bobpw")
    await bob.login(proc.ports["c2s"])
    for name, text in (("letters", "x" * 200000), ("newlines", "\n" * 200000),
                       ("'&amp;'", "&" * 200000)):
        started = attacks.cpu(proc)
        alice.send_message("bob@localhost", text, mtype="chat")
        await bob.nextMessage()
        print("D. a body of 200,000 %s, sender to recipient: %.2f s of server CPU"
              % (name, attacks.cpu(proc) - started))
    await alice.close()
    await bob.close()


def main():
    proc = startServer()
    try:
        grown, errors = holdStreams(proc, 8, "<x>" + "<a>" * 80000)
        print("A. 8 x (<x> + 80,000 <a>) before login: +%.2f MB per stream; errors %s"
              % (grown / 8 / MB, sorted(map(str, errors))))
        grown, errors = holdStreams(proc, 50, "<x>" + "<a/>" * 48 + "t" * 16000)
        print("B. 50 streams holding 49 elements and 16,000 bytes before login: %.0f KB per "
              "stream; errors %s" % (grown / 50 / 1024, sorted(map(str, errors))))
        streams = [attacks.rawLogin(proc, "alice") for i in range(4)]
        time.sleep(1)
        before = attacks.rss(proc)
        for raw in streams:
            raw.send("<message to='bob@localhost'><x>" + "<a/>" * 4990)
        time.sleep(2)
        print("C. 4 logged-in streams holding 4,990 elements: %.2f MB per stream"
              % ((attacks.rss(proc) - before) / 4 / MB))
        for raw in streams:
            raw.close()
        run(bodies(proc))
    finally:
        proc.stop()


if __name__ == "__main__":
    asyncio.set_event_loop(None)
    main()
