"""
The runner's summary: one markdown table of absolute figures per server and
the ratios jabberd/Prosody and jabberd/ejabberd.  With several repeats the
best figure of each server is shown (noise on a shared machine only ever
makes a server look worse); every raw record is printed as JSON anyway.
L{SAME_SERVER} rows compare two scenarios on one server (archiving on
against off), each from the best figures.
"""

__all__ = ["METRICS", "renderTable", "best"]

HIGH, LOW = "higher", "lower"

# (scenario, record key, label, which way is better)
METRICS = [
    ("login", "logins_per_s", "login: logins/s", HIGH),
    ("login", "p50_ms", "login: p50 ms", LOW),
    ("login", "p99_ms", "login: p99 ms", LOW),
    ("login", "server_ms_per_login", "login: server CPU ms per login", LOW),
    ("relogin", "logins_per_s", "relogin (stored SCRAM keys): logins/s", HIGH),
    ("relogin", "p99_ms", "relogin: p99 ms", LOW),
    ("relogin", "server_ms_per_login", "relogin: server CPU ms per login", LOW),
    ("throughput", "delivered_per_s", "chat 50 pairs: delivered msgs/s", HIGH),
    ("throughput", "p50_ms", "chat: p50 ms", LOW),
    ("throughput", "p99_ms", "chat: p99 ms", LOW),
    ("throughput", "lost", "chat: lost (must be 0)", LOW),
    ("idle", "kb_per_conn", "idle: KB RSS per connection", LOW),
    ("rest", "rss_kb", "rest, no clients (jabberd: sample config): KB RSS", LOW),
    ("roster", "all_presence_s", "roster 51x50: s until all presence", LOW),
    ("muc50", "delivered_per_s", "MUC 50 occupants: msgs/s", HIGH),
    ("muc50", "p99_ms", "MUC 50: p99 ms", LOW),
    ("muc100", "delivered_per_s", "MUC 100 occupants: msgs/s", HIGH),
    ("muc100", "p99_ms", "MUC 100: p99 ms", LOW),
    ("bosh", "p50_ms", "BOSH 500 sessions: msg p50 ms", LOW),
    ("bosh", "p99_ms", "BOSH: msg p99 ms", LOW),
    ("bosh", "kb_per_session", "BOSH: KB RSS per session", LOW),
    ("csi", "plain_reads", "CSI, idle phone in 50 contacts: reads (wake-ups), active", LOW),
    ("csi", "csi_reads", "CSI: reads (wake-ups), inactive", LOW),
    ("csi", "plain_bytes", "CSI: bytes received, active", LOW),
    ("csi", "csi_bytes", "CSI: bytes received, inactive", LOW),
    ("csi", "csi_wake_message_ms", "CSI: ms until a message wakes it, inactive", LOW),
    ("chatmam", "delivered_per_s", "chat 50 pairs, archive on: delivered msgs/s", HIGH),
    ("chatmam", "p50_ms", "chat, archive on: p50 ms", LOW),
    ("chatmam", "p99_ms", "chat, archive on: p99 ms", LOW),
    ("chatmam", "lost", "chat, archive on: lost (must be 0)", LOW),
    ("mamquery", "p50_ms", "MAM newest page (50) of a 100,000-message archive: p50 ms", LOW),
    ("mamquery", "p99_ms", "MAM newest page: p99 ms", LOW),
    ("mamquery", "queries_per_s", "MAM newest page: queries/s, one at a time", HIGH),
    ("mamquery", "fill_per_s", "MAM archive fill (provisioning): archived msgs/s", HIGH),
    ("pepfanout", "events_per_s", "PEP fan-out to 50 contacts (+notify by caps): events/s", HIGH),
    ("pepfanout", "p50_ms", "PEP fan-out: publish to all 50 notified, p50 ms", LOW),
    ("pepfanout", "p99_ms", "PEP fan-out: publish to all 50 notified, p99 ms", LOW),
]
# (scenario, over scenario, record key, label): one server's ratio of two of its figures.
SAME_SERVER = [
    ("chatmam", "throughput", "delivered_per_s", "chat msgs/s, archive on / off (same server)"),
]
NO_RATIO = {"lost"}
SCENARIO_ORDER = ["login", "relogin", "throughput", "idle", "rest", "roster", "muc50", "muc100",
                  "bosh", "csi", "chatmam", "mamquery", "pepfanout"]


def best(records, scenario, server, key, direction):
    """The best value of C{key} over the successful records, or None."""
    values = [r[key] for r in records
              if r.get("scenario") == scenario and r.get("server") == server
              and not r.get("error") and r.get(key) is not None]
    if not values:
        return None
    return max(values) if direction == HIGH else min(values)


def _fmt(value):
    if value is None:
        return "n/a"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:.3g}"


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    ratio = a / b
    # Two decimals, but a ratio below 0.1 keeps two significant digits (not "0.00").
    return f"{ratio:.2f}" if ratio >= 0.1 or ratio == 0 else f"{ratio:.2g}"


def _cpu(records, scenario, server):
    """'server/generator' peak CPU shares for one cell, or n/a."""
    rows = [r for r in records if r.get("scenario") == scenario
            and r.get("server") == server and not r.get("error") and "gen_cpu" in r]
    if not rows:
        return "n/a"
    srv = max((r.get("server_cpu") or 0) for r in rows)
    gen = max(r["gen_cpu"] for r in rows)
    return f"{srv:.2f} / {gen:.2f}"


def renderTable(records, servers):
    """The markdown table for C{records} over C{servers} (in column order)."""
    scenarios = [s for s in SCENARIO_ORDER if any(r.get("scenario") == s for r in records)]
    header = ["metric", "better"] + servers + ["jabberd/prosody", "jabberd/ejabberd"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for scenario in scenarios:
        for sc, key, label, direction in METRICS:
            if sc != scenario:
                continue
            values = {s: best(records, sc, s, key, direction) for s in servers}
            ratios = ["", ""] if key in NO_RATIO else [
                _ratio(values.get("jabberd"), values.get(other)) if other in servers else "n/a"
                for other in ("prosody", "ejabberd")]
            lines.append("| " + " | ".join([label, direction] + [_fmt(values[s]) for s in servers]
                                           + ratios) + " |")
        for sc, over, key, label in SAME_SERVER:
            if sc != scenario or not any(r.get("scenario") == over for r in records):
                continue
            cells = [_ratio(best(records, sc, s, key, HIGH), best(records, over, s, key, HIGH))
                     for s in servers]
            lines.append("| " + " | ".join([label, HIGH] + cells + ["", ""]) + " |")
        cpu = [_cpu(records, scenario, s) for s in servers]
        if all(c == "n/a" for c in cpu):
            continue
        lines.append("| " + " | ".join([f"{scenario}: CPU server / generator", ""] + cpu
                                       + ["", ""]) + " |")
    failures = [r for r in records if r.get("error")]
    if failures:
        lines.append("")
        lines.append("n/a because:")
        for r in failures:
            lines.append(f"- {r.get('server')} {r.get('scenario')} (run {r.get('repeat', 0) + 1}): "
                         f"{str(r['error'])[:200]}")
    return "\n".join(lines)
