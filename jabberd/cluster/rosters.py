# -*- test-case-name: tests.cluster.test_rosters -*-
"""
The roster store of a node's session manager (RFC 6121 section 2): every
node reads and writes the shared database directly.

A single server keeps online users' rosters and the set of users with
pending subscription requests in memory (L{jabberd.storage.rostercache},
L{jabberd.storage.pendingindex}); in a cluster another node may change
either at any time (an inbound subscription is processed by whichever
node routes it), so a copy here could be stale.  This store takes the
cache's pins and answers every read from the database.
"""

from jabberd.storage.rosterwrapper import RosterStoreWrapper

__all__ = ["SharedRoster"]


class SharedRoster(RosterStoreWrapper):
    """The roster store as it is, with the cache's pin calls accepted and ignored."""

    def pin(self, username):
        """Nothing is kept in memory."""

    def unpin(self, username):
        """Nothing is kept in memory."""

    def forget(self, username):
        """Nothing is kept in memory."""
