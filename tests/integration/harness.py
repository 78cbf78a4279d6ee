"""
A real jabberd for integration tests: started with C{twistd jabberd} in a
child process on ephemeral loopback ports with a temporary data dir, on
SQLite or on a fresh schema of the local PostgreSQL server.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_URL = os.environ.get("JABBERD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

BASE_CONFIG = """
[server]
domains = {domain}
datadir = {datadir}
database = {database}
keepalive_interval = 0
idle_timeout = 0
max_stanza_size = 65536

[c2s]
listen = tcp:0:interface=127.0.0.1
listen_tls = tcp:0:interface=127.0.0.1
scram_iterations = 64

[components]
listen = tcp:0:interface=127.0.0.1

[http]
listen = tcp:0:interface=127.0.0.1

[component:echo.{domain}]
secret = echo-secret

[component:conference.{domain}]
plugin = conference

[component:register.{domain}]
plugin = register
trusted = yes
delegate = jabber:iq:register
open = yes

[component:offline.{domain}]
plugin = offline
trusted = yes
delegate = http://jabber.org/protocol/offline

[component:upload.{domain}]
plugin = upload
"""


class PostgresSchema:
    """A throw-away schema on the local PostgreSQL server."""

    def __init__(self):
        self.name = "jdtest_" + uuid.uuid4().hex[:12]

    def url(self, base=PG_URL):
        """The URL of the schema on the server at C{base} (a URL without a query, or with one)."""
        joiner = "&" if "?" in base else "?"
        return f"{base}{joiner}options=-csearch_path%3D{self.name}"

    def _execute(self, sql):
        import psycopg

        dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql)

    def create(self):
        self._execute(f"CREATE SCHEMA {self.name}")
        return self

    def drop(self):
        self._execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")


class ServerProcess:
    """
    One jabberd child process.

    @ivar ports: listener name -> port, read from the server's ports.json.
    """

    def __init__(self, tmpdir, database=None, extra="", domain="localhost", host=None):
        """
        @param host: a L{tests.netns.Host} to run the server in, listening on
            its address; None for loopback here.
        """
        self.datadir = os.path.join(str(tmpdir), "data")
        self.configPath = os.path.join(str(tmpdir), "jabberd.ini")
        self.logPath = os.path.join(str(tmpdir), "jabberd.log")
        self.host = host
        self.address = host.address if host is not None else "127.0.0.1"
        database = database or "sqlite:///" + os.path.join(self.datadir, "jabberd.db")
        config = BASE_CONFIG.format(datadir=self.datadir, database=database, domain=domain)
        with open(self.configPath, "w") as f:
            f.write(config.replace("interface=127.0.0.1", "interface=" + self.address) + extra)
        self.listeners = {"c2s", "c2s-tls", "components", "http"}
        if "[s2s]" in extra:
            self.listeners.add("s2s")
        self.process = None
        self.ports = {}
        self.components = []

    def start(self, timeout=20):
        """Start the server and wait until every listener is bound."""
        portsFile = os.path.join(self.datadir, "ports.json")
        if os.path.exists(portsFile):
            os.unlink(portsFile)
        self.log = open(self.logPath, "ab")
        argv = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
                "-n", "--pidfile=", "-l", "-", "jabberd", "-c", self.configPath]
        if self.host is not None:
            argv = self.host.command(argv)
        self.process = subprocess.Popen(argv, cwd=ROOT, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("jabberd exited at start:\n" + self.logText())
            try:
                with open(portsFile) as f:
                    self.ports = json.load(f)
            except (OSError, ValueError):
                self.ports = {}
            if self.listeners <= set(self.ports):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("jabberd did not start listening:\n" + self.logText())

    def startComponent(self, domain, timeout=20):
        """
        Run the plugin of C{[component:DOMAIN]} (C{external = yes}) in its
        own C{twistd jabberd-component} process and wait until the server
        logs its connection.
        """
        logPath = os.path.join(self.datadir, f"{domain}.log")
        marker = f"component {domain} connected"
        before = self.logText(limit=None).count(marker)
        log = open(logPath, "ab")
        process = subprocess.Popen(
            [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
             "-n", "--pidfile=", "-l", "-", "jabberd-component", "-c", self.configPath, domain],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.components.append(process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.logText(limit=None).count(marker) > before:
                return process
            if process.poll() is not None:
                break
            time.sleep(0.05)
        with open(logPath, errors="replace") as f:
            raise RuntimeError(f"component {domain} did not connect:\n" + f.read()[-5000:])

    def logText(self, limit=5000):
        with open(self.logPath, errors="replace") as f:
            text = f.read()
        return text if limit is None else text[-limit:]

    def stop(self, sig=signal.SIGTERM):
        """Stop the server (SIGKILL for a crash) and wait for it."""
        while self.components:
            _terminate(self.components.pop())
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def ctl(self, *args, input=None):
        """Run jabberdctl on this server's configuration."""
        return subprocess.run(
            [sys.executable, "-m", "jabberd.ctl", "-c", self.configPath, *args],
            cwd=ROOT, input=input, capture_output=True, text=True, timeout=60)

    def adduser(self, username, password):
        result = self.ctl("adduser", username, "--password", password)
        assert result.returncode == 0, result.stderr


class OwnServers:
    """
    Servers a test makes for itself (to kill, restart or configure them):
    each with a data dir and, on PostgreSQL, a schema of its own; all
    stopped and dropped by L{close}.
    """

    def __init__(self, backend, tmpdir):
        self.backend = backend
        self.tmpdir = tmpdir
        self.made = []

    def make(self, replacements=None, users=("alice", "bob")):
        """
        Start a server whose configuration has each key of C{replacements}
        (text of the base configuration) replaced by its value, with the
        accounts C{users} (passwords = name + 'pw').
        """
        schema = PostgresSchema().create() if self.backend else None
        directory = os.path.join(str(self.tmpdir), f"server{len(self.made)}")
        os.makedirs(directory)
        proc = ServerProcess(directory, database=schema.url() if schema else None)
        self.made.append((proc, schema))
        with open(proc.configPath) as f:
            text = f.read()
        for old, new in (replacements or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        with open(proc.configPath, "w") as f:
            f.write(text)
        proc.start()
        for name in users:
            proc.adduser(name, name + "pw")
        return proc

    def close(self):
        for proc, schema in self.made:
            proc.stop()
            if schema is not None:
                schema.drop()


def _terminate(process):
    """End a child process we started, and wait for it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
