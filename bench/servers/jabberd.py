"""
jabberd (this project, from the working tree) under benchmark: its own ini
(ports c2s 35222, HTTP/BOSH 35280, components 35347), SQLite in its own data
dir, SCRAM with 4096 iterations, started as::

    taskset -c 0 PYTHON -c 'from twisted.scripts.twistd import run; run()' \\
        -n --pidfile= jabberd -c INI

with the project root as working directory (so C{twisted/plugins} is found
without installing).  The MUC component (C{[component:conference.localhost]
plugin = conference}) is configured only for the muc scenario, so an
unfinished component cannot stop the other scenarios.  The message archive
(XEP-0313, C{[archive] default}) is C{never}, except C{always} in the
archive scenarios (L{bench.servers.ARCHIVE_SCENARIOS}).

The rest scenario runs the sample configuration instead (C{etc/jabberd.ini},
every bundled component, the web chat page, WebSocket, s2s), with only the
data dir, the certificate and the listeners changed (L{sampleConfig}): the
resting footprint an operator sees first.

Accounts: in-band registration (XEP-0077) when the server offers it; else
in bulk through jabberd's own storage API in one child process; else
C{python -m jabberd.ctl adduser} once per account.
"""

import os
import re
import subprocess
import sys

from bench.servers import ServerError, ServerUnderTest

__all__ = ["Jabberd", "ROOT"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def sampleConfig(text, values):
    """
    The sample ini C{text} with C{values[(section, key)]} put in place of
    those keys' values; every other line, comments included, kept.
    """
    section, out = None, []
    for line in text.splitlines():
        header = re.match(r"\[(.+)\]\s*$", line)
        if header:
            section = header.group(1)
        setting = re.match(r"(\w+)\s*=", line)
        if setting and (section, setting.group(1)) in values:
            line = f"{setting.group(1)} = {values[(section, setting.group(1))]}"
        out.append(line)
    return "\n".join(out) + "\n"


MUC_SECTION = """
[component:{domain}]
plugin = conference
; No room archive (XEP-0313 for rooms): neither Prosody nor ejabberd loads one here.
archive = no
"""

# Runs in a child process with the project root as working directory: makes
# accounts through the storage API, the same credentials jabberd makes.
BULK_ADD = r"""
import sys
from twisted.internet import defer, task
from jabberd import config
from jabberd.auth import credentials as auth
from jabberd.storage import UserExists, openStorage

@defer.inlineCallbacks
def main(reactor, ini, prefix, count, password):
    cfg = config.load(ini)
    storage = openStorage(cfg.server.database)
    made = 0
    try:
        for i in range(int(count)):
            creds = auth.makeCredentials(password, cfg.c2s.scramIterations)
            try:
                yield storage.accounts.create(f"{prefix}{i}", creds)
                made += 1
            except UserExists:
                pass
    finally:
        yield storage.close()
    print(made)

task.react(main, sys.argv[1:])
"""


class Jabberd(ServerUnderTest):
    """jabberd from /work/main, one twistd process, one core."""

    name = "jabberd"
    c2sPort = 35222
    httpPort = 35280
    componentPort = 35347
    tlsPort = 35223
    s2sPort = 35269
    boshPath = "/http-bind"
    python = sys.executable

    @classmethod
    def allPorts(cls):
        return [cls.c2sPort, cls.httpPort, cls.componentPort, cls.tlsPort, cls.s2sPort]

    def configure(self):
        self.componentPort = type(self).componentPort + self.portOffset
        self.datadir = os.path.join(self.workdir, "data")
        os.makedirs(self.datadir, exist_ok=True)
        extra = (MUC_SECTION.format(domain=self.mucDomain)
                 if self.scenario.startswith("muc") or self.federating else "")
        self.configPath = os.path.join(self.workdir, "jabberd.ini")
        if self.scenario == "rest":
            self.configureSample()
            return
        with open(self.configPath, "w") as f:
            f.write(self.template("jabberd.ini.in", domain=self.domain, datadir=self.datadir,
                                  cert=self.cert, key=self.key, c2sPort=self.c2sPort,
                                  httpPort=self.httpPort, componentPort=self.componentPort,
                                  archiveDefault="always" if self.archiving else "never",
                                  s2sListen=(f"tcp:{self.s2sPort}:interface=127.0.0.1"
                                             if self.federating else ""),
                                  extra=extra))

    def configureSample(self):
        """The shipped sample configuration, on this run's data dir, certificate and ports."""
        def listen(port):
            return f"tcp:{port + self.portOffset}:interface=127.0.0.1"
        values = {
            ("server", "domains"): self.domain, ("server", "datadir"): self.datadir,
            ("server", "certificate"): self.cert, ("server", "private_key"): self.key,
            ("c2s", "listen"): f"tcp:{self.c2sPort}:interface=127.0.0.1",
            ("c2s", "listen_tls"): listen(type(self).tlsPort),
            ("s2s", "listen"): listen(type(self).s2sPort),
            ("components", "listen"): f"tcp:{self.componentPort}:interface=127.0.0.1",
            ("http", "listen"): f"tcp:{self.httpPort}:interface=127.0.0.1",
        }
        with open(os.path.join(ROOT, "etc", "jabberd.ini")) as f:
            text = f.read()
        # The components' sections are named after the sample's domain.
        text = text.replace(".localhost]", f".{self.domain}]")
        with open(self.configPath, "w") as f:
            f.write(sampleConfig(text, values))

    def command(self):
        argv = [self.python, "-c", "from twisted.scripts.twistd import run; run()",
                "-n", "--pidfile="]
        profile = os.environ.get("BENCH_PROFILE")
        if profile:
            # twistd's own cProfile run, saved as pstats when the server stops.
            argv += ["--profiler=cprofile", "--savestats",
                     f"--profile={profile}.{self.scenario}"]
        argv += ["jabberd", "-c", self.configPath]
        return argv, None, ROOT

    def provisionFallback(self, prefix, count, password):
        """Bulk through the storage API (server stopped), else the admin CLI."""
        try:
            out = subprocess.run([self.python, "-c", BULK_ADD, self.configPath, prefix,
                                  str(count), password], cwd=ROOT, capture_output=True,
                                 text=True, timeout=600)
        except subprocess.TimeoutExpired:
            out = None
        if out is not None and out.returncode == 0:
            return "storage"
        bulkError = out.stderr[-500:] if out is not None else "timeout"
        for i in range(count):
            cli = subprocess.run([self.python, "-m", "jabberd.ctl", "-c", self.configPath,
                                  "adduser", f"{prefix}{i}", "--password", password],
                                 cwd=ROOT, capture_output=True, text=True, timeout=120)
            if cli.returncode != 0 and "exist" not in (cli.stderr + cli.stdout).lower():
                raise ServerError(f"jabberd accounts: storage API failed ({bulkError}); "
                                  f"jabberd.ctl failed: {(cli.stderr or cli.stdout)[-500:]}")
        return "ctl"
