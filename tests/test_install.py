"""
Tests for the packaging: after the README's plain install (C{pip install .})
and its editable install (C{pip install -e .}), in either order in one
virtual environment, C{twistd} finds the C{jabberd} and
C{jabberd-component} plugins.

Each test installs a copy of the project into a new virtual environment
that sees this environment's packages (a C{.pth} file), with
C{--no-deps}, so nothing is downloaded but, where this environment cannot
build wheels itself, the build backend.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = ["setup.cfg", "pyproject.toml", "README.md", "jabberd", "components", "twisted"]

#: Prints where the jabberd plugin module was loaded from, after Twisted's discovery.
WHERE = ("import sys; from twisted.plugin import getPlugins; "
         "from twisted.application.service import IServiceMaker; "
         "names = [p.tapname for p in getPlugins(IServiceMaker)]; "
         "print(sys.modules['twisted.plugins.jabberd_plugin'].__file__); print(names)")
TWISTD = "from twisted.scripts.twistd import run; run()"


def _canBuildWithoutIsolation():
    return (importlib.util.find_spec("wheel") is not None
            or importlib.util.find_spec("setuptools.command.bdist_wheel") is not None)


class Venv:
    """A virtual environment in C{path} that sees this environment's packages."""

    def __init__(self, path):
        self.path = path
        self.work = os.path.join(path, "empty")  # a cwd without a twisted/ directory
        os.makedirs(self.work)
        try:
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", os.path.join(path, "v")],
                           check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            if os.environ.get("CI") == "true":
                pytest.fail(f"cannot create a virtual environment: {e}")
            pytest.skip(f"cannot create a virtual environment: {e}")
        self.python = os.path.join(path, "v", "bin", "python")
        sitePackages = self.run("import sysconfig; print(sysconfig.get_path('purelib'))").strip()
        outer = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
        with open(os.path.join(sitePackages, "_outer.pth"), "w") as f:
            f.write("\n".join(sorted(outer)) + "\n")
        self.sitePackages = sitePackages

    def run(self, code, *args):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        result = subprocess.run([self.python, "-c", code, *args], cwd=self.work, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def install(self, source, editable):
        command = [self.python, "-m", "pip", "install", "-q", "--no-deps",
                   "--disable-pip-version-check"]
        if _canBuildWithoutIsolation():
            command.append("--no-build-isolation")
        command += ["-e", source] if editable else [source]
        result = subprocess.run(command, cwd=self.work, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr

    def pluginFile(self):
        """Where Twisted loaded the jabberd plugin from (after checking both plugins are found)."""
        where, names = self.run(WHERE).splitlines()
        assert "'jabberd'" in names and "'jabberd-component'" in names
        return where


@pytest.fixture
def source(tmp_path):
    """A copy of the project to install."""
    target = tmp_path / "src"
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "dropin.cache", "*.egg-info")
    for name in PROJECT:
        origin = os.path.join(ROOT, name)
        if os.path.isdir(origin):
            shutil.copytree(origin, target / name, ignore=ignore)
        else:
            shutil.copy(origin, target / name)
    return str(target)


@pytest.fixture
def venv(tmp_path):
    return Venv(str(tmp_path / "env"))


def assertTwistdWorks(venv):
    """twistd jabberd --help and twistd jabberd-component --help succeed."""
    assert "--config" in venv.run(TWISTD, "jabberd", "--help")
    assert "DOMAIN" in venv.run(TWISTD, "jabberd-component", "--help")


def test_plainThenEditable(venv, source):
    """A plain install copies the plugins into site-packages; an editable one over it runs them from the project."""
    venv.install(source, editable=False)
    assert venv.pluginFile().startswith(venv.sitePackages)
    assertTwistdWorks(venv)
    venv.install(source, editable=True)
    assert venv.pluginFile().startswith(source)
    assertTwistdWorks(venv)


def test_editableThenPlain(venv, source):
    """An editable install finds the plugins in the project; a plain one over it in site-packages."""
    venv.install(source, editable=True)
    assert venv.pluginFile().startswith(source)
    assertTwistdWorks(venv)
    venv.install(source, editable=False)
    assert venv.pluginFile().startswith(venv.sitePackages)
    assertTwistdWorks(venv)
