"""
jabberd (this project, from the working tree) under benchmark: its own ini
(ports c2s 35222, HTTP/BOSH 35280, components 35347), SQLite in its own data
dir, SCRAM with 4096 iterations, started as::

    taskset -c 0 PYTHON -c 'from twisted.scripts.twistd import run; run()' \\
        -n --pidfile= jabberd -c INI

with the project root as working directory (so C{twisted/plugins} is found
without installing).  The MUC component (C{[component:conference.localhost]
plugin = conference}) is configured only for the muc scenario, so an
unfinished component cannot stop the other scenarios.

Accounts: in-band registration (XEP-0077) when the server offers it; else
in bulk through jabberd's own storage API in one child process; else
C{python -m jabberd.ctl adduser} once per account.
"""

import os
import subprocess
import sys

from bench.servers import ServerError, ServerUnderTest

__all__ = ["Jabberd", "ROOT"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MUC_SECTION = """
[component:{domain}]
plugin = conference
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
    boshPath = "/http-bind"
    python = sys.executable

    @classmethod
    def allPorts(cls):
        return [cls.c2sPort, cls.httpPort, cls.componentPort]

    def configure(self):
        self.componentPort = type(self).componentPort + self.portOffset
        self.datadir = os.path.join(self.workdir, "data")
        os.makedirs(self.datadir, exist_ok=True)
        extra = MUC_SECTION.format(domain=self.mucDomain) if self.scenario.startswith("muc") else ""
        self.configPath = os.path.join(self.workdir, "jabberd.ini")
        with open(self.configPath, "w") as f:
            f.write(self.template("jabberd.ini.in", domain=self.domain, datadir=self.datadir,
                                  cert=self.cert, key=self.key, c2sPort=self.c2sPort,
                                  httpPort=self.httpPort, componentPort=self.componentPort,
                                  extra=extra))

    def command(self):
        argv = [self.python, "-c", "from twisted.scripts.twistd import run; run()",
                "-n", "--pidfile=", "jabberd", "-c", self.configPath]
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
