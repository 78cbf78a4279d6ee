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

Large buffers are another matter.  glibc serves an allocation of at least
C{M_MMAP_THRESHOLD} bytes with its own C{mmap} and unmaps it when freed,
but the threshold is dynamic: the first such buffer freed raises it to
that buffer's size (up to 32 MB), and from then on buffers that large
come from the heap and stay resident once freed, until a trim.  A stanza
near C{max_stanza_size} is copied several times on its way (the text read,
the parsed body, the serialised XML, its UTF-8 bytes for the quota and
the database), so a flood of large offline messages left about 30 MB
resident for 10 MB stored on disk; nothing in Python held them.  With
C{[server] mmap_threshold} fixed (L{mapLargeAllocations}, at start-up),
such buffers are unmapped the moment they are freed.
"""

import ctypes
import gc

__all__ = ["settle", "trim", "periodicTrim", "mapLargeAllocations"]


def _mallocTrim():
    """glibc's C{malloc_trim}, or None on a C library without it (musl, macOS)."""
    try:
        # The symbols the process already has (the C library among them).
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


M_MMAP_THRESHOLD = -3
"""glibc's C{mallopt} parameter number for the mmap threshold (malloc.h)."""

def _mallopt():
    """glibc's C{mallopt}, or None on a C library without it."""
    try:
        return ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None


def mapLargeAllocations(threshold):
    """
    Fix the C library's mmap threshold at C{threshold} bytes (0 leaves
    glibc's dynamic threshold), so that freed buffers of that size or more
    go back to the operating system at once; whether it was set.
    """
    function = _mallopt()
    if not threshold or function is None:
        return False
    return bool(function(M_MMAP_THRESHOLD, threshold))


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
    from jabberd.periodic import PeriodicService

    service = PeriodicService(interval, trim)
    service.setName("trim")
    return service
