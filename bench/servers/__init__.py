"""
Servers under test.  Each one is a L{ServerUnderTest}: it writes its own
configuration (from a template beside this file) into its own data dir under
a temporary directory, listens on its own loopback ports (never the system
service's), and runs pinned to one core with C{taskset}.

Configurations are fair by construction: STARTTLS required, SCRAM-SHA-1
with salted hashes of 4096 PBKDF2 iterations, no rate limits or shapers,
logging at warning, a listen backlog of 1024 where configurable, the same
self-signed certificate, a MUC service at C{conference.localhost} and BOSH
on plain HTTP (loopback; treated as secure, as behind a TLS proxy).

No server archives messages (XEP-0313) except in the scenarios named in
L{ARCHIVE_SCENARIOS}, where all three archive every message of every user;
Prosody and ejabberd load PEP (XEP-0163) only in L{PEP_SCENARIOS}.
"""

import os
import signal
import socket
import string
import subprocess
import time

from bench.measure import processTree

__all__ = ["ServerError", "ServerUnderTest", "makeCertificate", "registry", "portOpen",
           "ARCHIVE_SCENARIOS", "PEP_SCENARIOS", "PROFILES"]

HERE = os.path.dirname(os.path.abspath(__file__))

# Scenarios measured with message archiving (XEP-0313) on in every server.
ARCHIVE_SCENARIOS = frozenset({"chatmam", "mamquery"})
# The scenario of bench/abuse.py: a MUC service, and plain dialback on the
# s2s port (every server, the same bytes), for the dialback flood.
ABUSE_SCENARIO = "abuse"

#: The runner's C{--profile}s: C{default} (the comparable module set of
#: bench/README.md) and C{deployment} (what a real deployment enables on top:
#: message archive, stream management, carbons, PEP with caps).
PROFILES = ("default", "deployment")

# Scenarios with PEP (XEP-0163) loaded in the anchors: Prosody mod_pep,
# ejabberd mod_pubsub with its pep plugin and mod_caps (jabberd always has it).
PEP_SCENARIOS = frozenset({"pepfanout"})


class ServerError(Exception):
    """A server could not be installed, configured, started or provisioned."""


def portOpen(port, host="127.0.0.1"):
    """Whether something accepts TCP connections on C{host:port}."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _alive(pid):
    """Whether C{pid} still runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] != b"Z"


def makeCertificate(directory):
    """A self-signed RSA-2048 certificate for localhost: (cert path, key path)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
         "-subj", "/CN=localhost", "-keyout", key, "-out", cert,
         "-addext", "subjectAltName=DNS:localhost,DNS:conference.localhost"],
        check=True, capture_output=True, timeout=60)
    return cert, key


class ServerUnderTest:
    """
    One server: configuration, start, stop, provisioning.

    @cvar name: short name used on the command line and in the table.
    @cvar c2sPort: client port (STARTTLS).
    @cvar httpPort: BOSH port (plain HTTP).
    @cvar s2sPort: server-to-server port, listened on in the abuse scenario
        only (plain dialback, XEP-0220), so the other scenarios are unchanged.
    @ivar workdir: this server's own directory (config, data, log).
    @ivar scenario: the scenario this instance serves (configs may differ).
    """

    name = ""
    c2sPort = 0
    httpPort = 0
    s2sPort = 0
    boshPath = "/http-bind"
    domain = "localhost"
    mucDomain = "conference.localhost"
    startTimeout = 60.0

    def __init__(self, workdir, cert, key, core=0, scenario="", portOffset=0):
        # Instance ports: the class defaults shifted, when something else
        # (a developer's own server) already uses the defaults.
        self.c2sPort = type(self).c2sPort + portOffset
        self.httpPort = type(self).httpPort + portOffset
        self.s2sPort = type(self).s2sPort + portOffset
        self.portOffset = portOffset
        self.workdir = workdir
        self.cert, self.key = cert, key
        self.core = core
        self.scenario = scenario
        self.profile = "default"
        self.process = None
        self.logPath = os.path.join(workdir, f"{self.name}.out")
        os.makedirs(workdir, exist_ok=True)

    @classmethod
    def missing(cls):
        """Why this server cannot run here (not installed ...), or None."""
        return None

    @property
    def federating(self):
        """Whether this scenario listens for other servers (the abuse scenario's dialback flood)."""
        return self.scenario == ABUSE_SCENARIO

    @property
    def deployment(self):
        """
        Whether the server runs the deployment profile: MAM (every message
        archived), stream management, carbons, PEP and caps on.
        """
        return self.profile == "deployment"

    @property
    def archiving(self):
        """Whether every message is archived (XEP-0313): archive scenarios, deployment profile."""
        return self.scenario in ARCHIVE_SCENARIOS or self.deployment

    @property
    def pep(self):
        """Whether this scenario needs PEP (XEP-0163), with caps-based notifications."""
        return self.scenario in PEP_SCENARIOS

    def template(self, filename, **values):
        """Fill the template C{filename} (beside this module) with C{values}."""
        with open(os.path.join(HERE, filename), encoding="utf-8") as f:
            return string.Template(f.read()).substitute(values)

    def configure(self):
        """Write the configuration and create the data dirs."""
        raise NotImplementedError

    def command(self):
        """(argv, environment or None, working directory) to run the server."""
        raise NotImplementedError

    def ports(self):
        """The ports that must be open before the server counts as started."""
        return ([self.c2sPort] + ([self.httpPort] if self.scenario == "bosh" else [])
                + ([self.s2sPort] if self.federating else []))

    @classmethod
    def freeOffset(cls, step=100, tries=10):
        """The first port offset (0, 100, ...) where all of this server's ports are free."""
        for offset in range(0, step * tries, step):
            ports = [p + offset for p in cls.allPorts()]
            if not any(portOpen(p) for p in ports):
                return offset
        raise ServerError(f"{cls.name}: ports {cls.allPorts()} (and +{step}.. "
                          f"+{step * (tries - 1)}) are all in use")

    @classmethod
    def allPorts(cls):
        return [cls.c2sPort, cls.httpPort] + ([cls.s2sPort] if cls.s2sPort else [])

    @property
    def pid(self):
        return self.process.pid if self.process is not None else None

    def start(self):
        """Start pinned to C{core}; wait until its ports answer."""
        for port in self.ports():
            if portOpen(port):
                raise ServerError(f"{self.name}: port {port} is already in use")
        argv, env, cwd = self.command()
        with open(self.logPath, "ab") as log:
            self.process = subprocess.Popen(
                ["taskset", "-c", str(self.core)] + argv, cwd=cwd, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + self.startTimeout
        waiting = list(self.ports())
        while waiting:
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.process.returncode}: "
                                  + self.logTail())
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"{self.name}: ports {waiting} not open after "
                                  f"{self.startTimeout:.0f} s: " + self.logTail())
            waiting = [p for p in waiting if not portOpen(p)]
            time.sleep(0.2)
        self.afterStart()

    def afterStart(self):
        """Hook for servers that need a moment after their ports open."""

    def stop(self, timeout=30.0):
        """
        SIGTERM the server's process group and wait for its whole process
        tree to exit (a VM killed early loses its last writes), then SIGKILL
        whatever is left of that tree.
        """
        if self.process is None:
            return
        members = processTree(self.process.pid)
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process.poll()
            if not any(_alive(pid) for pid in members):
                break
            time.sleep(0.1)
        for pid in members:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.process = None
        self.waitPortsClosed()

    def waitPortsClosed(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while any(portOpen(p) for p in self.ports()) and time.monotonic() < deadline:
            time.sleep(0.2)

    def logTail(self, size=1500):
        try:
            with open(self.logPath, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - size))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    def provisionFallback(self, prefix, count, password):
        """Create accounts without in-band registration (servers that need it)."""
        raise ServerError(f"{self.name}: in-band registration failed and no fallback")

    def loadgenArgs(self):
        """Connection options for C{bench.loadgen}."""
        return ["--port", str(self.c2sPort), "--http-port", str(self.httpPort),
                "--bosh-path", self.boshPath, "--domain", self.domain,
                "--muc-domain", self.mucDomain]


def registry():
    """Server name -> class, in the order of the table."""
    from bench.servers.ejabberd import Ejabberd
    from bench.servers.jabberd import Jabberd
    from bench.servers.prosody import Prosody

    return {cls.name: cls for cls in (Jabberd, Prosody, Ejabberd)}
