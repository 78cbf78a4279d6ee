# -*- test-case-name: tests.sm.test_version -*-
"""
Software Version (XEP-0092): answers jabber:iq:version queries with this
software's name and version, for the session manager and for every
component (L{jabberd.component.info.ServiceInfoHandler} is one).

On the session manager a query to an account's bare JID gets
C{service-unavailable}: the server answers such iqs on the account's behalf
(RFC 6121 section 8.5.1) and has nothing to say about the software of the
account's clients, which are asked at their full JIDs.  A component answers
for every address on its domain.
"""

import platform

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.ns import NS_VERSION
from jabberd.sm.target import iqTarget

__all__ = ["VersionHandler"]


class VersionHandler(IQHandler):
    """
    Report this software's name and version.

    @ivar software: the software name (C{<name/>}).
    @ivar version: the software version (C{<version/>}).
    @ivar showOS: whether the operating system is disclosed (off by default:
        it helps attackers more than users).
    @ivar serverOnly: whether queries to accounts are refused (the session
        manager's case) rather than answered (a component's).
    """

    handlerName = "version"

    def __init__(self, name, version, showOS=False, serverOnly=True):
        self.software, self.version, self.showOS = name, version, showOS
        self.serverOnly = serverOnly

    @iqGet(NS_VERSION)
    def onVersionRequest(self, iq):
        """Describe this software; the host wraps it in the result."""
        if self.serverOnly and not iqTarget(self.host, iq).isServer:
            raise StanzaError("service-unavailable")
        query = domish.Element((NS_VERSION, "query"))
        query.addElement("name", content=self.software)
        query.addElement("version", content=self.version)
        if self.showOS:
            query.addElement("os", content=platform.system())
        return query

    def discoFeatures(self, target, node):
        return [NS_VERSION] if target.user is None and not node else []
