"""
The abuse and soak script: C{python -m bench.abuse}.  Not a test: it
measures what each attack of issue 14 costs a server, and whether an honest
client is still served meanwhile.

For each server (jabberd, and with C{--servers prosody,ejabberd} those where
installed, started the way L{bench.runner} starts them: fresh data dir, own
loopback ports, pinned to core 0), or for an already running server
(C{--attach PID --c2s-port N --http-port N}), it provisions a few accounts
and runs every attack in turn.  An honest client pings the server every
100 ms throughout; per attack it reports the wall time, the server's CPU
seconds, its resident memory and open file descriptors before and after
(summed over its process tree), and the p99 and losses of the honest pings.
One JSON line per attack as it goes, then a markdown table.

The attacks (issue 14; items 1-6 and 11-12 are other helpers' fixes, this
script only measures):

 - C{half-stanza}: a stream header, C{<x>} and 80,000 C{<a>} (1 MB of
   elements that never end, before login), held open, on 8 connections;
 - C{half-text}: stanzas of text that never end, 1 MB each, on 50 connections;
 - C{bosh-5mb}: 5 MB unauthenticated BOSH bodies;
 - C{newlines}: a message of 200,000 newlines from each of 5 logged-in clients;
 - C{header-reparse}: a stream header that never ends, sent 512 bytes at a time;
 - C{password-guess}: 200 SASL attempts with wrong passwords, for at most
   20 s (run last: per-address delays would slow the other attacks' logins);
 - C{slow-reader}: a client that asks for 20 MB of messages and never reads;
 - C{subscription-flood}: large subscription requests from 20 accounts (item 8);
 - C{dialback-forgery}: messages to 200 IP-literal domains (item 9);
 - C{dialback-flood}: 20 s2s connections each claiming 50 domains with
   C{<db:result/>} (XEP-0220), each claim a verification the server could
   open a connection for (item 9);
 - C{offline-flood}: 300 large messages to an offline account (item 10);
 - C{legacy-room-presence}: presence to 2000 rooms' bare addresses (item 7).
"""

import argparse
import asyncio
import http.client
import json
import os
import resource
import shutil
import sys
import tempfile
import time

from bench import xmpp
from bench.measure import percentile, processTree, treeCpuSeconds, treeRSS
from bench.servers import ABUSE_SCENARIO, ServerError, makeCertificate, portOpen, registry

__all__ = ["main", "ATTACKS"]

PASSWORD = "benchpass1"
SUBSCRIBERS = 20
HEADER = ("<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' "
          "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")


def note(text):
    sys.stderr.write(f"[abuse {time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


def treeFDs(pid):
    """Open file descriptors of C{pid} and its descendants."""
    total = 0
    for member in processTree(pid):
        try:
            total += len(os.listdir(f"/proc/{member}/fd"))
        except OSError:
            continue
    return total


class Context:
    """What an attack needs: where the server is, its domains, a TLS context."""

    def __init__(self, host, c2sPort, httpPort, boshPath, domain, mucDomain, s2sPort=0):
        self.host, self.c2sPort, self.httpPort = host, c2sPort, httpPort
        self.s2sPort = s2sPort
        self.boshPath, self.domain, self.mucDomain = boshPath, domain, mucDomain
        self.tls = xmpp.tlsContext()
        self.target = xmpp.Target(host, c2sPort, domain, mucDomain, PASSWORD)

    def login(self, username, resource="abuse", presence=True):
        return xmpp.login(self.target, self.tls, username, resource, presence=presence)


# --- raw connections ------------------------------------------------------

async def _rawSend(ctx, chunks, pause=0.0, hold=0.0, port=None):
    """One plain TCP connection that sends C{chunks}, then holds it open for C{hold} s."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(ctx.host, port or ctx.c2sPort), 10)
    except (OSError, asyncio.TimeoutError):
        return "refused"
    outcome = "sent"
    try:
        for chunk in chunks:
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), 10)
            if pause:
                await asyncio.sleep(pause)
        await asyncio.sleep(hold)
    except (OSError, asyncio.TimeoutError):
        outcome = "closed by server"
    finally:
        writer.close()
    return outcome


def _tally(outcomes):
    counts = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))


# --- the attacks ----------------------------------------------------------

async def halfStanza(ctx):
    def chunks():
        yield (HEADER.format(domain=ctx.domain) + "<x>").encode()
        for _ in range(80):
            yield b"<a>" * 1000
    outcomes = await asyncio.gather(*(_rawSend(ctx, chunks(), hold=3) for _ in range(8)))
    return _tally(outcomes)


async def halfText(ctx):
    def chunks():
        yield (HEADER.format(domain=ctx.domain) + "<message to='x@" + ctx.domain
               + "'><body>").encode()
        for _ in range(64):
            yield b"a" * 16384
    outcomes = await asyncio.gather(*(_rawSend(ctx, chunks(), hold=2) for _ in range(50)))
    return _tally(outcomes)


async def bosh5mb(ctx):
    body = (b"<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='"
            + ctx.domain.encode() + b"' wait='60' hold='1' ver='1.6'>"
            + b"a" * (5 * 1024 * 1024) + b"</body>")

    def post():
        try:
            conn = http.client.HTTPConnection(ctx.host, ctx.httpPort, timeout=20)
            conn.request("POST", ctx.boshPath, body, {"Content-Type": "text/xml"})
            return f"HTTP {conn.getresponse().status}"
        except (OSError, http.client.HTTPException) as e:
            return type(e).__name__
    loop = asyncio.get_running_loop()
    outcomes = await asyncio.gather(*(loop.run_in_executor(None, post) for _ in range(3)))
    return _tally(outcomes)


async def newlines(ctx):
    async def one(n):
        conn = await ctx.login(f"s{n}", "newlines", presence=False)
        try:
            conn.send(f"<message to='v0@{ctx.domain}' type='normal'><body>".encode()
                      + b"\n" * 200000 + b"</body></message>")
            # The ping is answered once the message before it was parsed.
            conn.send(b"<iq type='get' id='nl1'><ping xmlns='urn:xmpp:ping'/></iq>")
            await conn.expect(xmpp.iqPattern(b"nl1"), 60)
            return "processed"
        except xmpp.XMPPError as e:
            return "refused" if "stream error" in str(e) else "lost"
        finally:
            conn.close()
    outcomes = await asyncio.gather(*(one(n) for n in range(5)))
    return _tally(outcomes)


async def headerReparse(ctx):
    def chunks():
        yield (HEADER.format(domain=ctx.domain)[:-1] + " x='").encode()
        for _ in range(400):
            yield b"a" * 512
    outcomes = await asyncio.gather(*(_rawSend(ctx, chunks(), pause=0.005) for _ in range(20)))
    return _tally(outcomes)


GUESS_SECONDS = 20


async def passwordGuess(ctx):
    """
    200 wrong SCRAM passwords, 10 connections at a time, for at most
    C{GUESS_SECONDS}: how many a server answered in that time is how fast
    it lets guessing go.  Run last: a server that delays guesses per
    address delays the other attacks' logins from the same address too.
    """
    gate = asyncio.Semaphore(10)
    outcomes = []

    async def one(n):
        async with gate:
            try:
                conn, features = await xmpp.connect(ctx.target, ctx.tls, 15)
            except (xmpp.XMPPError, OSError, asyncio.TimeoutError):
                outcomes.append("no stream")
                return
            try:
                await xmpp.authenticate(conn, features, "v0", f"guess{n}", 60)
                outcomes.append("ACCEPTED")
            except xmpp.XMPPError:
                outcomes.append("refused")
            except (OSError, asyncio.TimeoutError):
                outcomes.append("timeout")
            finally:
                conn.close()
    tasks = [asyncio.ensure_future(one(n)) for n in range(200)]
    _, waiting = await asyncio.wait(tasks, timeout=GUESS_SECONDS)
    for task in waiting:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return _tally(outcomes) + f" in {GUESS_SECONDS} s" + (
        f", {len(waiting)} still waiting" if waiting else "")


async def slowReader(ctx):
    conn = await ctx.login("a0", "slow")
    conn.transport.pause_reading()
    body = "r" * 10000
    for n in range(2000):
        conn.send(f"<message to='{conn.jid}' id='s{n}' type='chat'><body>{body}</body>"
                  "</message>".encode())
        if n % 100 == 0:
            await asyncio.sleep(0)  # let the writes go out
    await asyncio.sleep(3)
    conn.close()
    return "20 MB of messages to itself, never read"


async def subscriptionFlood(ctx):
    junk = "<x xmlns='urn:example:junk'>" + "j" * 200000 + "</x>"
    conns = []
    for n in range(SUBSCRIBERS):
        try:
            conns.append(await ctx.login(f"s{n}", "flood"))
        except (xmpp.XMPPError, OSError, asyncio.TimeoutError):
            pass
    for conn in conns:
        conn.setHandler(lambda data: None)
        conn.send(f"<presence to='v0@{ctx.domain}' type='subscribe'><status>hi</status>"
                  f"{junk}</presence>".encode())
    await asyncio.sleep(3)
    for conn in conns:
        # withdraw, so that the next run starts clean
        conn.send(f"<presence to='v0@{ctx.domain}' type='unsubscribe'/>".encode())
    await asyncio.sleep(0.5)
    xmpp.closeAll(conns)
    return f"{len(conns)} senders x 200 KB"


async def dialbackForgery(ctx):
    conn = await ctx.login("a0", "forge")
    bounces = []
    conn.setHandler(lambda data: bounces.append(data.count(b"type='error'")
                                                + data.count(b'type="error"')))
    for n in range(200):
        conn.send(f"<message to='x@10.{n // 250}.{n % 250}.5' type='chat'><body>knock</body>"
                  "</message>".encode())
    await asyncio.sleep(3)
    conn.close()
    return f"{sum(bounces)} of 200 bounced within 3 s"


async def dialbackFlood(ctx):
    if not ctx.s2sPort:
        return "n/a: no s2s port"

    def chunks(n):
        yield (f"<?xml version='1.0'?><stream:stream to='{ctx.domain}' version='1.0' "
               "xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
               "xmlns:stream='http://etherx.jabber.org/streams'>").encode()
        yield b"".join(f"<db:result from='d{n}x{m}.flood.example' to='{ctx.domain}'>"
                       f"{'k' * 40}</db:result>".encode() for m in range(50))
    outcomes = await asyncio.gather(*(_rawSend(ctx, chunks(n), hold=5, port=ctx.s2sPort)
                                      for n in range(20)))
    return _tally(outcomes) + " (x 50 claims)"


async def offlineFlood(ctx):
    conn = await ctx.login("a0", "offline")
    errors = []
    conn.setHandler(lambda data: errors.append(data.count(b"<error")))
    body = "o" * 200000
    for n in range(300):
        conn.send(f"<message to='v0@{ctx.domain}' type='chat'><body>{n} {body}</body>"
                  "</message>".encode())
        if n % 10 == 0:
            await asyncio.sleep(0)
    await _settle(lambda: sum(errors))
    conn.close()
    return f"300 x 200 KB; {sum(errors)} refused"


async def _settle(progress, quiet=2.0, most=20.0):
    """Wait until C{progress()} stopped changing for C{quiet} s (at most C{most} s)."""
    loop = asyncio.get_running_loop()
    deadline, last, changed = loop.time() + most, progress(), loop.time()
    while loop.time() < deadline and loop.time() - changed < quiet:
        await asyncio.sleep(0.2)
        if progress() != last:
            last, changed = progress(), loop.time()


async def legacyRoomPresence(ctx):
    conn = await ctx.login("a0", "rooms")
    conn.setHandler(lambda data: None)
    status = "p" * 20000
    for n in range(2000):
        conn.send(f"<presence to='room{n}@{ctx.mucDomain}'><status>{status}</status>"
                  "</presence>".encode())
        if n % 50 == 0:
            await asyncio.sleep(0)
    await asyncio.sleep(3)
    conn.close()
    return "2000 rooms x 20 KB"


ATTACKS = {
    "half-stanza": halfStanza,
    "half-text": halfText,
    "bosh-5mb": bosh5mb,
    "newlines": newlines,
    "header-reparse": headerReparse,
    "slow-reader": slowReader,
    "subscription-flood": subscriptionFlood,
    "dialback-forgery": dialbackForgery,
    "dialback-flood": dialbackFlood,
    "offline-flood": offlineFlood,
    "legacy-room-presence": legacyRoomPresence,
    "password-guess": passwordGuess,  # last: see passwordGuess
}


# --- the honest client ----------------------------------------------------

class HonestPinger:
    """A logged-in client pinging its server every C{interval} s (XEP-0199)."""

    def __init__(self, conn, domain, interval=0.1):
        self.conn, self.domain, self.interval = conn, domain, interval
        self.sent, self.rtts = {}, []
        self.counter = 0
        conn.setHandler(self.received)
        self.task = None

    def received(self, data):
        now = time.perf_counter()
        for pingId in [i for i in self.sent if i.encode() in data]:
            self.rtts.append(now - self.sent.pop(pingId))

    async def run(self):
        while True:
            self.counter += 1
            pingId = f"honest{self.counter}"
            self.sent[pingId] = time.perf_counter()
            self.conn.send(f"<iq type='get' id='{pingId}' to='{self.domain}'>"
                           "<ping xmlns='urn:xmpp:ping'/></iq>".encode())
            await asyncio.sleep(self.interval)

    def window(self):
        """Start a measured window: forget earlier results."""
        self.rtts, self.sent = [], {}

    def result(self, elapsed):
        lost = len(self.sent)
        values = self.rtts + [elapsed] * lost  # an unanswered ping waited all along
        p99 = percentile(values, 0.99)
        return {"ping_p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
                "pings": len(values), "pings_lost": lost}


# --- running --------------------------------------------------------------

def snapshot(pid):
    if not pid:
        return None
    return {"rss": treeRSS(pid), "cpu": treeCpuSeconds(pid), "fds": treeFDs(pid)}


async def runAttack(ctx, name, pid, pinger):
    before = snapshot(pid)
    pinger.window()
    started = time.perf_counter()
    try:
        outcome = await asyncio.wait_for(ATTACKS[name](ctx), 120)
    except (xmpp.XMPPError, OSError, asyncio.TimeoutError) as e:
        outcome = f"error: {type(e).__name__} {str(e)[:120]}"
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1)  # pings sent at the end get their chance
    record = {"attack": name, "seconds": round(elapsed, 2), "outcome": outcome}
    record.update(pinger.result(elapsed + 1))
    after = snapshot(pid)
    if before and after:
        record.update({"server_cpu_s": round(after["cpu"] - before["cpu"], 2),
                       "rss_mb": round(after["rss"] / 2 ** 20, 1),
                       "rss_delta_mb": round((after["rss"] - before["rss"]) / 2 ** 20, 1),
                       "fds_delta": after["fds"] - before["fds"]})
    return record


async def provision(ctx):
    """The accounts the attacks use, by in-band registration; False if that is refused."""
    names = ["v0", "a0", "h0"] + [f"s{n}" for n in range(SUBSCRIBERS)]
    results = await asyncio.gather(*(xmpp.register(ctx.target, ctx.tls, n) for n in names),
                                   return_exceptions=True)
    return all(r is True for r in results)


async def attackServer(ctx, pid, attacks, label):
    records = []
    honest = await ctx.login("h0", "honest")
    pinger = HonestPinger(honest, ctx.domain)
    pinger.task = asyncio.ensure_future(pinger.run())
    try:
        for name in attacks:
            note(f"{label}: {name}")
            record = await runAttack(ctx, name, pid, pinger)
            record["server"] = label
            sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
            sys.stdout.flush()
            records.append(record)
    finally:
        pinger.task.cancel()
        honest.close()
    return records


def runStarted(cls, args, root, cert, key):
    """Start a fresh C{cls} server, provision it, attack it, stop it."""
    reason = cls.missing()
    if reason:
        return [{"server": cls.name, "attack": a, "outcome": f"n/a: {reason}"}
                for a in args.attacks]
    server = cls(os.path.join(root, cls.name), cert, key, 0, ABUSE_SCENARIO, cls.freeOffset())
    try:
        server.configure()
        server.start()
        ctx = Context("127.0.0.1", server.c2sPort, server.httpPort, server.boshPath,
                      server.domain, server.mucDomain, server.s2sPort)
        for _ in range(50):  # BOSH may come up after the client port
            if portOpen(server.httpPort):
                break
            time.sleep(0.1)
        if not asyncio.run(provision(ctx)):
            note(f"{cls.name}: in-band registration refused; using its fallback")
            server.stop()
            for prefix, count in (("v", 1), ("a", 1), ("h", 1), ("s", SUBSCRIBERS)):
                server.provisionFallback(prefix, count, PASSWORD)
            server.start()
        return asyncio.run(attackServer(ctx, server.pid, args.attacks, cls.name))
    except (ServerError, OSError, xmpp.XMPPError) as e:
        return [{"server": cls.name, "attack": a, "outcome": f"n/a: {str(e)[:200]}"}
                for a in args.attacks]
    finally:
        server.stop()


def renderTable(records):
    columns = [("attack", "attack"), ("server", "server"), ("seconds", "s"),
               ("server_cpu_s", "server CPU s"), ("rss_delta_mb", "RSS delta MB"),
               ("rss_mb", "RSS after MB"), ("fds_delta", "fds delta"),
               ("ping_p99_ms", "honest ping p99 ms"), ("pings_lost", "pings lost"),
               ("outcome", "outcome")]
    lines = ["| " + " | ".join(title for _, title in columns) + " |",
             "|" + "---|" * len(columns)]
    for record in records:
        cells = [str(record.get(key, "n/a")) for key, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parser():
    p = argparse.ArgumentParser(prog="python -m bench.abuse", description=__doc__.split("\n\n")[0])
    p.add_argument("--servers", default="jabberd",
                   help="servers to start and attack, e.g. jabberd,prosody,ejabberd")
    p.add_argument("--attacks", default=",".join(ATTACKS),
                   help="comma-separated, from: " + ", ".join(ATTACKS))
    p.add_argument("--attach", type=int, default=None, metavar="PID",
                   help="attack the running server with this pid instead of starting one")
    p.add_argument("--c2s-port", type=int, default=5222)
    p.add_argument("--http-port", type=int, default=5280)
    p.add_argument("--bosh-path", default="/http-bind")
    p.add_argument("--domain", default="localhost")
    p.add_argument("--muc-domain", default="conference.localhost")
    p.add_argument("--workdir", default=None, help="parent of the temporary directory")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    args.attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    unknown = [a for a in args.attacks if a not in ATTACKS]
    if unknown:
        raise SystemExit(f"unknown attacks {unknown}; known: {', '.join(ATTACKS)}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    records = []
    if args.attach:
        ctx = Context("127.0.0.1", args.c2s_port, args.http_port, args.bosh_path,
                      args.domain, args.muc_domain)
        asyncio.run(provision(ctx))
        records = asyncio.run(attackServer(ctx, args.attach, args.attacks, f"pid {args.attach}"))
    else:
        root = tempfile.mkdtemp(prefix="xmpp-abuse-", dir=args.workdir)
        os.chmod(root, 0o755)
        try:
            cert, key = makeCertificate(root)
            for path in (cert, key):
                os.chmod(path, 0o644)
            for name in [s.strip() for s in args.servers.split(",") if s.strip()]:
                if name not in registry():
                    raise SystemExit(f"unknown server {name!r}; known: {', '.join(registry())}")
                records += runStarted(registry()[name], args, root, cert, key)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    sys.stdout.write("\n" + renderTable(records) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
