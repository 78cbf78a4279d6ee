"""
The C{csi} scenario: what an idle phone costs in a busy roster, with and
without Client State Indication (XEP-0352).

All users are mutual contacts (made by C{mesh}, as for C{roster}).  User 0
is the observer; the other users log in and then change their presence
(C{<show/>} and C{<status/>}, RFC 6121 section 4.4) C{--rate} times a
second each for C{--duration} seconds, spread evenly.  The observer sits
through this twice: once plainly, once after C{<inactive/>}.  For each
round it counts the bytes and the reads (each read is a wake-up of a
phone's radio and CPU) of what arrives while its user is away, then one
contact sends it a chat message with a body: with CSI the server first
writes the latest presence of each contact, so the figures include what
that costs, and the time until the message arrives.

Presence and messages are found by their start tags only (see
L{bench.roster.presenceTags}); nothing is parsed.  With C{BENCH_CSI_DUMP=DIR}
in the environment the observer also writes what it read, one file per round
and phase (C{DIR/plain-idle.xml}, C{DIR/csi-wake.xml}, ...), each read on a
line of its own, to see what a server sent.
"""

import asyncio
import os
import time

from bench import xmpp
from bench.loadgen import ms, names
from bench.measure import CpuMeter
from bench.roster import presenceTags

__all__ = ["runCsi", "Observer"]

NS_CSI = "urn:xmpp:csi:0"
SYNC = b"csi-sync"


class Observer:
    """
    The observer's input: bytes, reads and presence tags from contacts,
    and whether the sync answer or the wake-up message has arrived.
    """

    def __init__(self, contacts):
        self.contacts = contacts
        self.reset()
        self.synced = asyncio.Event()
        self.woken = asyncio.Event()
        self.wokenAt = None

    def reset(self, dumpName=None):
        """Start counting afresh; with C{dumpName} keep the reads for L{dump}."""
        self.dumpName = dumpName
        self.kept = []
        self.bytes = 0
        self.reads = 0
        self.presences = 0
        self.senders = set()

    def __call__(self, data):
        self.bytes += len(data)
        self.reads += 1
        if self.dumpName is not None:
            self.kept.append(data)
        for sender, kind in presenceTags(data):
            if sender in self.contacts:
                self.presences += 1
                self.senders.add(sender)
        if SYNC in data:
            self.synced.set()
        if b"wake up" in data and self.wokenAt is None:
            self.wokenAt = time.perf_counter()
            self.woken.set()

    def dump(self):
        """Write the kept reads to C{$BENCH_CSI_DUMP/NAME.xml}, when that is set."""
        folder = os.environ.get("BENCH_CSI_DUMP")
        if folder and self.dumpName is not None:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, self.dumpName + ".xml"), "wb") as out:
                out.write(b"\n".join(self.kept) + b"\n")


async def sync(conn, observer, timeout):
    """A ping answered: the server processed everything the observer sent before it."""
    observer.synced.clear()
    conn.send(b"<iq type='get' id='" + SYNC + b"'><ping xmlns='urn:xmpp:ping'/></iq>")
    await asyncio.wait_for(observer.synced.wait(), timeout)


async def churn(contacts, rate, duration):
    """Each contact broadcasts C{rate} presence updates a second for C{duration} s."""
    shows = (b"away", b"xa", b"dnd", b"chat")
    interval = 1.0 / (rate * len(contacts))
    total = int(rate * len(contacts) * duration)
    started = time.perf_counter()
    for sent in range(total):
        conn = contacts[sent % len(contacts)]
        show = shows[(sent // len(contacts)) % len(shows)]
        conn.send(b"<presence><show>" + show + b"</show><status>" + str(sent).encode()
                  + b"</status></presence>")
        # On a schedule, not a fixed sleep: the sleeps' overruns do not add up.
        await asyncio.sleep(max(0.0, started + (sent + 1) * interval - time.perf_counter()))
    return total


async def observe(args, target, ctx, observerName, contacts, contactJids, inactive):
    """One round: the observer logs in, optionally goes inactive, sits, and is woken."""
    observer = Observer(contactJids)
    conn = await xmpp.login(target, ctx, observerName, resource="csi" if inactive else "plain",
                            rosterGet=True, timeout=args.step_timeout)
    conn.setHandler(observer)
    try:
        if inactive:
            conn.send(f"<inactive xmlns='{NS_CSI}'/>".encode())
        await sync(conn, observer, args.step_timeout)
        await asyncio.sleep(args.settle)  # initial presence and probes answered
        label = "csi" if inactive else "plain"
        observer.reset(label + "-idle")
        updates = await churn(contacts, args.rate, args.duration)
        await asyncio.sleep(0.5)  # the last updates reach the observer, or are held
        idle = {"bytes": observer.bytes, "reads": observer.reads,
                "presences": observer.presences}
        observer.dump()
        observer.reset(label + "-wake")
        started = time.perf_counter()
        contacts[0].send(f"<message to='{conn.jid}' type='chat'><body>wake up</body>"
                         "</message>".encode())
        await asyncio.wait_for(observer.woken.wait(), args.step_timeout)
        woken = {"bytes": observer.bytes, "reads": observer.reads,
                 "presences": observer.presences, "contacts_seen": len(observer.senders),
                 "message_ms": ms(observer.wokenAt - started)}
        if os.environ.get("BENCH_CSI_DUMP"):
            await asyncio.sleep(0.2)  # what follows the message, for the dump only
        observer.dump()
    finally:
        conn.close()
    return updates, idle, woken


async def runCsi(args, target, ctx):
    """The observer's costs in a busy roster, plainly and inactive (see the module)."""
    users = names(args.prefix, args.count)
    contactJids = {f"{u}@{target.domain}".encode() for u in users[1:]}
    contacts, _, errors = await xmpp.loginMany(
        target, ctx, users[1:], args.concurrency, timeout=args.step_timeout,
        onLogin=lambda i, conn: conn.setHandler(lambda data: None))
    if errors:
        xmpp.closeAll(contacts)
        return {"error": f"{len(errors)} logins failed: {errors[0]}"}
    meter = CpuMeter(args.server_pid)
    result = {"contacts": len(contacts), "rate_per_contact": args.rate,
              "seconds": args.duration}
    try:
        for label, inactive in (("plain", False), ("csi", True)):
            updates, idle, woken = await observe(args, target, ctx, users[0], contacts,
                                                 contactJids, inactive)
            result["updates"] = updates
            for key, value in idle.items():
                result[f"{label}_idle_{key}"] = value
            for key, value in woken.items():
                result[f"{label}_wake_{key}"] = value
            result[f"{label}_bytes"] = idle["bytes"] + woken["bytes"]
            result[f"{label}_reads"] = idle["reads"] + woken["reads"]
    finally:
        xmpp.closeAll(contacts)
    result.update(meter.result())
    if result["csi_bytes"]:
        result["bytes_saved_x"] = round(result["plain_bytes"] / result["csi_bytes"], 1)
    if result["csi_reads"]:
        result["reads_saved_x"] = round(result["plain_reads"] / result["csi_reads"], 1)
    return result
