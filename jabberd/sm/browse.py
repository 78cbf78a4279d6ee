# -*- test-case-name: tests.sm.test_browse -*-
"""
Jabber Browsing (XEP-0011, jabber:iq:browse), the service list of jabberd
1.4-era clients, kept for them (COMPAT: XEP-0011, superseded by XEP-0030).

The answer is built from the same sources as service discovery (see
L{jabberd.sm.disco}): browsing the server gives a C{service/jabber} item
with an C{<ns/>} per feature the attached handlers advertise and a child item
per attached component; browsing an account gives a C{user} item listing
its available resources to those allowed to see its presence (XEP-0011
section 4.3; XEP-0030 section 8 for who may see them); anyone else gets
C{service-unavailable}, as for an account that does not exist (RFC 6121
section 8.5.1), so browsing tells strangers nothing about which accounts
exist (L{jabberd.sm.target.requireObserver}).

The result element mirrors the request's element name (C{query}, as in the
XEP-0011 examples, or C{item}) and carries the JID-Type as C{category} and
C{type} attributes, the syntax XEP-0011 section 3 prefers.
"""

from twisted.words.xish import domish

from jabberd.handler import IQHandler, iqGet
from jabberd.ns import NS_BROWSE
from jabberd.disco import collectFeatures, collectItems
from jabberd.sm.disco import componentDomains
from jabberd.sm.target import iqTarget, requireObserver
from jabberd.stanza import firstChild

__all__ = ["BrowseHandler"]


class BrowseHandler(IQHandler):
    """
    Answer jabber:iq:browse gets to the server and to hosted accounts.

    @ivar name: the server's natural-language name in the result.
    """

    handlerName = "browse"

    def __init__(self, name="jabberd"):
        self.name = name

    @iqGet(NS_BROWSE)
    async def onBrowse(self, iq):
        """Describe the server or the account the iq is for."""
        target = iqTarget(self.host, iq)
        result = domish.Element((NS_BROWSE, firstChild(iq).name))
        result["jid"] = target.jid.full()
        if target.isServer:
            self._describeServer(result, target)
        else:
            await requireObserver(self.host, target)
            self._describeAccount(result, target)
        return result

    def _describeServer(self, result, target):
        result["category"], result["type"], result["name"] = "service", "jabber", self.name
        self._addNamespaces(result, target)
        for domain in componentDomains(self.host):
            result.addElement("item")["jid"] = domain
        for jid, node, name in collectItems(self.host, target.jid, ""):
            if node is None:
                # Browsing addresses JIDs only; nodes are disco's.
                self._addItem(result, jid, name)

    def _describeAccount(self, result, target):
        result["category"], result["name"] = "user", target.username
        self._addNamespaces(result, target)
        for session in self.host.sessionsOf(target.jid.userhost()):
            if session.available:
                item = self._addItem(result, session.full, None)
                item["category"], item["type"] = "user", "client"

    def _addNamespaces(self, result, target):
        for feature in collectFeatures(self.host, target.jid, ""):
            result.addElement("ns", content=feature)

    def _addItem(self, result, jid, name):
        item = result.addElement("item")
        item["jid"] = jid
        if name:
            item["name"] = name
        return item

    def discoFeatures(self, target, node):
        return [] if node else [NS_BROWSE]
