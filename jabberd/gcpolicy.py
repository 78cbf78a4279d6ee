# -*- test-case-name: tests.test_gcpolicy -*-
"""
How the cyclic garbage collector runs in the server process.

Parsed stanzas are reference cycles (every domish child points at its
parent), so the collector runs all the time, and a full collection walks
every tracked object in the process while the reactor waits.  Most of
those objects are what start-up made (modules, Twisted, SQLAlchemy,
Alembic, the configuration), which live as long as the process and
are never garbage: walking them on every full collection only holds back
the stanzas waiting behind the pause.

So, once the server is built, start-up's objects are collected once and
frozen (C{gc.freeze}): later collections skip them.  Everything made
afterwards (connections, sessions, stanzas) is collected as before, with
CPython's default thresholds.

What start-up freed (Alembic's scripts when a migration ran, the parsed
configuration, import-time temporaries) stays in the C allocator's arenas
and counts as resident memory until it is handed back: on glibc,
C{malloc_trim(0)} returns the free pages at the top and in the middle of
the heap to the kernel (L{trim}).

The same holds while the server runs: a burst of logins (TLS handshakes,
SASL, parsers at full size) leaves freed memory in the heap long after the
connections went idle; C{[server] trim_interval} trims every so many
seconds (L{periodicTrim}), which costs a few milliseconds on a heap of
hundreds of megabytes.
"""

import ctypes
import gc

__all__ = ["settle", "trim", "periodicTrim"]


def _mallocTrim():
    """glibc's C{malloc_trim}, or None on a C library without it (musl, macOS)."""
    try:
        # The symbols the process already has (the C library among them).
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def trim():
    """
    Give the heap's free pages back to the operating system, where the C
    library can; whether anything was released.
    """
    function = _mallocTrim()
    if function is None:
        return False
    return bool(function(0))


def settle():
    """Collect, freeze what start-up left, then trim (once, when the server is built)."""
    gc.collect()
    gc.freeze()
    trim()


def periodicTrim(interval):
    """A service that calls L{trim} every C{interval} seconds, or None (0: never)."""
    if not interval or _mallocTrim() is None:
        return None
    from twisted.application.internet import TimerService

    service = TimerService(interval, trim)
    service.setName("trim")
    return service
