# -*- test-case-name: tests.test_openfiles -*-
"""
The process's open-files limit (POSIX C{RLIMIT_NOFILE}): every client,
server and component connection holds one descriptor, and the usual soft
limit of 1024 stops a server at about a thousand clients.

At start-up C{[server] max_open_files} raises the soft limit toward that
many, never past the hard limit (which only an administrator raises:
C{ulimit -Hn}, systemd's C{LimitNOFILE}), and never lowers it.
"""

import resource

from jabberd.logs import Logger

__all__ = ["raiseLimit"]

log = Logger()


def raiseLimit(wanted, getrlimit=resource.getrlimit, setrlimit=resource.setrlimit):
    """
    Raise the soft open-files limit to C{wanted} (0: leave it), capped at
    the hard limit; the soft limit in force afterwards.
    """
    soft, hard = getrlimit(resource.RLIMIT_NOFILE)
    if not wanted or (soft != resource.RLIM_INFINITY and soft >= wanted):
        return soft
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target <= soft:
        return soft
    setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < wanted:
        log.warn("open files limited to {limit} by the hard limit ([server] max_open_files "
                 "= {wanted})", limit=target, wanted=wanted)
    return target
