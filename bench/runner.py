"""
The benchmark runner: C{python -m bench.runner}.

Runs the same scenarios against jabberd, Prosody and ejabberd back to back
on this machine: every server pinned to core 0 (C{taskset}), the load
generator (L{bench.loadgen}) to core 1.  Each scenario starts a fresh server
with its own config, data dir and ports, provisions the same accounts,
restarts the server (so the measured process is fresh), runs the generator,
and stops the server.  A server or scenario that fails gives "n/a", never a
crash of the whole run.  Prints one JSON line per measurement as it comes,
then a markdown table with absolute figures and the ratios jabberd/Prosody
and jabberd/ejabberd (best of the repeats; see C{bench/README.md}).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from bench.servers import PROFILES, ServerError, makeCertificate, registry
from bench.table import renderTable

__all__ = ["main", "SCENARIOS", "Scenario"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Scenario:
    """
    One measured scenario: the accounts it needs and the generator's arguments.

    @ivar prefix: account name prefix (accounts are PREFIX0..PREFIX<n-1>).
    @ivar full: account count (and size) for a full run; C{quick} for --quick.
    @ivar archive: messages put in PREFIX0's archive before the restart (0: none).
    """

    def __init__(self, name, command, prefix, full, quick, extra=(), mesh=False, archive=0):
        self.name, self.command, self.prefix = name, command, prefix
        self.full, self.quick = full, quick
        self.extra = list(extra)
        self.mesh = mesh
        self.archive = archive

    def size(self, quick):
        return self.quick if quick else self.full

    def loadgenArgs(self, quick):
        return ([self.command, "--prefix", self.prefix, "--count", str(self.size(quick))]
                + self.extra)


SCENARIOS = {s.name: s for s in (
    Scenario("login", "login", "l", 500, 100),
    Scenario("relogin", "login", "l", 500, 100, ["--stored-keys", "--settle", "1"]),
    Scenario("throughput", "throughput", "t", 100, 100, ["--pairs", "50"]),
    Scenario("idle", "idle", "i", 1000, 200),
    Scenario("rest", "rest", "z", 0, 0, ["--settle", "10"]),
    Scenario("roster", "roster", "r", 51, 51, mesh=True),
    Scenario("rostercaps", "roster", "r", 51, 51, ["--caps"], mesh=True),
    Scenario("muc50", "muc", "m", 50, 50),
    Scenario("muc100", "muc", "m", 100, 100),
    Scenario("bosh", "bosh", "b", 500, 100, ["--pairs", "50", "--rate", "5"]),
    Scenario("csi", "csi", "c", 51, 51, ["--rate", "2"], mesh=True),
    Scenario("chatmam", "throughput", "t", 100, 100, ["--pairs", "50"]),
    Scenario("pepfanout", "pepfanout", "p", 51, 51, mesh=True),
    Scenario("mamquery", "mamquery", "q", 2, 2, ["--queries", "200", "--page", "50"],
             archive=100000),
)}
ALIASES = {"muc": ["muc50", "muc100"]}


def emit(record):
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def note(text):
    """Progress for the person running the benchmark (stderr, not results)."""
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


def install():
    """Install Prosody and ejabberd from Debian and stop their system services."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "prosody", "ejabberd"], check=True,
                   env=env, timeout=1800)
    for service in ("prosody", "ejabberd"):
        # The benchmark never uses the system instances; don't let them compete.
        subprocess.run(["service", service, "stop"], capture_output=True, timeout=120)


class Runner:
    """Runs scenarios against servers and collects the result records."""

    def __init__(self, args):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="xmpp-bench-", dir=args.workdir)
        self.cert, self.key = makeCertificate(self.root)
        os.chmod(self.root, 0o755)
        for path in (self.cert, self.key):
            os.chmod(path, 0o644)  # readable by the prosody/ejabberd users too
        twoCores = (os.cpu_count() or 1) >= 2
        self.serverCore = 0
        self.genCore = 1 if twoCores else -1
        self.records = []

    def loadgen(self, server, argv, timeout):
        """Run the generator against C{server}; its JSON record."""
        command = [sys.executable, "-m", "bench.loadgen"] + argv + server.loadgenArgs() + [
            "--label", server.name, "--cpu", str(self.genCore),
            "--timeout", str(timeout), "--password", self.args.password]
        if server.pid:
            command += ["--server-pid", str(server.pid)]
        try:
            out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                 timeout=timeout + 60)
        except subprocess.TimeoutExpired:
            return {"error": "load generator did not finish"}
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"error": "load generator crashed: " + out.stderr[-800:]}
        return json.loads(lines[-1])

    def provision(self, server, scenario):
        """
        The scenario's accounts (in-band, else the server's fallback), rosters
        and archive; figures of the provisioning worth reporting (archive fill).
        """
        count = scenario.size(self.args.quick)
        reg = self.loadgen(server, ["register", "--prefix", scenario.prefix, "--count",
                                    str(count), "--concurrency", "10"], 900)
        if reg.get("error") or reg.get("errors"):
            if reg.get("registered"):
                raise ServerError(f"registration partly failed: {reg.get('first_error')}")
            note(f"{server.name}: in-band registration unavailable "
                 f"({reg.get('error') or reg.get('first_error')}); using its fallback")
            server.stop()
            how = server.provisionFallback(scenario.prefix, count, self.args.password)
            note(f"{server.name}: {count} accounts made via {how}")
            server.start()
        if scenario.mesh:
            # Provisioning, not measured: 51 users make about 10,000 roster
            # changes, which on a loaded shared machine took jabberd over
            # the generator's default 60 s per step.
            mesh = self.loadgen(server, ["mesh", "--prefix", scenario.prefix, "--count",
                                         str(count), "--concurrency", "51",
                                         "--step-timeout", "300"], 600)
            if mesh.get("error"):
                raise ServerError(f"roster provisioning failed: {mesh['error']}")
        if scenario.archive:
            fill = self.loadgen(server, ["mamfill", "--prefix", scenario.prefix, "--count", "2",
                                         "--messages", str(scenario.archive),
                                         "--window", "50"], 900)
            if fill.get("error"):
                raise ServerError(f"archive provisioning failed: {fill['error']}")
            note(f"{server.name}: {fill['received']} messages delivered in {fill['delivered_s']} s, "
                 f"archived (queryable) after {fill['fill_s']} s; archive count "
                 f"{fill.get('archive_count')}")
            return {"fill_s": fill["fill_s"], "fill_per_s": fill["fill_per_s"],
                    "fill_archive_count": fill.get("archive_count")}
        return {}

    def runOne(self, cls, scenario, repeat):
        """One scenario on one fresh server; always returns a record."""
        base = {"scenario": scenario.name, "server": cls.name, "repeat": repeat,
                "profile": self.args.profile}
        reason = cls.missing()
        if reason:
            return dict(base, error=reason)
        workdir = os.path.join(self.root, f"{repeat}-{scenario.name}-{cls.name}")
        try:
            server = cls(workdir, self.cert, self.key, self.serverCore, scenario.name,
                         cls.freeOffset())
        except ServerError as e:
            return dict(base, error=str(e))
        if server.portOffset:
            note(f"{cls.name}: default ports busy, using ports +{server.portOffset}")
        if cls.name == "jabberd":
            server.python = self.args.python
        server.profile = self.args.profile
        try:
            server.configure()
            server.start()
            provisioned = self.provision(server, scenario)
            server.stop()
            server.start()  # measure a fresh process, not the one that provisioned
            record = self.loadgen(server, scenario.loadgenArgs(self.args.quick)
                                  + self.measureArgs(scenario), self.args.timeout)
            record.update(provisioned)
        except (ServerError, OSError, subprocess.SubprocessError) as e:
            record = {"error": str(e)[:1000]}
        finally:
            server.stop()
            if not self.args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        record.update(base)
        return record

    def measureArgs(self, scenario):
        window = {"throughput": self.args.chat_window, "muc": self.args.muc_window}
        extra = ["--duration", str(self.args.duration)]
        if self.args.profile == "deployment":
            extra.append("--deployment")  # clients enable stream management and carbons
        if scenario.command in window:
            extra += ["--window", str(window[scenario.command])]
        if scenario.command == "login":
            extra += ["--concurrency", str(self.args.login_concurrency)]
        return extra

    def run(self, servers, scenarios):
        for repeat in range(self.args.repeat):
            # Swap the order on every other repeat: noise drifts over time.
            order = servers if repeat % 2 == 0 else list(reversed(servers))
            for name in scenarios:
                for server in order:
                    note(f"run {repeat + 1}/{self.args.repeat}: {name} on {server}")
                    record = self.runOne(registry()[server], SCENARIOS[name], repeat)
                    self.records.append(record)
                    emit(record)
        return self.records

    def cleanup(self):
        if not self.args.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def expand(names):
    out = []
    for name in names.split(","):
        name = name.strip()
        for item in ALIASES.get(name, [name]):
            if item not in SCENARIOS:
                raise SystemExit(f"unknown scenario {item!r}; known: "
                                 + ", ".join(list(SCENARIOS) + list(ALIASES)))
            out.append(item)
    return out


def parser():
    p = argparse.ArgumentParser(prog="python -m bench.runner",
                                description="XMPP benchmark: jabberd vs Prosody vs ejabberd.")
    p.add_argument("--servers", default="jabberd,prosody,ejabberd")
    p.add_argument("--scenarios", default="login,throughput,idle,rest,roster,muc,bosh")
    p.add_argument("--profile", choices=PROFILES, default="default",
                   help="deployment: every server with MAM, stream management, carbons and "
                        "PEP/caps on, and clients that enable stream management and carbons")
    p.add_argument("--install", action="store_true",
                   help="apt-get install prosody ejabberd first (needs root)")
    p.add_argument("--quick", action="store_true", help="smaller sizes, 5 s measurements")
    p.add_argument("--repeat", type=int, default=1,
                   help="run everything N times, the server order swapped each time")
    p.add_argument("--duration", type=float, default=None, help="measured seconds per scenario")
    p.add_argument("--login-concurrency", type=int, default=50,
                   help="logins in progress at once (login)")
    p.add_argument("--chat-window", type=int, default=10,
                   help="chat messages in flight per pair (throughput)")
    p.add_argument("--muc-window", type=int, default=10,
                   help="room messages in flight, each until all occupants got it (muc)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per scenario")
    p.add_argument("--python", default=sys.executable, help="interpreter that runs jabberd")
    p.add_argument("--password", default="benchpass1")
    p.add_argument("--workdir", default=None, help="parent of the temporary directory")
    p.add_argument("--keep", action="store_true", help="keep configs, data and logs")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.duration is None:
        args.duration = 5.0 if args.quick else 10.0
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    for name in servers:
        if name not in registry():
            raise SystemExit(f"unknown server {name!r}; known: {', '.join(registry())}")
    scenarios = expand(args.scenarios)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the servers
    if args.install:
        try:
            install()
        except (OSError, subprocess.SubprocessError) as e:
            raise SystemExit(f"--install failed (it needs root and apt-get): {e}")
    runner = Runner(args)
    note(f"working in {runner.root}; servers on core {runner.serverCore}, "
         f"generator on core {runner.genCore}")
    try:
        records = runner.run(servers, scenarios)
    finally:
        runner.cleanup()
    sys.stdout.write("\n" + renderTable(records, servers) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
