"""
PEP fan-out (XEP-0163): one publisher with 50 mutual contacts (made by
C{mesh}) who all advertise C{NODE+notify} in their entity capabilities
(XEP-0115; every iq get a contact receives, the server's caps query, is
answered with that disco#info), so the server must notify each of them of
every item the publisher publishes (XEP-0163 section 4.3.1, filtered
notifications of XEP-0060 section 9.2).

After a warm-up publish that reaches all 50 (the servers have verified the
caps by then), the publisher keeps C{--window} publishes in flight (a new
one leaves when every contact has been notified of an earlier one) for
C{--duration} seconds.  Figures: notifications delivered per second
(events/s) and the latency from sending a publish to the moment the last
of the 50 got its notification (p50/p99).

Notifications are found by the item id alone (C{<item id='bN'>} in the
event), with C{bytes.find} and one regular expression; nothing is parsed.
"""

import asyncio
import re
import time

from bench import xmpp
from bench.loadgen import _discard, ms, names
from bench.measure import CpuMeter, percentile
from bench.roster import CAPS_FEATURES, ClientCaps

__all__ = ["runPepFanout", "NODE"]

NODE = "http://jabber.org/protocol/tune"  # User Tune (XEP-0118), a typical PEP node
CONTACT_CAPS = ClientCaps(CAPS_FEATURES + (NODE + "+notify",))
_ITEM = re.compile(rb"<item\b[^>]*\bid=['\"]([bw])(\d+)['\"]")


def publishStanza(prefix, seq):
    """One publish of a tune item with id C{prefix}C{seq} (XEP-0163 section 3)."""
    return (f"<iq type='set' id='pub{prefix}{seq}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
            f"<publish node='{NODE}'><item id='{prefix}{seq}'>"
            f"<tune xmlns='{NODE}'><artist>Bench</artist><title>Track {seq}</title>"
            f"<length>{180 + seq % 60}</length></tune></item></publish></pubsub></iq>").encode()


class Fanout:
    """
    The publishes in flight and who has been notified of each; the
    measurement window (events counted, latencies kept) is open while
    C{measuring}.
    """

    def __init__(self, publisher, contacts, window):
        self.publisher = publisher
        self.contacts = contacts
        self.window = window
        self.sent = {}  # seq -> perf_counter at send
        self.notified = {}  # (prefix, seq) -> contacts notified so far
        self.measuring = False
        self.stopping = False
        self.events = 0
        self.latencies = []
        self.completed = 0
        self.next = 0
        self.warm = {}  # warm-up seq -> contacts notified

    def scan(self, chunk):
        """Count the notifications in one contact's C{chunk}."""
        now = time.perf_counter()
        for match in _ITEM.finditer(chunk):
            prefix, seq = match.group(1), int(match.group(2))
            if prefix == b"w":
                self.warm[seq] = self.warm.get(seq, 0) + 1
                continue
            count = self.notified.get(seq, 0) + 1
            self.notified[seq] = count
            if self.measuring:
                self.events += 1
            if count == self.contacts:
                self._done(seq, now)

    def _done(self, seq, now):
        started = self.sent.pop(seq, None)
        if started is None:
            return
        self.completed += 1
        if self.measuring:
            self.latencies.append(now - started)
        if not self.stopping:
            self.publish()

    def publish(self):
        seq = self.next
        self.next += 1
        self.sent[seq] = time.perf_counter()
        self.publisher.send(publishStanza("b", seq))

    async def warmUp(self, timeout):
        """Publish until one publish reaches every contact; the seconds it took (None: never)."""
        started = time.perf_counter()
        seq = 0
        while time.perf_counter() - started < timeout:
            self.publisher.send(publishStanza("w", seq))
            deadline = time.perf_counter() + 2.0
            while time.perf_counter() < deadline:
                if self.warm.get(seq, 0) >= self.contacts:
                    return time.perf_counter() - started
                await asyncio.sleep(0.02)
            seq += 1
        return None


async def runPepFanout(args, target, ctx):
    """User 0 publishes to NODE; users 1..N-1, its contacts, want NODE+notify."""
    users = names(args.prefix, args.count)
    contacts = len(users) - 1
    conns = [None] * len(users)
    fanout = None
    queries = [0]

    def contactInput(conn):
        def scan(chunk):
            if b"<iq" in chunk:
                queries[0] += CONTACT_CAPS.answerGets(conn, chunk)
            if fanout is not None and b"<item" in chunk:
                fanout.scan(chunk)
        return xmpp.StanzaBuffer(b">", scan)

    def onLogin(i, conn):
        conn.setHandler(contactInput(conn))

    contactConns, _, errors = await xmpp.loginMany(
        target, ctx, users[1:], len(users), onLogin=onLogin, timeout=args.step_timeout,
        rosterGet=True, presence=CONTACT_CAPS.presence)
    publisherConns, _, publisherErrors = await xmpp.loginMany(
        target, ctx, users[:1], 1, onLogin=lambda i, conn: conn.setHandler(_discard),
        timeout=args.step_timeout, rosterGet=True, presence=True)
    conns = contactConns + publisherConns
    errors += publisherErrors
    if errors:
        xmpp.closeAll(conns)
        return {"error": f"{len(errors)} logins failed: {errors[0]}"}
    fanout = Fanout(publisherConns[0], contacts, args.window)
    warmup = await fanout.warmUp(args.step_timeout)
    if warmup is None:
        xmpp.closeAll(conns)
        best = max(fanout.warm.values(), default=0)
        return {"error": f"no warm-up publish reached all {contacts} contacts "
                         f"(at best {best}; caps queries answered: {queries[0]})"}
    meter = CpuMeter(args.server_pid)
    for _ in range(args.window):
        fanout.publish()
    await asyncio.sleep(args.warmup)
    meter.start()
    fanout.measuring = True
    started = time.perf_counter()
    await asyncio.sleep(args.duration)
    fanout.measuring = False
    fanout.stopping = True
    wall = time.perf_counter() - started
    result = meter.result()
    deadline = time.perf_counter() + 10
    while fanout.sent and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    xmpp.closeAll(conns)
    result.update({
        "contacts": contacts, "window": args.window, "warmup_s": round(warmup, 2),
        "caps_queries": queries[0], "publishes": fanout.next, "completed": fanout.completed,
        "events_per_s": round(fanout.events / wall, 1),
        "publishes_per_s": round(len(fanout.latencies) / wall, 1),
        "p50_ms": ms(percentile(fanout.latencies, 0.5)),
        "p99_ms": ms(percentile(fanout.latencies, 0.99)),
        "incomplete": len(fanout.sent)})
    if fanout.sent:
        result["error"] = f"{len(fanout.sent)} publishes did not reach all {contacts} contacts"
    return result

