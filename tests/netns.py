"""
Test hosts in Linux network namespaces: a bridge in the root namespace
with an address of the tests' own (a random 10.x.y.0/24), and one
namespace per host joined to it by a veth pair.  A process run with
L{Host.command} sees only its host's interface and loopback; the test
process reaches every host through the bridge, and a host is cut off
the network by taking its veth down (L{Host.cut}) and put back with
L{Host.restore}.

Needs root and the C{ip} command (iproute2).  L{requireNamespaces} skips
a test without them, except under CI (C{CI} set), where it fails.
Everything made is removed by L{Network.close}, which a fixture's
finalizer calls; names carry a random tag, so tests running at the same
time never meet.
"""

import os
import random
import shutil
import subprocess
import uuid

import pytest

__all__ = ["Network", "Host", "requireNamespaces", "namespacesAvailable"]


def namespacesAvailable():
    """Whether this process may make network namespaces (root, and iproute2 installed)."""
    return os.geteuid() == 0 and shutil.which("ip") is not None


def requireNamespaces():
    """Skip (or, under CI, fail) unless network namespaces can be made."""
    if not namespacesAvailable():
        if os.environ.get("CI"):
            pytest.fail("network namespace tests need root and iproute2 in CI")
        pytest.skip("network namespaces need root and iproute2")


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20,
                          check=check)


class Host:
    """
    One test host: a namespace with one interface (C{eth0}) on the bridge.

    @ivar name: the host's name in the test.
    @ivar namespace: the namespace's name.
    @ivar address: its IPv4 address on the bridge.
    """

    def __init__(self, name, namespace, veth, address):
        self.name = name
        self.namespace = namespace
        self.veth = veth
        self.address = address

    def command(self, argv):
        """C{argv} run inside this host (C{ip netns exec} execs it: the pid is the command's)."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def cut(self):
        """Take the host off the network (its veth down): its connections stall."""
        _ip("link", "set", self.veth, "down")

    def restore(self):
        """Put the host back on the network."""
        _ip("link", "set", self.veth, "up")


class Network:
    """
    A bridge and the hosts on it.

    @ivar address: the bridge's own address (the root namespace's side).
    @ivar hosts: name -> L{Host}.
    """

    def __init__(self):
        self.tag = uuid.uuid4().hex[:6]
        self.prefix = f"10.{random.randint(64, 250)}.{random.randint(0, 255)}"
        self.bridge = "jb" + self.tag
        self.address = self.prefix + ".1"
        self.hosts = {}
        _ip("link", "add", self.bridge, "type", "bridge")
        try:
            _ip("addr", "add", self.address + "/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
        except subprocess.CalledProcessError:
            self.close()
            raise

    def add(self, name):
        """A new host C{name} on the bridge, up, with loopback up."""
        index = len(self.hosts) + 10
        namespace = f"jd{self.tag}-{name}"
        veth = f"jv{self.tag}{index}"
        host = Host(name, namespace, veth, f"{self.prefix}.{index}")
        self.hosts[name] = host
        _ip("netns", "add", namespace)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", namespace, "addr", "add", host.address + "/24", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        return host

    def close(self):
        """Remove every namespace (their veths go with them) and the bridge."""
        for host in self.hosts.values():
            _ip("netns", "del", host.namespace, check=False)
        self.hosts = {}
        _ip("link", "del", self.bridge, check=False)
