"""
Hosts of a test's own in Linux network namespaces: a L{Network} is one
namespace holding a bridge, and each L{Host} is a namespace joined to it
by a veth pair, with the IPv4 and IPv6 addresses the test gives it.  Tests
use it to be clients (or servers) at addresses other than loopback: a
client per address of one IPv6 /64, nodes of a cluster on their own
addresses, a server on a ULA.  A network made with an C{uplink} is also
joined to the test's own namespace, at that address, so the test process
(and a server it runs there, such as NATS) reaches every host; a host is
taken off the bridge with L{Host.cut} and put back with L{Host.restore}.

Code runs on a host with L{Host.call}: a fresh thread enters the host's
namespace (C{setns(2)} changes the network namespace of the calling thread
only) and runs the function there, so every socket it opens, every thread
it starts and every process it spawns (a server started with
L{tests.integration.harness.ServerProcess.start}, say) lives on that
host.  L{Host.run} runs a command there with C{ip netns exec}.

It needs root and C{ip} (iproute2).  L{requireNetworkNamespaces} skips a
test without them, except under C{CI=true}, where the test fails instead.
Every namespace is named C{jdt<pid>x<n>-...}, is deleted by
L{Network.close} (deleting a namespace deletes its veth ends), and any left
by a process that died is swept by the next L{Network}.
"""

import ctypes
import ipaddress
import itertools
import os
import random
import shutil
import subprocess
import threading

import pytest

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
_networks = itertools.count()


def _ip(*args, namespace=None):
    """Run C{ip ARGS} (in C{namespace}, if given); raise with its message if it fails."""
    command = ["ip"] + (["-n", namespace] if namespace else []) + list(args)
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise OSError(f"{' '.join(command)}: {result.stderr.strip()}")
    return result.stdout


def unavailableReason():
    """Why network namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "network namespaces need ip (iproute2)"
    return None


def requireNetworkNamespaces():
    """Skip the calling test when namespaces cannot be made, unless under CI (fail then)."""
    reason = unavailableReason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI=true: this test must run)")
    pytest.skip(reason)


def _sweepStale():
    """Delete the namespaces of this module whose making process no longer runs."""
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return
    for name in names:
        if not name.startswith("jdt") or "x" not in name:
            continue
        pid = name[3:name.index("x")]
        if pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=30)


def _freeUplink():
    """
    An address in a random 10.x.y.0/24 that no route of the test's own
    namespace covers yet: networks made at the same time by other processes
    (pytest-xdist workers, other test runs) have uplinks there too, and two
    uplinks in one subnet would take each other's traffic.
    """
    taken = [ipaddress.ip_network(line.split()[0], strict=False)
             for line in _ip("-4", "route", "show", "table", "all").splitlines()
             if line and line.split()[0][0].isdigit()]
    for _ in range(100):
        subnet = ipaddress.ip_network(f"10.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24")
        if not any(subnet.overlaps(route) for route in taken):
            return f"{subnet.network_address + 1}/24"
    raise OSError("no free 10.x.y.0/24 for a test network's uplink")


class Host:
    """
    One namespace on a L{Network}: interface C{eth0} with C{addresses},
    loopback up, and on-link routes to the network's prefixes.

    @ivar name: the host's name within its network.
    @ivar namespace: the namespace's name (for C{ip netns exec}).
    @ivar addresses: the L{ipaddress} interface objects given to C{eth0}.
    """

    def __init__(self, network, name, namespace, port, addresses):
        self.network, self.name, self.namespace = network, name, namespace
        self.port = port
        self.addresses = [ipaddress.ip_interface(a) for a in addresses]

    @property
    def address(self):
        """The host's first address, as text."""
        return str(self.addresses[0].ip)

    def call(self, function, *args, **kwargs):
        """
        Run C{function(*args, **kwargs)} in a new thread inside this host's
        namespace and return its result (or raise what it raised).
        """
        outcome = {}

        def inside():
            try:
                fd = os.open(os.path.join(NETNS_DIR, self.namespace), os.O_RDONLY)
                try:
                    if _libc().setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns " + self.namespace)
                finally:
                    os.close(fd)
                outcome["result"] = function(*args, **kwargs)
            except BaseException as e:  # handed to the caller's thread below
                outcome["error"] = e

        thread = threading.Thread(target=inside, name="netns-" + self.name)
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def command(self, argv):
        """C{argv} run on this host (C{ip netns exec} execs it: the pid is the command's)."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def run(self, *command, timeout=60, **kwargs):
        """Run C{command} on this host; the L{subprocess.CompletedProcess}."""
        return subprocess.run(self.command(command), timeout=timeout, capture_output=True,
                              text=True, **kwargs)

    def cut(self):
        """Take the host off the bridge (its port down): its connections stall."""
        _ip("link", "set", self.port, "down", namespace=self.network.bridgeNamespace)

    def restore(self):
        """Put the host back on the bridge."""
        _ip("link", "set", self.port, "up", namespace=self.network.bridgeNamespace)


_libcHandle = None


def _libc():
    global _libcHandle
    if _libcHandle is None:
        _libcHandle = ctypes.CDLL(None, use_errno=True)
    return _libcHandle


class Network:
    """
    A bridge in a namespace of its own, and the hosts joined to it.

    @param onlink: prefixes (text) every host routes on-link through
        C{eth0}, so hosts whose addresses are in different subnets of them
        (two IPv6 /64s of one /48, say) reach each other across the bridge
        without a router.
    @param uplink: an interface address (CIDR text) for the test's own
        namespace on the bridge, or C{"auto"} for one in a random
        10.x.y.0/24 no route covers yet; None leaves the network out of
        the test's reach.
    @ivar address: the uplink's address, as text (None without one).
    """

    def __init__(self, onlink=(), uplink=None):
        requireNetworkNamespaces()
        _sweepStale()
        self.prefix = f"jdt{os.getpid()}x{next(_networks)}"
        self.onlink = [ipaddress.ip_network(p) for p in onlink]
        self.hosts = {}
        self.bridgeNamespace = self.prefix + "-net"
        if uplink == "auto":
            uplink = _freeUplink()
        self.uplink = ipaddress.ip_interface(uplink) if uplink else None
        self.address = str(self.uplink.ip) if self.uplink else None
        _ip("netns", "add", self.bridgeNamespace)
        try:
            _ip("link", "set", "lo", "up", namespace=self.bridgeNamespace)
            _ip("link", "add", "br0", "type", "bridge", "mcast_snooping", "0",
                namespace=self.bridgeNamespace)
            _ip("link", "set", "br0", "up", namespace=self.bridgeNamespace)
            if self.uplink:
                self._joinUplink()
        except OSError:
            self.close()
            raise

    def _joinUplink(self):
        """A veth from the test's namespace to the bridge, with the uplink address on our side."""
        ours = self.prefix.replace("jdt", "jdu")
        _ip("link", "add", ours, "type", "veth", "peer", "name", "up0", "netns",
            self.bridgeNamespace)
        _ip("link", "set", "up0", "master", "br0", "up", namespace=self.bridgeNamespace)
        extra = ["nodad"] if self.uplink.version == 6 else []
        _ip("addr", "add", str(self.uplink), "dev", ours, *extra)
        _ip("link", "set", ours, "up")

    def _nextAddress(self):
        """The uplink subnet's next address after those given out (for L{addHost} without any)."""
        return f"{self.uplink.ip + 9 + len(self.hosts)}/{self.uplink.network.prefixlen}"

    def add(self, name):
        """A host C{name} with the next free address of the uplink's subnet."""
        return self.addHost(name, [self._nextAddress()])

    def addHost(self, name, addresses):
        """Make host C{name} with C{addresses} (CIDR text, IPv4 or IPv6) on C{eth0}; return it."""
        namespace = f"{self.prefix}-{name}"
        port = f"v{len(self.hosts)}"
        host = Host(self, name, namespace, port, addresses)
        _ip("netns", "add", namespace)
        self.hosts[name] = host
        _ip("link", "add", port, "netns", self.bridgeNamespace, "type", "veth",
            "peer", "name", "eth0", "netns", namespace, namespace=self.bridgeNamespace)
        _ip("link", "set", port, "master", "br0", "up", namespace=self.bridgeNamespace)
        _ip("link", "set", "lo", "up", namespace=namespace)
        for address in host.addresses:
            extra = ["nodad"] if address.version == 6 else []
            _ip("addr", "add", str(address), "dev", "eth0", *extra, namespace=namespace)
        _ip("link", "set", "eth0", "up", namespace=namespace)
        for prefix in self.onlink:
            _ip("-6" if prefix.version == 6 else "-4", "route", "replace", str(prefix),
                "dev", "eth0", namespace=namespace)
        return host

    def close(self):
        """Delete every namespace made (and with them the veth pairs, the uplink and the bridge)."""
        for host in self.hosts.values():
            subprocess.run(["ip", "netns", "delete", host.namespace], capture_output=True,
                           timeout=30)
        self.hosts = {}
        subprocess.run(["ip", "netns", "delete", self.bridgeNamespace], capture_output=True,
                       timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
