# -*- test-case-name: tests.storage.test_memory -*-
"""
Storage: small stores behind the interfaces of L{jabberd.storage.interfaces},
one per kind of user data (accounts, roster, offline spool, vCard, private
XML, last activity), held by one L{IStorage} container that also deletes a
user everywhere at once.  Callers name the store they use, as in
C{storage.roster.items(username)}.

Every method returns a Deferred, so the SQL stores (L{jabberd.storage.sql},
SQLite or PostgreSQL, one L{Database} with its worker threads) never block
the reactor; the memory stores (L{jabberd.storage.memory}) answer at once
and serve unit tests.  One shared test mixin per interface
(C{tests.storage.mixin}) runs on memory, SQLite and PostgreSQL.  The
session manager reads rosters through caches that wrap the roster store
(L{jabberd.storage.cached}).

This module holds the values the stores exchange and L{openStorage}.
XML payloads (offline messages, vCards, private XML) are stored as
serialised text; the stores never parse them.
"""

from dataclasses import dataclass, field

__all__ = ["UserExists", "RosterItem", "OfflineMessage", "openStorage"]


class UserExists(Exception):
    """An account with that username exists already."""


@dataclass
class RosterItem:
    """
    One roster entry (RFC 6121 section 2.1.2).

    @ivar jid: the contact's bare JID.
    @ivar subscription: one of none, to, from, both.
    @ivar ask: C{"subscribe"} while an outbound request is pending.
    @ivar approved: pre-approved inbound subscription (section 3.4).
    """

    jid: str
    name: str = ""
    subscription: str = "none"
    ask: str = ""
    approved: bool = False
    groups: list = field(default_factory=list)


@dataclass
class OfflineMessage:
    """A stored message: its id, serialised XML and the UTC time it arrived."""

    id: int
    xml: str
    stamp: float


def openStorage(url, **kwargs):
    """
    Open the storage at C{url}: C{memory:} for the in-memory store, any
    SQLAlchemy URL (C{sqlite:///path}, C{postgresql://...}) for SQL.

    This runs at start-up, before the reactor: creating or migrating the
    schema may block here, and only here.
    """
    if url in ("memory:", "memory://"):
        from jabberd.storage.memory import MemoryStorage

        return MemoryStorage()
    from jabberd.storage.sql import SQLStorage

    return SQLStorage(url, **kwargs)
