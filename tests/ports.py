"""
Ports a test must know before the server that listens on them starts (two
s2s peers that each name the other's port in their configuration, a
component's own HTTP listener), and ports that must refuse connections.

A port found by binding port 0 and closing the socket is an ephemeral
port: until the server binds it, any other process on the machine (another
pytest-xdist worker, another test run) binding port 0 may be given the same
one.  L{freePort} hands out ports from below the kernel's ephemeral range
(C{/proc/sys/net/ipv4/ip_local_port_range}), which port 0 never yields,
from a block of its own per xdist worker (C{PYTEST_XDIST_WORKER} = C{gwN}),
each checked free by binding it.  C{JABBERD_TEST_PORTS} (default
C{20000-32767}) is the range split among the workers.

L{refusingPort} holds a bound socket that does not listen: connecting to
it is refused (a RST) for as long as the test keeps it, and no other
process can listen there meanwhile.
"""

import os
import random
import socket

DEFAULT_RANGE = "20000-32767"
_given = set()


def workerIndex():
    """This xdist worker's number (C{gw3} is 3), 0 outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def workerCount():
    """How many xdist workers this run has (1 outside xdist)."""
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    return int(count) if count.isdigit() and int(count) > 0 else 1


def _ephemeralLow():
    """The first port of the kernel's ephemeral range (32768 when it cannot be read)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def workerBlock():
    """The (first, last) ports of this worker's share of C{JABBERD_TEST_PORTS}."""
    low, _, high = os.environ.get("JABBERD_TEST_PORTS", DEFAULT_RANGE).partition("-")
    low, high = int(low), min(int(high), _ephemeralLow() - 1)
    size = (high - low + 1) // workerCount()
    if size < 1:
        raise ValueError(f"JABBERD_TEST_PORTS {low}-{high} leaves no port for each worker")
    first = low + workerIndex() * size
    return first, first + size - 1


def _bindable(port, address):
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def freePort(address="127.0.0.1"):
    """
    A port on C{address} nothing is bound to now, outside the ephemeral
    range and in this worker's block, not handed out before by this process.
    """
    first, last = workerBlock()
    size = last - first + 1
    start = random.randrange(size)
    for step in range(size):
        port = first + (start + step) % size
        if port not in _given and _bindable(port, address):
            _given.add(port)
            return port
    raise OSError(f"no free port in {first}-{last} on {address}")


def refusingPort(address="127.0.0.1"):
    """
    A bound socket that never listens, and its port: connections to it are
    refused until the caller closes the socket.
    """
    sock = socket.socket()
    sock.bind((address, 0))
    return sock, sock.getsockname()[1]
