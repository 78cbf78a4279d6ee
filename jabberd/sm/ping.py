# -*- test-case-name: tests.sm.test_ping -*-
"""
XMPP Ping (XEP-0199): a client pinging its server (section 4.2) gets an
empty result; a ping to an account's bare JID is answered by the server on
the account's behalf (RFC 6121 section 8.5.2.1.3) to the account itself and
those allowed to see its presence.  Anyone else gets C{service-unavailable},
the answer for an account that does not exist (RFC 6121 section 8.5.1),
whether it exists or not: a ping must not tell strangers which accounts
exist (L{jabberd.sm.target.requireObserver}).
"""

from twisted.internet import defer

from jabberd.handler import IQHandler, iqGet
from jabberd.ns import NS_PING
from jabberd.sm.target import iqTarget, requireObserver

__all__ = ["PingHandler"]


class PingHandler(IQHandler):
    """Answer urn:xmpp:ping for the server and its accounts."""

    handlerName = "ping"

    @iqGet(NS_PING)
    def onPing(self, iq):
        """An empty result: the server (and the account) are alive."""
        # Clients ping every minute or so: the server case stays synchronous.
        # A client's ping of its own account is answered at once as well.
        target = iqTarget(self.host, iq)
        if target.isServer or target.isSelf:
            return None
        return defer.ensureDeferred(requireObserver(self.host, target))

    def discoFeatures(self, target, node):
        return [] if node else [NS_PING]
