# -*- test-case-name: tests.storage.test_rostercache -*-
"""
Keeps the rosters of users with a session in memory, through
L{jabberd.storage.rostercache.RosterCache} (the roster store of the
session manager's L{jabberd.storage.cached.CachedStorage}): a user's
first session pins their roster, their last one unpins it.

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
        self.host.storage.roster.pin(session.username)

    def sessionEnded(self, session):
        """Release the roster pinned for this session."""
        self.host.storage.roster.unpin(session.username)
