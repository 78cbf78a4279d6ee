# -*- test-case-name: tests.sm.test_entitytime -*-
"""
Entity Time (XEP-0202, urn:xmpp:time): the server's clock, as UTC
(XEP-0082 DateTime, C{Z}) and the offset of its local time zone.

COMPAT: XEP-0090 (jabber:iq:time), the deprecated form jabberd 1.4-era
clients send, is answered too.

A query to an account's bare JID gets C{service-unavailable}: a user's time
is asked of a client at its full JID, not of the server.
"""

import time

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.ns import NS_TIME, NS_TIME_LEGACY
from jabberd.sm.target import iqTarget

__all__ = ["TimeHandler", "formatOffset"]


def formatOffset(seconds):
    """Format a UTC offset in seconds as XEP-0082 TZD: C{+05:30}, C{-08:00}."""
    sign = "-" if seconds < 0 else "+"
    minutes = abs(int(seconds)) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


class TimeHandler(IQHandler):
    """
    Tell the server's time.

    @ivar clock: returns the current POSIX time (replaced in tests).
    @ivar utcOffset: the local zone's offset from UTC in seconds, or None to
        ask the operating system at each query (it changes with DST).
    """

    handlerName = "time"

    def __init__(self, clock=time.time, utcOffset=None):
        self.clock = clock
        self.utcOffset = utcOffset

    def _now(self, iq):
        if not iqTarget(self.host, iq).isServer:
            raise StanzaError("service-unavailable")
        now = self.clock()
        return now, time.gmtime(now)

    def _offset(self, now):
        if self.utcOffset is not None:
            return self.utcOffset
        return time.localtime(now).tm_gmtoff

    @iqGet(NS_TIME)
    def onTime(self, iq):
        """XEP-0202 section 3: C{<tzo/>} and C{<utc/>}."""
        now, utc = self._now(iq)
        result = domish.Element((NS_TIME, "time"))
        result.addElement("tzo", content=formatOffset(self._offset(now)))
        result.addElement("utc", content=time.strftime("%Y-%m-%dT%H:%M:%SZ", utc))
        return result

    @iqGet(NS_TIME_LEGACY)
    def onLegacyTime(self, iq):
        """XEP-0090 section 3: C{<utc/>} as CCYYMMDDThh:mm:ss, C{<tz/>}, C{<display/>}."""
        now, utc = self._now(iq)
        local = time.gmtime(now + self._offset(now))
        result = domish.Element((NS_TIME_LEGACY, "query"))
        result.addElement("utc", content=time.strftime("%Y%m%dT%H:%M:%S", utc))
        result.addElement("tz", content=self._zoneName(now))
        result.addElement("display", content=time.strftime("%a %b %d %H:%M:%S %Y", local))
        return result

    def _zoneName(self, now):
        if self.utcOffset is not None:
            return "UTC" + formatOffset(self.utcOffset) if self.utcOffset else "UTC"
        return time.strftime("%Z", time.localtime(now))

    def discoFeatures(self, target, node):
        return [NS_TIME, NS_TIME_LEGACY] if target.user is None and not node else []
