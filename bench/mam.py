"""
Message archive scenarios (XEP-0313): filling one user's archive through the
server, and timing queries for the newest page of it.

C{mamfill} provisions: the owner (PREFIX0) is online and a second account
(PREFIX1) sends it C{--messages} chat messages (RFC 6121 section 5.2.2) to
its full JID, C{--window} in flight, then the owner queries its archive
once (the fill ends when that answer comes); every server under test
archives each message as it routes it (XEP-0313 section 5.1.1: the archiving happens as the
server routes the message), in the owner's archive and the sender's.  This
is the fair way to fill an archive: each server does the same work it does
for real chat, with its own storage, and no import tool is trusted to build
the same archive a live server would.

C{mamquery} measures, on the freshly restarted server: the owner logs in and
asks C{--queries} times, one after the other, for the newest page
(C{<max>PAGE</max><before/>}, XEP-0059 section 2.5) of its archive; a server
slower than C{--query-seconds} for all of them is measured on the queries
it answered by then (C{queries} in the result says how many).
"""

import asyncio
import time

from bench import xmpp
from bench.loadgen import ms, names
from bench.measure import CpuMeter, percentile

__all__ = ["runFill", "runQuery"]


async def runFill(args, target, ctx):
    """Send C{--messages} chat messages to the owner; archived msgs/s while filling."""
    owner, sender = names(args.prefix, 2)
    conns, _, errors = await xmpp.loginMany(target, ctx, [owner, sender], 2,
                                            timeout=args.step_timeout)
    if errors:
        xmpp.closeAll(conns)
        return {"error": f"{len(errors)} logins failed: {errors[0]}"}
    ownerConn, senderConn = conns
    total, window = args.messages, max(1, args.window)
    template = (b"<message to='" + ownerConn.jid.encode()
                + b"' type='chat'><body>archive %d</body></message>")
    state = {"sent": 0, "received": 0}
    done = asyncio.get_running_loop().create_future()

    def send(count):
        count = min(count, total - state["sent"])
        if count <= 0:
            return
        first = state["sent"]
        senderConn.send(b"".join(template % n for n in range(first, first + count)))
        state["sent"] += count

    def scan(chunk):
        count = chunk.count(b"<body>")
        state["received"] += count
        if state["received"] >= total and not done.done():
            done.set_result(None)
        send(count)

    ownerConn.setHandler(xmpp.StanzaBuffer(b"</message>", scan))
    senderConn.setHandler(lambda data: None)
    meter = CpuMeter(args.server_pid)
    started = time.perf_counter()
    send(window)
    try:
        await asyncio.wait_for(done, min(args.fill_seconds,
                                         max(1.0, args.timeout - args.settle - 30)))
    except asyncio.TimeoutError:
        pass
    delivered = time.perf_counter() - started
    result = {"messages": total, "sent": state["sent"], "received": state["received"],
              "delivered_s": round(delivered, 2)}
    if state["received"] < total:
        xmpp.closeAll(conns)
        result["error"] = (f"only {state['received']} of {total} messages arrived in "
                           f"{delivered:.0f} s ({state['received'] / delivered:.0f}/s)")
        return result
    # A server may deliver before it writes (jabberd's group commit does):
    # the archive is full once a query sees it all, so one query of the
    # newest message ends the fill, and the server is stopped only after.
    ownerConn.handler = None
    try:
        _, count = await xmpp.mamQuery(ownerConn, "fill", 1, args.timeout)
    except xmpp.XMPPError as e:
        xmpp.closeAll(conns)
        return dict(result, error=f"archive query after the fill failed: {e}")
    wall = time.perf_counter() - started
    result.update(meter.result())
    await asyncio.sleep(args.settle)
    xmpp.closeAll(conns)
    result.update({"archive_count": count, "fill_s": round(wall, 2),
                   "fill_per_s": round(total / wall, 1)})
    return result


async def runQuery(args, target, ctx):
    """C{--queries} newest-page queries one after the other: latency and queries/s."""
    owner = names(args.prefix, 1)[0]
    try:
        conn = await xmpp.login(target, ctx, owner, timeout=args.step_timeout)
    except (xmpp.XMPPError, OSError, asyncio.TimeoutError) as e:
        return {"error": f"login failed: {e}"}
    latencies, pages, totals = [], [], set()
    meter = CpuMeter(args.server_pid)
    started = time.perf_counter()
    stopAt = started + args.query_seconds
    try:
        for i in range(args.queries):
            if i and time.perf_counter() > stopAt:
                break  # a slow server: report the queries made in the time allowed
            sent = time.perf_counter()
            results, total = await xmpp.mamQuery(conn, f"mq{i}", args.page, args.step_timeout)
            latencies.append(time.perf_counter() - sent)
            pages.append(results)
            totals.add(total)
    finally:
        wall = time.perf_counter() - started
        conn.close()
    result = meter.result()
    result.update({"queries": len(latencies), "queries_asked": args.queries, "page": args.page,
                   "results_min": min(pages), "results_max": max(pages),
                   "archive_count": sorted(totals, key=lambda t: t is None)[0],
                   "first_ms": ms(latencies[0]),
                   "p50_ms": ms(percentile(latencies, 0.5)),
                   "p99_ms": ms(percentile(latencies, 0.99)),
                   "queries_per_s": round(len(latencies) / wall, 1)})
    if min(pages) < args.page:
        result["error"] = (f"a newest page had {min(pages)} results, not {args.page}: "
                           "the archive is not full")
    return result
