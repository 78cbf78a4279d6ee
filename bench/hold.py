"""
The C{hold} scenario: C{python -m bench.hold --connections 10000,50000,100000}.

How many authenticated TLS client connections one jabberd process holds,
at what memory each, while it still serves: for each level the generator
logs in clients (STARTTLS, SCRAM-SHA-1, bind, initial presence) until that
many are connected, then holds them for C{--hold} seconds while

 - a chat pair (two more clients) sends each other a message every
   C{--chat-interval} seconds, the send time in the body (as in
   L{bench.chat}): p50/p99 delivery latency, losses;
 - a probe logs a fresh client in and out every C{--probe-interval}
   seconds: login p50/p99, failures;

and the server's resident memory over the freshly restarted server's (with
the pair online) gives KB per connection.  One JSON line per level.

The generator: C{--workers} processes (asyncio, the hand-written client
of L{bench.xmpp}), each connecting from its own loopback address
(127.0.0.10, .11, ...), since one source address has only the ephemeral
port range (about 28,000 ports) toward the server's one port.  Workers
answer nothing and send a whitespace keepalive (RFC 6120 section 4.6.1)
every C{--keepalive} seconds, below the server's idle timeout.  The
accounts are made in bulk in jabberd's storage before the server starts,
with one set of SCRAM credentials for all (so the generator derives the
salted password once per worker: this scenario measures holding, not
logging in; L{bench.loadgen}'s C{login} measures that).

The server runs on core 0 as in L{bench.runner}; the coordinator (pair,
probe) and the workers share core 1.  Open files: this process raises its
own C{RLIMIT_NOFILE} (soft and, as root, hard) to C{--open-files}; the
server and workers inherit it, and the server's C{[server] max_open_files}
takes its soft limit up to it.  See C{bench/README.md}.
"""

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from bench import xmpp
from bench.loadgen import emit, ms, names, pinToCore
from bench.measure import CpuMeter, percentile, processTree, treeRSS
from bench.scram import CachingScramClient as CachedScram

__all__ = ["main"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_now = time.perf_counter_ns

# Runs in a child process (server stopped): every account with the same
# credentials, a few thousand rows per transaction.
BULK_ACCOUNTS = r"""
import json, sys
from sqlalchemy import insert
from twisted.internet import defer, task
from jabberd import config
from jabberd.auth import credentials as auth
from jabberd.storage import openStorage
from jabberd.storage.schema import users

@defer.inlineCallbacks
def main(reactor, ini, prefixes, count, password):
    cfg = config.load(ini)
    storage = openStorage(cfg.server.database)
    creds = json.dumps(auth.makeCredentials(password, cfg.c2s.scramIterations))
    rows = [{"username": f"{p}{i}", "credentials": creds}
            for p, n in zip(prefixes.split(","), count.split(",")) for i in range(int(n))]
    try:
        for start in range(0, len(rows), 5000):
            chunk = rows[start:start + 5000]
            yield storage.accounts.database.write(
                lambda connection, chunk=chunk: connection.execute(insert(users), chunk))
    finally:
        yield storage.close()
    print(len(rows))

task.react(main, sys.argv[1:])
"""


def _discard(data):
    """Held clients read and ignore what the server sends (keepalives)."""


# --- worker -------------------------------------------------------------

class Worker:
    """
    One generator process: holds the clients C{prefix<first>}.. from its
    own source address, growing on command (one C{grow N} line on stdin:
    hold N in total), answering one JSON line per command.
    """

    def __init__(self, args):
        self.args = args
        self.target = xmpp.Target(args.host, args.port, args.domain, password=args.password,
                                  source=args.source)
        self.context = xmpp.tlsContext()
        self.conns = []
        self.errors = []

    async def grow(self, total):
        want = names(self.args.prefix, total - len(self.conns), self.args.first + len(self.conns))
        started = time.perf_counter()
        conns, latencies, errors = await xmpp.loginMany(
            self.target, self.context, want, self.args.concurrency,
            onLogin=lambda i, conn: conn.setHandler(_discard), timeout=self.args.step_timeout,
            scram=CachedScram)
        self.conns.extend(c for c in conns if c is not None)
        self.errors.extend(errors)
        alive = sum(1 for c in self.conns if not c.lost)
        return {"held": alive, "ok": len(latencies), "errors": len(errors),
                "first_error": errors[0] if errors else None,
                "seconds": round(time.perf_counter() - started, 2),
                "rss_kb": treeRSS(os.getpid()) // 1024}

    async def keepalive(self):
        """Each held client sends a space every C{--keepalive} s, spread over the interval."""
        turn = 0
        steps = max(1, int(self.args.keepalive))
        while True:
            await asyncio.sleep(self.args.keepalive / steps)
            for conn in self.conns[turn % steps::steps]:
                if not conn.lost:
                    conn.send(b" ")
            turn += 1

    async def run(self):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        pinger = asyncio.ensure_future(self.keepalive())
        try:
            while True:
                line = (await reader.readline()).decode().split()
                if not line or line[0] == "stop":
                    break
                emit(await self.grow(int(line[1])))
        finally:
            pinger.cancel()
            xmpp.closeAll(self.conns)
            await asyncio.sleep(0.5)


def leanTLS():
    """
    Give asyncio's TLS transports a 16 KB read buffer instead of 256 KB:
    each held client allocates one, and a record is at most 16 KB anyway
    (RFC 8446 section 5.1); larger reads just take more calls.
    """
    import asyncio.sslproto

    asyncio.sslproto.SSLProtocol.max_size = 16 * 1024


def workerMain(args):
    pinToCore(args.cpu)
    leanTLS()
    with asyncio.Runner() as runner:
        runner.run(Worker(args).run())
    return 0


# --- coordinator --------------------------------------------------------

class ChatPair:
    """Two clients that each send the other a message every C{interval} seconds."""

    def __init__(self, target, context, prefix, interval):
        self.target, self.context, self.prefix = target, context, prefix
        self.interval = interval
        self.latencies = []
        self.sent = self.received = 0
        self.conns = []

    async def start(self):
        self.conns = [await xmpp.login(self.target, self.context, name, resource="pair",
                                       scram=CachedScram)
                      for name in names(self.prefix, 2)]
        for conn in self.conns:
            conn.setHandler(xmpp.StanzaBuffer(b"</message>", self.scan))
        self.task = asyncio.ensure_future(self.loop())

    def scan(self, chunk):
        now = _now()
        pos = chunk.find(b"<body>")
        while pos >= 0:
            end = chunk.find(b"</body>", pos)
            self.latencies.append((now - int(chunk[pos + 6:end])) / 1e9)
            self.received += 1
            pos = chunk.find(b"<body>", end)

    async def loop(self):
        a, b = self.conns
        while True:
            for sender, recipient in ((a, b), (b, a)):
                sender.send(f"<message to='{recipient.jid}' type='chat'><body>{_now()}"
                            "</body></message>".encode())
                self.sent += 1
            await asyncio.sleep(self.interval)

    def take(self):
        """The latencies since the last call, and how many are still missing."""
        latencies, self.latencies = self.latencies, []
        return latencies, self.sent - self.received

    def stop(self):
        self.task.cancel()
        xmpp.closeAll(self.conns)


class LoginProbe:
    """Logs one client in and out every C{interval} seconds, from a pool of accounts."""

    def __init__(self, target, context, prefix, pool, interval, timeout):
        self.target, self.context = target, context
        self.accounts = names(prefix, pool)
        self.interval, self.timeout = interval, timeout
        self.latencies, self.errors = [], []

    async def loop(self):
        turn = 0
        while True:
            name = self.accounts[turn % len(self.accounts)]
            turn += 1
            started = time.perf_counter()
            try:
                conn = await xmpp.login(self.target, self.context, name, resource="probe",
                                        timeout=self.timeout, scram=CachedScram)
            except (xmpp.XMPPError, OSError, asyncio.TimeoutError) as e:
                self.errors.append(f"{name}: {e}")
            else:
                self.latencies.append(time.perf_counter() - started)
                conn.close()
            await asyncio.sleep(self.interval)

    def take(self):
        latencies, errors = self.latencies, self.errors
        self.latencies, self.errors = [], []
        return latencies, errors


class WorkerProcess:
    """A worker as seen from the coordinator: a child speaking lines."""

    def __init__(self, args, index, first, target):
        source = f"127.0.0.{10 + index}"
        argv = [sys.executable, "-m", "bench.hold", "worker", "--source", source,
                "--first", str(first), "--prefix", args.prefix, "--port", str(target.port),
                "--domain", target.domain, "--password", target.password,
                "--concurrency", str(args.concurrency), "--keepalive", str(args.keepalive),
                "--cpu", str(args.cpu), "--step-timeout", str(args.step_timeout)]
        self.argv = argv
        self.process = None

    async def start(self):
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    async def grow(self, total):
        self.process.stdin.write(f"grow {total}\n".encode())
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            return {"held": 0, "errors": 1, "first_error": "worker exited"}
        return json.loads(line)

    async def stop(self):
        if self.process.returncode is None:
            self.process.stdin.write(b"stop\n")
            await self.process.stdin.drain()
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except asyncio.TimeoutError:
                self.process.kill()


def shares(total, parts):
    """C{total} split into C{parts} nearly equal counts."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def coordinate(args, server):
    target = xmpp.Target("127.0.0.1", server.c2sPort, server.domain, password=args.password)
    context = xmpp.tlsContext()
    pair = ChatPair(target, context, args.prefix + "pair", args.chat_interval)
    probe = LoginProbe(target, context, args.prefix + "probe", args.probe_pool,
                       args.probe_interval, args.step_timeout)
    levels = args.levels
    per = shares(max(levels), args.workers)
    workers = [WorkerProcess(args, i, sum(per[:i]), target) for i in range(args.workers)]
    await pair.start()
    await asyncio.sleep(args.settle)
    empty = treeRSS(server.pid)
    probeTask = asyncio.ensure_future(probe.loop())
    for worker in workers:
        await worker.start()
    try:
        for level in levels:
            yield await measureLevel(args, server, level, workers, pair, probe, empty)
    finally:
        probeTask.cancel()
        pair.stop()
        await asyncio.gather(*(worker.stop() for worker in workers))


async def measureLevel(args, server, level, workers, pair, probe, empty):
    """Grow to C{level} connections, let memory settle, hold and measure."""
    pair.take(), probe.take()
    started = time.perf_counter()
    replies = await asyncio.gather(*(w.grow(n) for w, n in zip(workers, shares(level, len(workers)))))
    ramp = time.perf_counter() - started
    rampChat, _ = pair.take()
    rampProbe, rampErrors = probe.take()
    await asyncio.sleep(args.settle)
    pair.take(), probe.take()
    meter = CpuMeter(server.pid)
    await asyncio.sleep(args.hold)
    chat, missing = pair.take()
    logins, errors = probe.take()
    rss = treeRSS(server.pid)
    held = sum(r.get("held", 0) for r in replies)
    errorsUp = sum(r.get("errors", 0) for r in replies)
    record = meter.result()
    record.update({
        "scenario": "hold", "server": "jabberd", "connections": level, "held": held,
        "login_errors": errorsUp,
        "first_error": next((r["first_error"] for r in replies if r.get("first_error")), None),
        "ramp_s": round(ramp, 1), "ramp_logins_per_s": round(sum(r.get("ok", 0) for r in replies)
                                                             / max(ramp, 1e-9), 1),
        "ramp_chat_p99_ms": ms(percentile(rampChat, 0.99)),
        "ramp_probe_p99_ms": ms(percentile(rampProbe, 0.99)), "ramp_probe_errors": len(rampErrors),
        "chat_messages": len(chat), "chat_p50_ms": ms(percentile(chat, 0.5)),
        "chat_p99_ms": ms(percentile(chat, 0.99)), "chat_missing": missing,
        "probe_logins": len(logins), "probe_errors": len(errors),
        "probe_first_error": errors[0] if errors else None,
        "probe_p50_ms": ms(percentile(logins, 0.5)), "probe_p99_ms": ms(percentile(logins, 0.99)),
        "rss_empty_kb": empty // 1024, "rss_kb": rss // 1024,
        "kb_per_conn": round((rss - empty) / 1024 / max(held, 1), 2),
        "generator_rss_mb": sum(r.get("rss_kb", 0) for r in replies) // 1024})
    return record


def raiseOpenFiles(wanted):
    """Raise this process's open-files limit (soft, and hard when allowed) toward C{wanted}."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, OSError):
            wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return min(wanted, hard)


def trimEvery(configPath, seconds):
    """
    Set the server's C{[server] trim_interval}: the ramp's handshakes leave
    freed heap behind, which the server hands back at its next trim; a
    hold longer than the interval measures what the held connections keep.
    """
    with open(configPath) as f:
        text = f.read()
    with open(configPath, "w") as f:
        f.write(text.replace("[server]\n", f"[server]\ntrim_interval = {seconds}\n", 1))


def listeningSockets(port):
    """The inodes of the loopback IPv4 sockets listening on C{port} (/proc/net/tcp)."""
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listensOn(pid, port):
    """
    Whether C{pid} (or a child) is what listens on C{port}.  Other
    benchmarks on the machine pick their ports the same way: one started
    between our check and our bind answers on the port L{Jabberd.start}
    waits for, and refuses our accounts with C{not-authorized}.
    """
    inodes = listeningSockets(port)
    for member in processTree(pid):
        try:
            fds = os.listdir(f"/proc/{member}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{member}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    return False


def provision(server, args):
    """Every account in bulk through jabberd's storage (server stopped)."""
    prefixes = f"{args.prefix},{args.prefix}pair,{args.prefix}probe"
    counts = f"{max(args.levels)},2,{args.probe_pool}"
    out = subprocess.run([server.python, "-c", BULK_ACCOUNTS, server.configPath, prefixes,
                          counts, args.password], cwd=ROOT, capture_output=True, text=True,
                         timeout=1800)
    if out.returncode != 0:
        raise SystemExit("bulk accounts failed: " + out.stderr[-1500:])
    return int(out.stdout.split()[-1])


async def _coordinateAll(args, server):
    records = []
    async for record in coordinate(args, server):
        emit(record)
        records.append(record)
    return records


def coordinatorMain(args):
    from bench.runner import note
    from bench.servers import makeCertificate
    from bench.servers.jabberd import Jabberd

    limit = raiseOpenFiles(args.open_files)
    if limit < max(args.levels) + 1000:
        raise SystemExit(f"open files limited to {limit} (the hard limit, which only a process "
                         "with CAP_SYS_RESOURCE can raise): raise `ulimit -Hn` first, or ask "
                         f"for at most {limit - 1000} connections")
    pinToCore(args.cpu)
    root = tempfile.mkdtemp(prefix="xmpp-hold-", dir=args.workdir)
    cert, key = makeCertificate(root)
    server = Jabberd(os.path.join(root, "jabberd"), cert, key, 0, "hold", Jabberd.freeOffset())
    server.python = args.python
    try:
        server.configure()
        trimEvery(server.configPath, args.trim_interval)
        started = time.perf_counter()
        made = provision(server, args)
        note(f"{made} accounts in {time.perf_counter() - started:.0f} s; starting jabberd "
             f"(open files {limit}) in {root}")
        server.start()
        if not listensOn(server.pid, server.c2sPort):
            raise SystemExit(f"port {server.c2sPort} answers, but not from our jabberd (another "
                             "benchmark took it while ours started): run again")
        with asyncio.Runner() as runner:
            runner.run(asyncio.wait_for(_coordinateAll(args, server), args.timeout))
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def parser():
    p = argparse.ArgumentParser(prog="python -m bench.hold", description=__doc__.split("\n\n")[0])
    p.add_argument("role", nargs="?", default="run", choices=["run", "worker"])
    p.add_argument("--connections", default="10000",
                   help="comma-separated levels, e.g. 10000,50000,100000")
    p.add_argument("--workers", type=int, default=0,
                   help="generator processes (0: one per 12,500 connections, at least 2)")
    p.add_argument("--concurrency", type=int, default=20, help="logins in flight per worker")
    p.add_argument("--hold", type=float, default=20.0, help="measured seconds at each level")
    p.add_argument("--settle", type=float, default=5.0, help="seconds before measuring memory")
    p.add_argument("--chat-interval", type=float, default=0.05)
    p.add_argument("--probe-interval", type=float, default=0.5)
    p.add_argument("--probe-pool", type=int, default=50)
    p.add_argument("--trim-interval", type=int, default=10,
                   help="the server's [server] trim_interval, below --hold")
    p.add_argument("--keepalive", type=float, default=120.0,
                   help="seconds between a held client's whitespace keepalives")
    p.add_argument("--open-files", type=int, default=1048576)
    p.add_argument("--prefix", default="h")
    p.add_argument("--password", default="benchpass1")
    p.add_argument("--python", default=sys.executable, help="interpreter that runs jabberd")
    p.add_argument("--cpu", type=int, default=1, help="core of the generator")
    p.add_argument("--step-timeout", type=float, default=60.0)
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds for all levels")
    p.add_argument("--workdir", default=None)
    p.add_argument("--keep", action="store_true")
    # worker only
    p.add_argument("--source", default=None)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=35222)
    p.add_argument("--domain", default="localhost")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.role == "worker":
        return workerMain(args)
    args.levels = sorted(int(n) for n in args.connections.split(","))
    if not args.workers:
        args.workers = max(2, math.ceil(max(args.levels) / 12500))
    return coordinatorMain(args)


if __name__ == "__main__":
    sys.exit(main())
