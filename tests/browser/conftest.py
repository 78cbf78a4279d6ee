"""
Fixtures for the browser tests: Debian's Chromium driven by playwright-core
from node, the test-only npm packages of C{package.json} (installed here if
missing), and a real jabberd on ephemeral loopback ports.

Without Chromium or node the tests are skipped, except under C{CI}, where
they must run (C{.ci/run} installs what they need).
"""

import os
import shutil
import subprocess

import pytest

from tests.integration.harness import ROOT, ServerProcess

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NEEDED = ("playwright-core", "strophe.js", "converse.js")


def _missing():
    """What the browser tests lack, after trying to install the npm packages."""
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if shutil.which("node") is None:
        return "no node (apt-get install nodejs npm)"
    modules = os.path.join(ROOT, "node_modules")
    if not all(os.path.isdir(os.path.join(modules, name)) for name in NEEDED):
        npm = shutil.which("npm")
        command = "ci" if os.path.exists(os.path.join(ROOT, "package-lock.json")) else "install"
        if npm is not None:
            subprocess.run([npm, command, "--no-audit", "--no-fund"], cwd=ROOT,
                           capture_output=True, timeout=300)
        if not all(os.path.isdir(os.path.join(modules, name)) for name in NEEDED):
            return "npm packages missing (npm ci): " + ", ".join(NEEDED)
    return None


@pytest.fixture(scope="session")
def browser():
    """The node driver's command prefix; skips (or fails in CI) without a browser."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail("browser tests must run in CI: " + reason)
        pytest.skip(reason)
    return ["node", os.path.join(ROOT, "tests", "browser", "driver.mjs")]


@pytest.fixture(scope="module")
def webServer(tmp_path_factory):
    """A started jabberd (SQLite) with users alice, bob, carol (passwords name + 'pw')."""
    proc = ServerProcess(tmp_path_factory.mktemp("jabberd-web"))
    # Strophe.js refuses SCRAM with fewer than 4096 iterations (RFC 7677 section 4).
    with open(proc.configPath) as f:
        text = f.read()
    with open(proc.configPath, "w") as f:
        f.write(text.replace("scram_iterations = 64", "scram_iterations = 4096"))
    proc.start()
    for name in ("alice", "bob", "carol"):
        proc.adduser(name, name + "pw")
    proc.base = f"http://127.0.0.1:{proc.ports['http']}"
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """Where screenshots go: C{$JABBERD_ARTIFACTS}, else a pytest temporary directory."""
    path = os.environ.get("JABBERD_ARTIFACTS")
    if path:
        os.makedirs(path, exist_ok=True)
        return path
    return str(tmp_path_factory.mktemp("browser-artifacts"))
