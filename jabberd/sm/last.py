# -*- test-case-name: tests.sm.test_last -*-
"""
Last Activity (XEP-0012, jabber:iq:last), answered by the server.

 - To the server (section 5): seconds since the server started (uptime).
 - To an account's bare JID (section 3): 0 while the account has an
   available resource, else seconds since its last logout and the status
   text it left with.  Only the account itself and those allowed to see its
   presence may ask.  XEP-0012 section 3 suggests C{forbidden} for anyone
   else, but that would tell a stranger the account exists, which RFC 6121
   section 8.5.1 answers with C{service-unavailable}: a stranger gets
   C{service-unavailable} whether the account exists or not
   (L{jabberd.sm.target.requireObserver}).

The logout itself (time and status text) is recorded by the presence
handler (L{jabberd.sm.presence}), which sees the unavailable presence and
its C{<status/>}; this module only reads it back.
"""

import time

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.ns import NS_LAST
from jabberd.sm.target import iqTarget, requireObserver

__all__ = ["LastHandler"]


class LastHandler(IQHandler):
    """
    Answer jabber:iq:last.

    @ivar clock: returns the current POSIX time (replaced in tests).
    @ivar startTime: when this handler, and so the server, started.
    """

    handlerName = "last"

    def __init__(self, clock=time.time):
        self.clock = clock
        self.startTime = clock()

    @iqGet(NS_LAST)
    async def onLast(self, iq):
        """Uptime for the server; last logout for an account."""
        target = iqTarget(self.host, iq)
        if target.isServer:
            return _result(self.clock() - self.startTime)
        await requireObserver(self.host, target)
        return await self._accountLast(target)

    async def _accountLast(self, target):
        sessions = self.host.sessionsOf(target.jid.userhost())
        if any(session.available for session in sessions):
            return _result(0)
        last = await self.host.storage.last.get(target.username)
        if last is None:
            raise StanzaError("item-not-found", text="No logout recorded")
        stamp, status = last
        return _result(self.clock() - stamp, status)

    def discoFeatures(self, target, node):
        return [] if node else [NS_LAST]


def _result(seconds, status=None):
    query = domish.Element((NS_LAST, "query"))
    query["seconds"] = str(max(0, int(seconds)))
    if status:
        query.addContent(status)
    return query

