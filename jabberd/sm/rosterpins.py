# -*- test-case-name: tests.storage.test_rostercache -*-
"""
Keeps the rosters (and last logouts) of users with a session in memory,
through the session manager's L{jabberd.storage.cached.CachedStorage}
(L{jabberd.storage.rostercache.RosterCache},
L{jabberd.storage.lastcache.LastActivityCache}): a user's first session
pins them, their last one unpins them.

Its hooks run in the cache stage, after every other handler's, so on a
session's end the presence module's unavailable broadcast (RFC 6121
section 4.5.2) still reads the cached roster.
"""

from jabberd.handler import Handler, Stage

__all__ = ["RosterPins"]


class RosterPins(Handler):
    """Pin a user's roster in the session manager's roster cache while they are online."""

    handlerName = "rosterpins"
    stage = Stage.CACHE

    def sessionBound(self, session):
        """The user's roster stays in memory while this session lasts."""
        self.host.storage.pin(session.username)

    def sessionEnded(self, session):
        """Release the roster pinned for this session."""
        self.host.storage.unpin(session.username)
