# -*- test-case-name: tests.sm.test_ping -*-
"""
XMPP Ping (XEP-0199): a client pinging its server (section 4.2) gets an
empty result; a ping to an account's bare JID is answered by the server on
the account's behalf (RFC 6121 section 8.5.1), with C{service-unavailable}
when there is no such account.
"""

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.ns import NS_PING
from jabberd.sm.target import UNKNOWN_ACCOUNT, accountExists, iqTarget

__all__ = ["PingHandler"]


class PingHandler(IQHandler):
    """Answer urn:xmpp:ping for the server and its accounts."""

    handlerName = "ping"

    @iqGet(NS_PING)
    def onPing(self, iq):
        """An empty result: the server (and the account) are alive."""
        # Clients ping every minute or so: the server case stays synchronous.
        target = iqTarget(self.host, iq)
        if target.isServer:
            return None
        return accountExists(self.host, target).addCallback(_accountPong)

    def discoFeatures(self, target, node):
        return [] if node else [NS_PING]


def _accountPong(exists):
    if not exists:
        raise StanzaError(UNKNOWN_ACCOUNT)
