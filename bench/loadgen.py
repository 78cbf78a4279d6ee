"""
The load generator: C{python -m bench.loadgen SCENARIO [options]}.

One asyncio process, pinned to its own core (core 1 where the machine has
two; the server under test is pinned to core 0), speaking to one server on
127.0.0.1.  Each run prints one JSON line with the scenario's figures, its
own CPU share (C{gen_cpu}: 1.0 = a full core, so a saturated generator is
visible) and the server's (C{server_cpu}) when its pid is given.

Scenarios (see C{bench/README.md}): C{register}, C{mesh} and C{mamfill}
provision accounts, rosters and a message archive; C{login}, C{throughput},
C{idle}, C{roster}, C{muc}, C{bosh}, C{csi} and C{mamquery} measure.  Every loop is bounded in count and time.
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time

from bench import xmpp
from bench.measure import CpuMeter, percentile, treeCpuSeconds, treeRSS, treeRSSParts
from bench.scram import CachingScramClient, ScramClient

__all__ = ["main", "emit", "names", "ms"]


def emit(record):
    """Write one result line (the generator's product) to stdout."""
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def names(prefix, count, start=0):
    """The benchmark's account names: C{prefix0} .. C{prefix<count-1>}."""
    return [f"{prefix}{i}" for i in range(start, start + count)]


def ms(seconds):
    """Seconds (or None) as milliseconds rounded for a report."""
    return None if seconds is None else round(seconds * 1000, 2)


def pinToCore(core):
    """Pin this process to C{core} if the machine has it; the core used or None."""
    if core is None or core < 0 or core >= os.cpu_count():
        return None
    os.sched_setaffinity(0, {core})
    return core


def raiseFileLimit():
    """Thousands of connections need more descriptors than the usual 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def runRegister(args, target, ctx):
    """Create accounts by in-band registration (XEP-0077), a few at a time."""
    gate = asyncio.Semaphore(args.concurrency)
    errors = []

    async def one(name):
        async with gate:
            try:
                await xmpp.register(target, ctx, name, timeout=args.step_timeout)
            except (xmpp.XMPPError, OSError, asyncio.TimeoutError) as e:
                errors.append(f"{name}: {e}")

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in names(args.prefix, args.count)))
    return {"registered": args.count - len(errors), "errors": len(errors),
            "first_error": errors[0] if errors else None,
            "seconds": round(time.perf_counter() - started, 2)}


async def runLogin(args, target, ctx):
    """
    N clients log in (STARTTLS, SCRAM-SHA-1, bind, presence): logins/s, and
    the server's CPU milliseconds per login.  With C{--stored-keys} every
    client logs in once untimed first, keeping its salted password, and the
    timed logins reuse it (clients reconnecting), so the generator's
    PBKDF2 no longer bounds the rate.
    """
    scram = ScramClient
    if args.stored_keys:
        scram = CachingScramClient
        conns, _, errors = await xmpp.loginMany(
            target, ctx, names(args.prefix, args.count), args.concurrency,
            timeout=args.step_timeout, scram=scram)
        xmpp.closeAll(conns)
        if errors:
            return {"error": f"untimed first logins failed: {errors[0]}"}
        await asyncio.sleep(args.settle)
    meter = CpuMeter(args.server_pid)
    serverCpu = treeCpuSeconds(args.server_pid) if args.server_pid else None
    started = time.perf_counter()
    conns, latencies, errors = await xmpp.loginMany(
        target, ctx, names(args.prefix, args.count), args.concurrency,
        onLogin=lambda i, conn: conn.setHandler(_discard), timeout=args.step_timeout,
        scram=scram)
    elapsed = time.perf_counter() - started
    result = meter.result()
    if serverCpu is not None and latencies:
        result["server_ms_per_login"] = round(
            (treeCpuSeconds(args.server_pid) - serverCpu) * 1000 / len(latencies), 3)
    xmpp.closeAll(conns)
    result.update({"clients": args.count, "concurrency": args.concurrency,
                   "ok": len(latencies), "errors": len(errors),
                   "first_error": errors[0] if errors else None,
                   "logins_per_s": round(len(latencies) / elapsed, 1),
                   "p50_ms": ms(percentile(latencies, 0.5)),
                   "p99_ms": ms(percentile(latencies, 0.99))})
    return result


def _discard(data):
    """Handler for clients whose input the scenario does not look at."""


async def runIdle(args, target, ctx):
    """N authenticated clients with presence: server RSS per connection."""
    await asyncio.sleep(args.settle)
    empty = treeRSS(args.server_pid)
    conns, latencies, errors = await xmpp.loginMany(
        target, ctx, names(args.prefix, args.count), args.concurrency,
        onLogin=lambda i, conn: conn.setHandler(_discard), timeout=args.step_timeout)
    await asyncio.sleep(args.settle)
    loaded = treeRSS(args.server_pid)
    alive = sum(1 for c in conns if c is not None and not c.lost)
    xmpp.closeAll(conns)
    return {"clients": args.count, "ok": len(latencies), "alive": alive,
            "errors": len(errors), "first_error": errors[0] if errors else None,
            "rss_empty_kb": empty // 1024, "rss_kb": loaded // 1024,
            "kb_per_conn": round((loaded - empty) / 1024 / max(alive, 1), 1)}


async def runRest(args, target, ctx):
    """No clients at all: the server's resident memory at rest, after C{--settle} seconds."""
    await asyncio.sleep(args.settle)
    return dict(treeRSSParts(args.server_pid), rss_kb=treeRSS(args.server_pid) // 1024)


def scenarios():
    """Scenario name -> coroutine function(args, target, context)."""
    from bench import bosh, chat, csi, mam, pep, roster

    return {"register": runRegister, "login": runLogin, "idle": runIdle, "rest": runRest,
            "throughput": chat.runThroughput, "muc": chat.runMuc,
            "mesh": roster.runMesh, "roster": roster.runRoster,
            "bosh": bosh.runBosh, "csi": csi.runCsi,
            "mamfill": mam.runFill, "mamquery": mam.runQuery, "pepfanout": pep.runPepFanout}


def parser():
    p = argparse.ArgumentParser(prog="python -m bench.loadgen",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", choices=sorted(scenarios()))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5222, help="c2s port (STARTTLS)")
    p.add_argument("--peer-port", type=int, default=None,
                   help="throughput: the second of each pair logs in on this c2s port "
                        "(another cluster node)")
    p.add_argument("--http-port", type=int, default=5280, help="BOSH port (plain HTTP)")
    p.add_argument("--bosh-path", default="/http-bind")
    p.add_argument("--domain", default="localhost")
    p.add_argument("--muc-domain", default="conference.localhost")
    p.add_argument("--password", default="benchpass1")
    p.add_argument("--prefix", default="u", help="account names are PREFIX0..PREFIX<count-1>")
    p.add_argument("--count", type=int, default=100, help="clients, occupants or sessions")
    p.add_argument("--concurrency", type=int, default=50, help="logins in progress at once")
    p.add_argument("--pairs", type=int, default=50)
    p.add_argument("--window", type=int, default=10, help="messages in flight per pair/room; pepfanout: publishes")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    p.add_argument("--rate", type=float, default=5.0, help="BOSH messages/s per sender; csi: presence updates/s per contact")
    p.add_argument("--caps", action="store_true",
                   help="roster: presence with entity capabilities (XEP-0115), queries answered")
    p.add_argument("--messages", type=int, default=100000,
                   help="mamfill: messages sent into the archive owner's archive")
    p.add_argument("--fill-seconds", type=float, default=300.0,
                   help="mamfill: give up (an error) when the messages take longer")
    p.add_argument("--queries", type=int, default=200, help="mamquery: archive queries")
    p.add_argument("--page", type=int, default=50, help="mamquery: RSM <max/> per query")
    p.add_argument("--query-seconds", type=float, default=120.0,
                   help="mamquery: no new query after this many seconds")
    p.add_argument("--stored-keys", action="store_true",
                   help="login: clients log in once untimed, then reconnect with stored SCRAM keys")
    p.add_argument("--settle", type=float, default=3.0, help="seconds to let memory settle")
    p.add_argument("--deployment", action="store_true",
                   help="every login enables stream management and carbons (XEP-0198, XEP-0280)")
    p.add_argument("--server-pid", type=int, default=None, help="for server CPU and RSS")
    p.add_argument("--label", default="", help="server name written in the result")
    p.add_argument("--cpu", type=int, default=1, help="core to pin the generator to")
    p.add_argument("--step-timeout", type=float, default=60.0, help="seconds per protocol step")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole scenario")
    p.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
                   help="event loop; auto = uvloop if installed (a cheaper generator)")
    return p


def loopFactory(choice):
    """The event loop class to run on, and its name for the result."""
    if choice in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise SystemExit("uvloop is not installed: pip install uvloop")
        else:
            return uvloop.new_event_loop, "uvloop"
    return asyncio.new_event_loop, "asyncio"


async def _run(args):
    target = xmpp.Target(args.host, args.port, args.domain, args.muc_domain, args.password,
                         xmpp.DEPLOYMENT_FEATURES if args.deployment else ())
    coroutine = scenarios()[args.scenario](args, target, xmpp.tlsContext())
    return await asyncio.wait_for(coroutine, args.timeout)


def main(argv=None):
    args = parser().parse_args(argv)
    core = pinToCore(args.cpu)
    raiseFileLimit()
    factory, loopName = loopFactory(args.loop)
    record = {"scenario": args.scenario, "server": args.label, "gen_core": core,
              "gen_loop": loopName}
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            record.update(runner.run(_run(args)))
    except asyncio.TimeoutError:
        record["error"] = f"scenario timed out after {args.timeout:.0f} s"
    except (xmpp.XMPPError, OSError) as e:
        record["error"] = str(e)
    emit(record)
    return 1 if "error" in record else 0


if __name__ == "__main__":
    sys.exit(main())
