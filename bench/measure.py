"""
What the load generator measures besides its own counters: percentiles, its
own CPU share (so a saturated generator is visible in every result), and the
server's CPU share and resident memory, summed over its process tree
(ejabberd runs as C{su -> erl -> beam.smp}, jabberd and Prosody as one
process), read from C{/proc}.
"""

import math
import os
import time

__all__ = ["percentile", "CpuMeter", "processTree", "treeRSS", "treeRSSParts", "treeCpuSeconds"]

_TICK = os.sysconf("SC_CLK_TCK")


def percentile(values, fraction):
    """The C{fraction} (0..1) percentile of C{values} by nearest rank, or None."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def _children():
    """pid -> list of child pids, for every process."""
    tree = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: split after it.
        fields = stat[stat.rfind(b")") + 2:].split()
        tree.setdefault(int(fields[1]), []).append(int(name))
    return tree


def processTree(pid):
    """C{pid} and all its descendants."""
    tree = _children()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, ()))
    return found


def treeRSS(pid):
    """Resident memory of C{pid} and its descendants, in bytes."""
    total = 0
    for member in processTree(pid):
        try:
            with open(f"/proc/{member}/statm", "rb") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total


def treeRSSParts(pid):
    """
    Resident memory of C{pid} and its descendants split as the kernel counts
    it (C{/proc/PID/status}): anonymous (heap, what the process made) and
    file-backed (the interpreter's and libraries' mapped code, shared with
    every other process that maps the same files), in KB.
    """
    parts = {"RssAnon": 0, "RssFile": 0, "RssShmem": 0}
    for member in processTree(pid):
        try:
            with open(f"/proc/{member}/status", "rb") as f:
                for line in f:
                    key, _, value = line.decode("ascii", "replace").partition(":")
                    if key in parts:
                        parts[key] += int(value.split()[0])
        except OSError:
            continue
    return {"rss_anon_kb": parts["RssAnon"], "rss_file_kb": parts["RssFile"] + parts["RssShmem"]}


def treeCpuSeconds(pid):
    """User plus system CPU seconds used so far by C{pid} and its descendants."""
    total = 0
    for member in processTree(pid):
        try:
            with open(f"/proc/{member}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / _TICK


class CpuMeter:
    """
    CPU share of this process and of the server over a measured interval:
    1.0 means one full core.  A generator near 1.0 is the bottleneck, and
    the result says so.
    """

    def __init__(self, serverPid=None):
        self.serverPid = serverPid
        self.start()

    def start(self):
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.server0 = treeCpuSeconds(self.serverPid) if self.serverPid else None

    def result(self):
        """A dict with C{gen_cpu} and, if the server is known, C{server_cpu}."""
        wall = max(time.perf_counter() - self.wall0, 1e-9)
        out = {"gen_cpu": round((time.process_time() - self.cpu0) / wall, 3)}
        if self.serverPid:
            out["server_cpu"] = round((treeCpuSeconds(self.serverPid) - self.server0) / wall, 3)
        return out
