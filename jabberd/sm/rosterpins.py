# -*- test-case-name: tests.storage.test_rostercache -*-
"""
Keeps the rosters of users with a session in memory, through
L{jabberd.storage.rostercache.RosterCache}: a user's first session pins
their roster, their last one unpins it.

Its hooks run in the cache stage, after every other handler's, so on a
session's end the presence module's unavailable broadcast (RFC 6121
section 4.5.2) still reads the cached roster.
"""

from jabberd.handler import Handler, Stage

__all__ = ["RosterPins"]


class RosterPins(Handler):
    """Pin a user's roster in the session manager's storage while they are online."""

    handlerName = "rosterpins"
    stage = Stage.CACHE

    def sessionBound(self, session):
        """The user's roster stays in memory while this session lasts."""
        self.host.storage.pin(session.username)

    def sessionEnded(self, session):
        """Release the roster pinned for this session."""
        self.host.storage.unpin(session.username)
