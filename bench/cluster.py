"""
The cluster benchmark (jabberd.cluster, docs/CLUSTER.md): what a chat
message costs when it crosses from one node to another, and what a second
worker process buys on one host.  Run on purpose, never in the test suite:

    python -m bench.cluster [--quick] [--duration S] [--pairs P] [--repeat N] [--no-workers]
                            [--port-offset N]

It needs the NATS server (127.0.0.1:4222, or --nats) and PostgreSQL
(--database; a schema of its own is made and dropped).  In one run:

 - C{same-node}: two nodes, both pinned to core 0; every pair of clients
   on node 1 (node 2 idle in the cluster).
 - C{cross-node}: the same two nodes; the first of each pair on node 1,
   the second on node 2, so every message goes through NATS.
 - C{workers1} / C{workers2}: one node started with C{[cluster] workers =
   1} and then 2, not pinned (both cores), the pairs' connections spread
   by SO_REUSEPORT.  The load generator is pinned to core 1 throughout, so
   with two workers the generator and the second worker share that core.

Each prints one JSON line (the C{throughput} scenario of bench.loadgen),
then a table of msgs/s and p99 with the ratios.  Prosody and ejabberd are
not clustered here: the single-process comparison is bench.runner's.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

from bench.measure import treeCpuSeconds
from bench.servers import makeCertificate
from bench.servers.jabberd import Jabberd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "benchpass1"

CLUSTER_SECTION = """
[cluster]
node = {node}
nats = {nats}
name = {name}
secret = {secret}
workers = {workers}
database = {database}
"""


class ClusterNode(Jabberd):
    """A jabberd node of the benchmark's cluster: the bench template plus [cluster]."""

    name = "jabberd"

    def __init__(self, workdir, cert, key, cluster, node, core="0", workers=1, portOffset=0):
        Jabberd.__init__(self, workdir, cert, key, core=core, scenario="throughput",
                         portOffset=portOffset)
        self.cluster = cluster
        self.node = node
        self.workers = workers

    def configure(self):
        Jabberd.configure(self)
        with open(self.configPath, "a") as f:
            f.write(CLUSTER_SECTION.format(node=self.node, workers=self.workers,
                                           **self.cluster))


def pgSchema(url):
    """A new schema on the PostgreSQL server at C{url}: (name, the URL that uses it)."""
    import psycopg

    name = "jdbench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return name, f"{url}?options=-csearch_path%3D{name}"


def dropSchema(url, name):
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def loadgen(args, port, extra=(), pid=None):
    """Run one bench.loadgen scenario; its JSON record."""
    argv = [sys.executable, "-m", "bench.loadgen", *extra, "--port", str(port),
            "--password", PASSWORD, "--cpu", "1", "--timeout", "300"]
    if pid is not None:
        argv += ["--server-pid", str(pid)]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=400)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (out.stderr or out.stdout)[-500:]}
    return json.loads(lines[-1])


def throughput(args, port, label, peer=None, pid=None, nodes=()):
    """
    One throughput run; besides the generator's record, C{server_us_per_msg}:
    the CPU time of every node in C{nodes} (their processes and workers) over
    the whole run, per message received, a figure a busy machine disturbs
    less than msgs/s.
    """
    extra = ["throughput", "--pairs", str(args.pairs), "--duration", str(args.duration),
             "--label", label]
    if peer is not None:
        extra += ["--peer-port", str(peer)]
    before = sum(treeCpuSeconds(node.pid) for node in nodes)
    record = loadgen(args, port, extra, pid)
    used = sum(treeCpuSeconds(node.pid) for node in nodes) - before
    if nodes and record.get("received"):
        record["server_us_per_msg"] = round(used / record["received"] * 1e6, 1)
    record["scenario"] = label
    print(json.dumps(record), flush=True)
    return record


def register(args, port):
    record = loadgen(args, port, ["register", "--count", str(2 * args.pairs)])
    if record.get("error"):
        raise SystemExit(f"registration failed: {record['error']}")


def run(args):
    work = tempfile.mkdtemp(prefix="jabberd-cluster-bench-")
    cert, key = makeCertificate(work)
    schema, database = pgSchema(args.database)
    cluster = {"nats": args.nats, "name": "bench" + uuid.uuid4().hex[:8],
               "secret": uuid.uuid4().hex, "database": database}
    results = {}
    try:
        nodes = [ClusterNode(os.path.join(work, n), cert, key, cluster, n, core="0",
                             portOffset=args.port_offset + offset)
                 for n, offset in (("n1", 0), ("n2", 1000))]
        for node in nodes:
            node.configure()
            node.start()
        time.sleep(2)
        register(args, nodes[0].c2sPort)
        for _ in range(args.repeat):
            results["same-node"] = throughput(args, nodes[0].c2sPort, "same-node",
                                              pid=nodes[0].pid, nodes=nodes)
            results["cross-node"] = throughput(args, nodes[0].c2sPort, "cross-node",
                                               peer=nodes[1].c2sPort, pid=nodes[0].pid,
                                               nodes=nodes)
        for node in nodes:
            node.stop()
        for workers in (1, 2) if args.workers else ():
            node = ClusterNode(os.path.join(work, f"w{workers}"), cert, key, cluster,
                               f"w{workers}", core="0,1", workers=workers,
                               portOffset=args.port_offset)
            node.configure()
            node.start()
            time.sleep(2 + workers)
            label = f"workers{workers}"
            results[label] = throughput(args, node.c2sPort, label, pid=node.pid, nodes=[node])
            node.stop()
    finally:
        dropSchema(args.database, schema)
    print(table(results))


def table(results):
    def cell(name, key):
        value = results.get(name, {}).get(key)
        return "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    def ratio(a, b, key):
        x, y = results.get(a, {}).get(key), results.get(b, {}).get(key)
        return f"{x / y:.2f}" if x and y else "n/a"

    rows = ["| run | msgs/s | p99 ms | server µs/msg | lost |", "|---|---|---|---|---|"]
    for name in ("same-node", "cross-node", "workers1", "workers2"):
        rows.append(f"| {name} | {cell(name, 'delivered_per_s')} | {cell(name, 'p99_ms')} | "
                    f"{cell(name, 'server_us_per_msg')} | {cell(name, 'lost')} |")
    rows.append(f"\ncross-node / same-node: msgs/s {ratio('cross-node', 'same-node', 'delivered_per_s')},"
                f" p99 {ratio('cross-node', 'same-node', 'p99_ms')},"
                f" server µs/msg {ratio('cross-node', 'same-node', 'server_us_per_msg')}")
    rows.append(f"workers 2 / 1: msgs/s {ratio('workers2', 'workers1', 'delivered_per_s')},"
                f" p99 {ratio('workers2', 'workers1', 'p99_ms')}")
    return "\n".join(rows)


def parser():
    p = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n\n")[0])
    p.add_argument("--nats", default="nats://127.0.0.1:4222")
    p.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    p.add_argument("--pairs", type=int, default=50)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--quick", action="store_true", help="5 s measurements")
    p.add_argument("--port-offset", type=int, default=0,
                   help="added to every server port (another benchmark holds the defaults)")
    p.add_argument("--repeat", type=int, default=1,
                   help="same-node and cross-node runs, alternating (the last is tabled)")
    p.add_argument("--no-workers", dest="workers", action="store_false",
                   help="skip the workers = 1 / 2 comparison")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 5.0)
    run(args)


if __name__ == "__main__":
    main()
