# -*- test-case-name: tests.sm.test_version -*-
"""
Software Version (XEP-0092): answers jabber:iq:version queries to the
server with this software's name and version.

A query to an account's bare JID gets C{service-unavailable}: the server
answers such iqs on the account's behalf (RFC 6121 section 8.5.1) and has
nothing to say about the software of the account's clients, which are
asked at their full JIDs.
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

    @ivar showOS: whether the operating system is disclosed (off by default:
        it helps attackers more than users).
    """

    handlerName = "version"

    def __init__(self, name, version, showOS=False):
        self.name, self.version, self.showOS = name, version, showOS

    @iqGet(NS_VERSION)
    def onVersionRequest(self, iq):
        """Describe this software; the host wraps it in the result."""
        if not iqTarget(self.host, iq).isServer:
            raise StanzaError("service-unavailable")
        query = domish.Element((NS_VERSION, "query"))
        query.addElement("name", content=self.name)
        query.addElement("version", content=self.version)
        if self.showOS:
            query.addElement("os", content=platform.system())
        return query

    def discoFeatures(self, target, node):
        return [NS_VERSION] if target.user is None and not node else []
