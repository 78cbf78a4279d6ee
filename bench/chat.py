"""
Message scenarios: one-to-one chat (RFC 6121 section 5) between pairs, and
a multi-user chat room (XEP-0045 sections 7.2 and 7.4) with one speaker.

Messages are pre-serialised byte templates; the send time in nanoseconds is
the body text, so the receiver finds it with C{bytes.find} and computes the
end-to-end latency without parsing XML.  A bounded window keeps the server
busy without letting queues grow: a new message leaves only when one in
flight has arrived.
"""

import asyncio
import re
import time

from bench import xmpp
from bench.loadgen import ms, names
from bench.measure import CpuMeter, percentile

__all__ = ["Phases", "runThroughput", "runMuc"]

_now = time.perf_counter_ns


class Phases:
    """
    Warm-up, measurement, drain: counts deliveries and latencies only while
    measuring, and tells senders to stop once the measurement is over.
    """

    def __init__(self):
        self.measuring = False
        self.stopping = False
        self.sent = 0
        self.received = 0
        self.measured = 0
        self.latencies = []

    async def run(self, warmup, duration, meter):
        """Warm up, measure for C{duration} s; the measured wall seconds."""
        await asyncio.sleep(warmup)
        meter.start()
        self.measuring = True
        started = time.perf_counter()
        await asyncio.sleep(duration)
        self.measuring = False
        self.stopping = True
        return time.perf_counter() - started

    async def drain(self, timeout, expected):
        """Wait until C{expected()} deliveries arrived, at most C{timeout} s."""
        deadline = time.perf_counter() + timeout
        while self.received < expected() and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)

    def scanBodies(self, chunk):
        """Count C{<body>TIME</body>} in C{chunk}; record latencies; the count."""
        now = _now()
        count = 0
        pos = chunk.find(b"<body>")
        while pos >= 0:
            end = chunk.find(b"</body>", pos)
            if self.measuring:
                self.latencies.append(now - int(chunk[pos + 6:end].rsplit(b" ", 1)[-1]))
            count += 1
            pos = chunk.find(b"<body>", end)
        self.received += count
        if self.measuring:
            self.measured += count
        return count

    def report(self, wall):
        lat = [ns / 1e9 for ns in self.latencies]
        return {"delivered_per_s": round(self.measured / wall, 1),
                "p50_ms": ms(percentile(lat, 0.5)), "p99_ms": ms(percentile(lat, 0.99)),
                "sent": self.sent, "received": self.received}


class ChatFlow:
    """Messages from one client to one full JID, refilled as they arrive."""

    def __init__(self, phases, source, destination):
        self.phases = phases
        self.source = source
        self.template = (b"<message to='" + destination.encode()
                         + b"' type='chat'><body>%d</body></message>")

    def refill(self, count):
        if self.phases.stopping or count <= 0:
            return
        self.source.send((self.template % _now()) * count)
        self.phases.sent += count

    def receiver(self):
        """The handler for the destination's connection."""
        phases, refill = self.phases, self.refill
        return xmpp.StanzaBuffer(b"</message>", lambda chunk: refill(phases.scanBodies(chunk)))


async def runThroughput(args, target, ctx):
    """
    P pairs exchange chat messages, C{window} in flight per pair; with
    C{--peer-port} the second of each pair logs in there (another node of
    a cluster), so every message crosses between the two.
    """
    everyone = names(args.prefix, 2 * args.pairs)
    if getattr(args, "peer_port", None):
        peer = xmpp.Target(target.host, args.peer_port, target.domain, target.mucDomain,
                           target.password)
        firsts, firstErrors = (await xmpp.loginMany(target, ctx, everyone[0::2], args.concurrency,
                                                    timeout=args.step_timeout))[0::2]
        seconds, secondErrors = (await xmpp.loginMany(peer, ctx, everyone[1::2],
                                                      args.concurrency,
                                                      timeout=args.step_timeout))[0::2]
        conns = [c for pair in zip(firsts, seconds) for c in pair]
        errors = firstErrors + secondErrors
    else:
        conns, _, errors = await xmpp.loginMany(target, ctx, everyone, args.concurrency,
                                                timeout=args.step_timeout)
    if errors:
        xmpp.closeAll(conns)
        return {"error": f"{len(errors)} logins failed: {errors[0]}"}
    phases = Phases()
    flows = []
    for i in range(args.pairs):
        a, b = conns[2 * i], conns[2 * i + 1]
        for src, dst in ((a, b), (b, a)):
            flow = ChatFlow(phases, src, dst.jid)
            dst.setHandler(flow.receiver())
            flows.append(flow)
    meter = CpuMeter(args.server_pid)
    perDirection = max(1, args.window // 2)
    for flow in flows:
        flow.refill(perDirection)
    wall = await phases.run(args.warmup, args.duration, meter)
    result = meter.result()
    await phases.drain(10.0, lambda: phases.sent)
    alive = sum(1 for c in conns if not c.lost)
    xmpp.closeAll(conns)
    result.update(phases.report(wall))
    result.update({"pairs": args.pairs, "window": perDirection * 2,
                   "lost": phases.sent - phases.received, "alive": alive})
    return result


def _selfPresence(roomNick):
    return re.compile(rb"<presence\b[^>]*\bfrom=['\"]" + re.escape(roomNick.encode())
                      + rb"['\"][^>]*>")


async def join(conn, room, nick, timeout):
    """Enter C{room} as C{nick} (XEP-0045 7.2) and wait for our own presence."""
    conn.send(f"<presence to='{room}/{nick}'><x xmlns='http://jabber.org/protocol/muc'>"
              "<history maxstanzas='0'/></x></presence>".encode())
    tag = (await conn.expect(_selfPresence(f"{room}/{nick}"), timeout)).group(0)
    if b"type='error'" in tag or b'type="error"' in tag:
        raise xmpp.XMPPError(f"cannot join {room}: {tag[:200]!r}")


async def createRoom(conn, room, nick, timeout):
    """Join first, then accept the default configuration (instant room, 10.1.2)."""
    await join(conn, room, nick, timeout)
    conn.send(f"<iq type='set' id='cfg1' to='{room}'><query "
              "xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' "
              "type='submit'/></query></iq>".encode())
    await conn.expect(xmpp.iqPattern(b"cfg1"), timeout)


class RoomFlow:
    """
    One speaker, every occupant (the speaker too) receives each message; a
    message counts as done when all occupants got it, then the next leaves.
    """

    def __init__(self, phases, speaker, room, occupants):
        self.phases = phases
        self.speaker = speaker
        self.occupants = occupants
        self.template = (b"<message to='" + room.encode()
                         + b"' type='groupchat'><body>%d %d</body></message>")
        self.seq = 0
        self.remaining = {}

    def send(self, count):
        if self.phases.stopping:
            return
        out = []
        for _ in range(count):
            self.seq += 1
            self.remaining[self.seq] = self.occupants
            out.append(self.template % (self.seq, _now()))
        self.speaker.send(b"".join(out))
        self.phases.sent += count

    def scan(self, chunk):
        """Count deliveries and latencies in one pass; refill finished messages."""
        now = _now()
        phases, remaining = self.phases, self.remaining
        measuring = phases.measuring
        done = count = 0
        pos = chunk.find(b"<body>")
        while pos >= 0:
            space = chunk.find(b" ", pos)
            end = chunk.find(b"</body>", space)
            seq = int(chunk[pos + 6:space])
            if measuring:
                phases.latencies.append(now - int(chunk[space + 1:end]))
            count += 1
            left = remaining.get(seq, 1) - 1
            if left <= 0:
                remaining.pop(seq, None)
                done += 1
            else:
                remaining[seq] = left
            pos = chunk.find(b"<body>", end)
        phases.received += count
        if measuring:
            phases.measured += count
        if done:
            self.send(done)


async def runMuc(args, target, ctx):
    """N occupants in one room, one speaker: deliveries/s and latency."""
    occupants = names(args.prefix, args.count)
    conns, _, errors = await xmpp.loginMany(target, ctx, occupants, args.concurrency,
                                            timeout=args.step_timeout)
    if errors:
        xmpp.closeAll(conns)
        return {"error": f"{len(errors)} logins failed: {errors[0]}"}
    room = f"bench{args.count}@{target.mucDomain}"
    try:
        await createRoom(conns[0], room, occupants[0], args.step_timeout)
        gate = asyncio.Semaphore(args.concurrency)

        async def enter(conn, nick):
            async with gate:
                await join(conn, room, nick, args.step_timeout)

        await asyncio.gather(*(enter(c, n) for c, n in zip(conns[1:], occupants[1:])))
    except (xmpp.XMPPError, asyncio.TimeoutError) as e:
        xmpp.closeAll(conns)
        return {"error": f"MUC join failed: {e}"}
    await asyncio.sleep(1.0)  # let the join presence storm end before measuring
    phases = Phases()
    flow = RoomFlow(phases, conns[0], room, args.count)
    for conn in conns:
        conn.setHandler(xmpp.StanzaBuffer(b"</message>", flow.scan))
    meter = CpuMeter(args.server_pid)
    flow.send(args.window)
    wall = await phases.run(args.warmup, args.duration, meter)
    result = meter.result()
    await phases.drain(10.0, lambda: phases.sent * args.count)
    alive = sum(1 for c in conns if not c.lost)
    xmpp.closeAll(conns)
    result.update(phases.report(wall))
    result.update({"occupants": args.count, "window": args.window, "alive": alive,
                   "lost": phases.sent * args.count - phases.received})
    return result
