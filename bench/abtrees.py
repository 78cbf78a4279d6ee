"""
Paired A/B of two jabberd source trees: C{python -m bench.abtrees}.

    python -m bench.abtrees --a /tmp/base --b . --scenarios login,relogin,roster \\
        --rounds 4 [--profile deployment] [--concurrency 20] [--spy OUT] [--quick]
        [--duration S]

Each round runs every scenario on a fresh server of each tree, exactly as
L{bench.runner} does (same config, provisioning, restart, generator), in
the order A B, then B A on the next round, so drift on a shared machine
falls on both.  One JSON line per run, with the generator's record and
C{threads_ms}: the server's CPU milliseconds per login (per user for
roster) split into its reactor thread (C{main}) and the others (storage
and hashing workers), from C{/proc/PID/task}: a figure the other core's
load does not bound.  C{--spy OUT} also records each measured run (of any scenario) with
py-spy (C{pip install py-spy}; C{--gil} for the thread holding the GIL
only) into C{OUT.TREE.SCENARIO.TIME.txt}, in py-spy's raw (collapsed)
format.  Make the base tree with C{git archive BASE | tar -x -C /tmp/base}.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from bench.runner import SCENARIOS, Runner, parser as runnerParser
from bench.servers.jabberd import Jabberd

__all__ = ["main", "threadCpu"]


def threadCpu(pid):
    """CPU seconds of process C{pid}: {"main": its main thread, "workers": the rest}."""
    out = {"main": 0.0, "workers": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        key = "main" if task == str(pid) else "workers"
        out[key] += (int(fields[11]) + int(fields[12])) / tick
    return out


class TreeRunner(Runner):
    """The runner, with per-thread CPU (and optionally py-spy) around measured runs."""

    spy = None
    gil = False

    def loadgen(self, server, argv, timeout):
        if not server.pid:
            return Runner.loadgen(self, server, argv, timeout)
        if argv[0] not in ("login", "roster"):
            return self._spied(server, argv, timeout)
        before = threadCpu(server.pid)
        record = self._spied(server, argv, timeout)
        after = threadCpu(server.pid)
        count = record.get("ok") or record.get("users") or 1
        record["threads_ms"] = {k: round((after[k] - before[k]) * 1000 / count, 3)
                                for k in after}
        return record

    def _spied(self, server, argv, timeout):
        if not self.spy:
            return Runner.loadgen(self, server, argv, timeout)
        out = f"{self.spy}.{server.tree_label}.{argv[0]}.{int(time.time())}.txt"
        command = [shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable),
                                                          "py-spy"),
                   "record", "-r", "250", "-f", "raw", "-o", out, "--nonblocking",
                   "-p", str(server.pid)] + (["--gil"] if self.gil else [])
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        try:
            return Runner.loadgen(self, server, argv, timeout)
        finally:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)


def treeServer(label, tree):
    """A L{Jabberd} class that runs from source tree C{tree}."""
    def command(self):
        argv, env, _ = Jabberd.command(self)
        return argv, env, tree
    return type(f"Jabberd{label}", (Jabberd,), {"command": command, "tree_label": label})


KEPT = ("scenario", "logins_per_s", "server_ms_per_login", "p50_ms", "p99_ms", "server_cpu",
        "gen_cpu", "all_presence_s", "threads_ms", "delivered_per_s", "server_ms_per_msg", "csi_bytes", "lost", "error")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.abtrees", description=__doc__.split("\n")[1])
    p.add_argument("--a", required=True, help="source tree A (e.g. the base)")
    p.add_argument("--b", default=".", help="source tree B")
    p.add_argument("--scenarios", default="login")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--profile", default="default")
    p.add_argument("--concurrency", type=int, default=20, help="logins in flight")
    p.add_argument("--spy", default=None, help="py-spy output prefix")
    p.add_argument("--gil", action="store_true", help="py-spy: the GIL holder only")
    p.add_argument("--quick", action="store_true", help="the runner's smaller sizes")
    p.add_argument("--duration", default="10", help="measured seconds per scenario")
    a = p.parse_args(argv)
    args = runnerParser().parse_args(["--duration", a.duration, "--profile", a.profile,
                                      "--login-concurrency", str(a.concurrency)]
                                     + (["--quick"] if a.quick else []))
    runner = TreeRunner(args)
    runner.spy, runner.gil = a.spy, a.gil
    trees = [("A", os.path.abspath(a.a)), ("B", os.path.abspath(a.b))]
    try:
        for round in range(a.rounds):
            for label, tree in (trees if round % 2 == 0 else trees[::-1]):
                for name in a.scenarios.split(","):
                    record = runner.runOne(treeServer(label, tree), SCENARIOS[name], round)
                    kept = {k: record[k] for k in KEPT if k in record}
                    print(json.dumps(dict(kept, tree=label, round=round)), flush=True)
    finally:
        runner.cleanup()


if __name__ == "__main__":
    main()
