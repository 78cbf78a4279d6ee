"""
Roster scenarios (RFC 6121): C{mesh} makes every user a mutual contact of
every other through the server's own subscription handshake (section 3.1:
subscribe, subscribed), before anything is timed; C{roster} then logs all of
them in at once (roster get, initial presence, section 4.2) and times how
long until every user has received available presence from all contacts.

Presence is found by its start tag only: the C{from} attribute and the
absence of a C{type} (RFC 6121 section 4.2.2) are all that matter.

With C{--caps} (scenario C{rostercaps}) every initial presence carries the
entity capabilities (XEP-0115 section 6.1) of one client software, the same
verification string for all users, and every iq get a user receives (the
server's caps queries, section 6.2) is answered with that software's
disco#info, so a server that verifies caps does it at its own cost.
"""

import asyncio
import base64
import hashlib
import re
import time

from bench import xmpp
from bench.loadgen import names
from bench.measure import CpuMeter, percentile

__all__ = ["runMesh", "runRoster", "PresenceWatcher", "ClientCaps"]

_FROM = re.compile(rb"\bfrom=['\"]([^'\"/]+)")
_FROM_FULL = re.compile(rb"\bfrom=['\"]([^'\"]+)")
_TYPE = re.compile(rb"\btype=['\"]([a-z]+)")
_JID = re.compile(rb"\bjid=['\"]([^'\"]+)")
_BOTH = re.compile(rb"\bsubscription=['\"]both['\"]")
_ID = re.compile(rb"\bid=['\"]([^'\"]+)")
_GET = re.compile(rb"\btype=['\"]get['\"]")

NS_CAPS = "http://jabber.org/protocol/caps"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
CAPS_NODE = "https://example.org/bench-client"
CAPS_IDENTITY = ("client", "pc", "bench")
CAPS_FEATURES = (NS_CAPS, NS_DISCO_INFO, "urn:xmpp:avatar:metadata+notify")


class ClientCaps:
    """
    The entity capabilities (XEP-0115) of one client software with
    C{features}: its presence, and its answer to the server's disco#info.

    @ivar ver: the verification string (section 5.1, SHA-1).
    @ivar presence: an initial presence carrying C{<c/>} (section 6.1).
    """

    def __init__(self, features=CAPS_FEATURES, node=CAPS_NODE, identity=CAPS_IDENTITY):
        category, kind, name = identity
        text = f"{category}/{kind}//{name}<" + "".join(f + "<" for f in sorted(features))
        self.ver = base64.b64encode(hashlib.sha1(text.encode()).digest()).decode()
        self.presence = (f"<presence><c xmlns='{NS_CAPS}' hash='sha-1' node='{node}' "
                         f"ver='{self.ver}'/></presence>").encode()
        self._info = (f"<query xmlns='{NS_DISCO_INFO}' node='{node}#{self.ver}'>"
                      f"<identity category='{category}' type='{kind}' name='{name}'/>"
                      + "".join(f"<feature var='{f}'/>" for f in features)
                      + "</query></iq>").encode()

    def answerGets(self, conn, chunk):
        """Answer every iq get start tag in C{chunk} with this disco#info; how many."""
        answered = 0
        pos = chunk.find(b"<iq")
        while pos >= 0:
            end = chunk.find(b">", pos)
            tag = chunk[pos:end]
            ident, sender = _ID.search(tag), _FROM_FULL.search(tag)
            if _GET.search(tag) and ident is not None and sender is not None:
                conn.send(b"<iq type='result' id='" + ident.group(1) + b"' to='"
                          + sender.group(1) + b"'>" + self._info)
                answered += 1
            pos = chunk.find(b"<iq", end)
        return answered


#: The one client software of C{rostercaps}.
ROSTER_CAPS = ClientCaps()


def presenceTags(chunk):
    """Yield (bare from, type or None) for each presence start tag in C{chunk}."""
    pos = chunk.find(b"<presence")
    while pos >= 0:
        end = chunk.find(b">", pos)
        tag = chunk[pos:end]
        sender = _FROM.search(tag)
        kind = _TYPE.search(tag)
        if sender is not None:
            yield sender.group(1), (kind.group(1) if kind else None)
        pos = chunk.find(b"<presence", end)


class PresenceWatcher:
    """
    One user's input during C{mesh}: answers subscription requests with
    C{subscribed} and counts the contacts that roster pushes (RFC 6121
    section 2.1.6) show with subscription C{both}.
    """

    def __init__(self, conn, own, done):
        self.conn = conn
        self.own = own
        self.mutual = set()
        self.done = done
        self.need = 0

    def __call__(self, chunk):
        for sender, kind in presenceTags(chunk):
            if kind == b"subscribe":
                self.conn.send(b"<presence to='" + sender + b"' type='subscribed'/>")
        pos = chunk.find(b"<item ")
        while pos >= 0:
            end = chunk.find(b">", pos)
            tag = chunk[pos:end]
            contact = _JID.search(tag)
            if contact is not None and _BOTH.search(tag):
                self.mutual.add(contact.group(1))
            pos = chunk.find(b"<item ", end)
        if len(self.mutual) >= self.need:
            self.done()


async def runMesh(args, target, ctx):
    """Make all C{count} users mutual contacts (subscription both)."""
    users = names(args.prefix, args.count)
    # Roster get first: only "interested resources" get roster pushes (RFC 6121 2.1.6).
    conns, _, errors = await xmpp.loginMany(target, ctx, users, args.concurrency,
                                            timeout=args.step_timeout, rosterGet=True)
    if errors:
        xmpp.closeAll(conns)
        return {"error": f"{len(errors)} logins failed: {errors[0]}"}
    finished = asyncio.Event()
    pending = set(range(len(users)))
    jids = [f"{u}@{target.domain}" for u in users]
    watchers = []
    for i, conn in enumerate(conns):
        def done(i=i):
            pending.discard(i)
            if not pending:
                finished.set()
        watcher = PresenceWatcher(conn, jids[i].encode(), done)
        watcher.need = len(users) - 1
        watchers.append(watcher)
        conn.setHandler(xmpp.StanzaBuffer(b">", watcher))
    started = time.perf_counter()
    for i, conn in enumerate(conns):
        conn.send(b"".join(f"<presence to='{j}' type='subscribe'/>".encode()
                           for j in jids if j != jids[i]))
    try:
        await asyncio.wait_for(finished.wait(), args.step_timeout)
    except asyncio.TimeoutError:
        pass
    await asyncio.sleep(1.0)  # let the last roster pushes be stored
    xmpp.closeAll(conns)
    complete = len(users) - len(pending)
    result = {"users": len(users), "mutual": complete,
              "seconds": round(time.perf_counter() - started, 2)}
    if pending:
        result["error"] = f"{len(pending)} users incomplete, e.g. {users[min(pending)]} " \
                          f"with {len(watchers[min(pending)].mutual)} contacts"
    return result


class ArrivalCounter:
    """One user's input during C{roster}: distinct contacts seen available."""

    def __init__(self, own, need, started, arrived, conn=None):
        self.own = own
        self.need = need
        self.started = started
        self.seen = set()
        self.arrived = arrived
        self.elapsed = None
        self.conn = conn  # set: answer caps queries (--caps)
        self.queries = 0

    def __call__(self, chunk):
        if self.conn is not None and b"<iq" in chunk:
            self.queries += ROSTER_CAPS.answerGets(self.conn, chunk)
        if self.elapsed is not None:
            return
        for sender, kind in presenceTags(chunk):
            if kind is None and sender != self.own:
                self.seen.add(sender)
        if len(self.seen) >= self.need:
            self.elapsed = time.perf_counter() - self.started
            self.arrived()


async def runRoster(args, target, ctx):
    """All users (mutual contacts) log in at once: time until all presence arrived."""
    users = names(args.prefix, args.count)
    need = len(users) - 1
    counters = [None] * len(users)
    finished = asyncio.Event()
    left = [len(users)]

    def arrived():
        left[0] -= 1
        if left[0] == 0:
            finished.set()

    meter = CpuMeter(args.server_pid)
    started = time.perf_counter()

    caps = getattr(args, "caps", False)

    def onLogin(i, conn):
        counters[i] = ArrivalCounter(f"{users[i]}@{target.domain}".encode(), need, started,
                                     arrived, conn if caps else None)
        conn.setHandler(xmpp.StanzaBuffer(b">", counters[i]))

    conns, latencies, errors = await xmpp.loginMany(
        target, ctx, users, len(users), onLogin=onLogin, timeout=args.step_timeout,
        rosterGet=True, presence=ROSTER_CAPS.presence if caps else True)
    loginsDone = time.perf_counter() - started
    try:
        await asyncio.wait_for(finished.wait(), args.step_timeout)
    except asyncio.TimeoutError:
        pass
    result = meter.result()
    xmpp.closeAll(conns)
    times = [c.elapsed for c in counters if c is not None and c.elapsed is not None]
    result.update({"users": len(users), "contacts": need, "errors": len(errors),
                   "complete": len(times), "logins_s": round(loginsDone, 3),
                   "all_presence_s": round(max(times), 3) if len(times) == len(users) else None,
                   "p50_s": round(percentile(times, 0.5), 3) if times else None})
    if caps:
        result["caps_queries"] = sum(c.queries for c in counters if c is not None)
    if len(times) < len(users):
        worst = min((c for c in counters if c is not None), key=lambda c: len(c.seen), default=None)
        result["error"] = (f"{len(users) - len(times)} users did not see all contacts"
                           + (f" (one saw {len(worst.seen)})" if worst else ""))
    return result
