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
"""

import gc

__all__ = ["settle"]


def settle():
    """Collect, then freeze what start-up left (once, when the server is built)."""
    gc.collect()
    gc.freeze()
