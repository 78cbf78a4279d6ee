"""
A minimal BOSH client (XEP-0124, XMPP over BOSH XEP-0206) on hand-written
HTTP/1.1 keep-alive requests over asyncio streams, and the C{bosh} scenario:
hold N idle sessions (each with one long-poll request pending, C{hold=1})
and measure message latency between some of them.

Negotiation reuses L{bench.xmpp.authenticate} and L{bench.xmpp.bind}: a
L{BoshSession} offers the same C{send}/C{expect} pair as a TCP connection.
"""

import asyncio
import random
import re
import time

from bench import xmpp
from bench.chat import Phases
from bench.loadgen import names
from bench.measure import CpuMeter, treeRSS

__all__ = ["BoshError", "HttpConnection", "BoshSession", "runBosh"]

NS_HTTPBIND = "http://jabber.org/protocol/httpbind"
_SID = re.compile(rb"\bsid=['\"]([^'\"]+)['\"]")
_TERMINATE = re.compile(rb"<body\b[^>]*\btype=['\"]terminate['\"]")


class BoshError(xmpp.XMPPError):
    """An HTTP error or a terminated BOSH session."""


class HttpConnection:
    """One keep-alive HTTP/1.1 connection that POSTs and reads one reply at a time."""

    def __init__(self, host, port, path):
        self.host, self.port = host, port
        self.head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     "Content-Type: text/xml; charset=utf-8\r\nContent-Length: ").encode()
        self.reader = self.writer = None

    async def post(self, body, timeout):
        """POST C{body}; the response body (bytes)."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), timeout)
        self.writer.write(self.head + b"%d\r\n\r\n" % len(body) + body)
        return await asyncio.wait_for(self._response(), timeout)

    async def _response(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = head[9:12]
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            body = await self._chunked()
        else:
            length = re.search(rb"content-length:\s*(\d+)", lower)
            body = await self.reader.readexactly(int(length.group(1))) if length else b""
        if b"connection: close" in lower:
            self.close()
        if status != b"200":
            raise BoshError(f"HTTP {status.decode()}: {body[:200]!r}")
        return body

    async def _chunked(self):
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class BoshSession:
    """
    One BOSH session.  While negotiating, L{send} queues payloads and
    L{expect} drives request/response round trips until a pattern shows up;
    after L{startPolling}, the session keeps one request pending at all
    times and hands every response body to a handler.
    """

    def __init__(self, host, port, path, domain, timeout=60.0, wait=60):
        self.conns = [HttpConnection(host, port, path) for _ in range(2)]
        self.free = list(self.conns)
        self.domain, self.timeout, self.wait = domain, timeout, wait
        self.rid = random.randint(1 << 20, 1 << 40)
        self.sid = b""
        self.buf = bytearray()
        self.pending = []
        self.outstanding = 0
        self.handler = None
        self.failure = None
        self.lost = False
        self.jid = None
        self.tasks = set()

    def _body(self, payload, attrs=b""):
        self.rid += 1
        head = b"<body rid='%d' sid='%s' xmlns='%s'%s" % (
            self.rid, self.sid, NS_HTTPBIND.encode(), attrs)
        return head + (b">" + payload + b"</body>" if payload else b"/>")

    async def _roundTrip(self, payload, attrs=b"", conn=None):
        conn = conn or self.free.pop()
        try:
            data = await conn.post(self._body(payload, attrs), self.timeout)
        finally:
            self.free.append(conn)
        if _TERMINATE.search(data):
            self.lost = True
            raise BoshError(f"session terminated: {data[:300]!r}")
        return data

    async def create(self):
        """Open the session (XEP-0124 section 7, XEP-0206 section 3)."""
        self.rid += 1
        request = (f"<body content='text/xml; charset=utf-8' hold='1' rid='{self.rid}' "
                   f"to='{self.domain}' ver='1.6' wait='{self.wait}' xml:lang='en' "
                   f"xmpp:version='1.0' xmlns='{NS_HTTPBIND}' xmlns:xmpp='urn:xmpp:xbosh'/>")
        conn = self.free.pop()
        try:
            data = await conn.post(request.encode(), self.timeout)
        finally:
            self.free.append(conn)
        sid = _SID.search(data)
        if sid is None:
            raise BoshError(f"no sid in {data[:300]!r}")
        self.sid = sid.group(1)
        self.buf += data

    def send(self, data):
        self.pending.append(data)
        if self.handler is not None:
            self._pump()

    async def expect(self, pattern, timeout=30.0):
        """Round trips (carrying queued payloads) until C{pattern} appears."""
        deadline = time.perf_counter() + timeout
        while True:
            match = xmpp.takeMatch(self.buf, pattern)
            if match is not None:
                return match
            if time.perf_counter() > deadline:
                raise BoshError(f"timeout waiting for {pattern.pattern[:40]!r}")
            payload, self.pending = b"".join(self.pending), []
            self.buf += await self._roundTrip(payload)

    async def restart(self):
        """The stream restart after SASL (XEP-0206 section 5); the new features."""
        self.buf += await self._roundTrip(
            b"", b" to='%s' xml:lang='en' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'"
            % self.domain.encode())
        return (await self.expect(xmpp._FEATURES, self.timeout)).group(0)

    def startPolling(self, handler):
        """Hand all input to C{handler} and keep a request pending from now on."""
        self.handler = handler
        if self.buf:
            data, self.buf = bytes(self.buf), bytearray()
            handler(data)
        self._pump()

    def _pump(self):
        while self.free and not self.lost and (self.pending or self.outstanding == 0):
            payload, self.pending = b"".join(self.pending), []
            self.outstanding += 1
            # Take the connection now: the task starts later, after this loop.
            task = asyncio.ensure_future(self._poll(payload, self.free.pop()))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _poll(self, payload, conn):
        try:
            data = await self._roundTrip(payload, conn=conn)
        except (BoshError, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            self.failure = self.failure or str(e)
            self.lost = True
            return
        finally:
            self.outstanding -= 1
        self.handler(data)
        self._pump()

    def close(self):
        if self.sid and not self.lost:
            self.lost = True
            for task in list(self.tasks):
                task.cancel()
        for conn in self.conns:
            conn.close()


async def boshLogin(args, target, ctx, username, handler):
    """Create a session, SCRAM-SHA-1, restart, bind, presence; then poll."""
    session = BoshSession(target.host, args.http_port, args.bosh_path, target.domain,
                          timeout=args.step_timeout)
    try:
        await session.create()
        features = (await session.expect(xmpp._FEATURES, args.step_timeout)).group(0)
        await xmpp.authenticate(session, features, username, target.password, args.step_timeout)
        features = await session.restart()
        await xmpp.bind(session, features, "bosh", args.step_timeout)
    except BaseException:
        session.close()
        raise
    session.pending.append(b"<presence xmlns='jabber:client'/>")
    session.startPolling(handler)
    return session


async def runBosh(args, target, ctx):
    """Hold N idle BOSH sessions; messages between P pairs at a fixed rate."""
    users = names(args.prefix, args.count)
    pairs = min(args.pairs, len(users) // 2)
    phases = Phases()
    await asyncio.sleep(args.settle)
    empty = treeRSS(args.server_pid)
    sessions = [None] * len(users)
    errors = []
    gate = asyncio.Semaphore(args.concurrency)

    def receiver():
        return xmpp.StanzaBuffer(b"</message>", phases.scanBodies)

    async def one(i, name):
        async with gate:
            try:
                sessions[i] = await boshLogin(args, target, ctx, name, receiver())
            except (xmpp.XMPPError, xmpp.ScramError, OSError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError) as e:
                errors.append(f"{name}: {e}")

    started = time.perf_counter()
    await asyncio.gather(*(one(i, n) for i, n in enumerate(users)))
    loginSeconds = time.perf_counter() - started
    if errors or any(s.lost for s in sessions):
        _closeAll(sessions)
        first = errors[0] if errors else next(s.failure for s in sessions if s.lost)
        return {"error": f"{len(errors)} BOSH logins failed: {first}"}
    await asyncio.sleep(args.settle)
    held = treeRSS(args.server_pid)
    meter = CpuMeter(args.server_pid)
    senders = [_sender(phases, sessions[i], sessions[i + pairs], args.rate)
               for i in range(pairs)]
    tasks = [asyncio.ensure_future(s) for s in senders]
    wall = await phases.run(args.warmup, args.duration, meter)
    result = meter.result()
    for task in tasks:
        task.cancel()
    await phases.drain(10.0, lambda: phases.sent)
    alive = sum(1 for s in sessions if not s.lost)
    _closeAll(sessions)
    result.update(phases.report(wall))
    if result.get("server_cpu") and result.get("delivered_per_s"):
        # CPU per message: a figure the other core's load does not bound.
        result["server_ms_per_msg"] = round(result["server_cpu"] * 1000
                                            / result["delivered_per_s"], 3)
    result.update({"sessions": len(users), "alive": alive, "pairs": pairs,
                   "login_per_s": round(len(users) / loginSeconds, 1),
                   "lost": phases.sent - phases.received,
                   "rss_empty_kb": empty // 1024, "rss_kb": held // 1024,
                   "kb_per_session": round((held - empty) / 1024 / len(users), 1)})
    return result


async def _sender(phases, source, destination, rate):
    """Send to C{destination} C{rate} times a second, starting at a random phase."""
    # Stanzas in a BOSH body need their namespace (XEP-0206 section 8).
    template = (b"<message xmlns='jabber:client' to='" + destination.jid.encode()
                + b"' type='chat'><body>%d</body></message>")
    interval = 1.0 / rate
    await asyncio.sleep(random.random() * interval)
    while not phases.stopping:
        source.send(template % time.perf_counter_ns())
        phases.sent += 1
        await asyncio.sleep(interval)


def _closeAll(sessions):
    for session in sessions:
        if session is not None:
            session.close()
