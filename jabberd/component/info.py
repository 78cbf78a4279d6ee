# -*- test-case-name: tests.components.test_echo -*-
"""
What every component answers about itself: Service Discovery (XEP-0030
sections 3 and 4) and Software Version (XEP-0092).

Discovery asks each handler attached to the host (L{Handler.discoIdentities},
L{Handler.discoFeatures}, L{Handler.discoItems} and the optional
C{discoExtensions}, XEP-0128 forms), so a component's handlers advertise
themselves and nothing is listed twice.
"""

from twisted.words.xish import domish

import jabberd
from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION

__all__ = ["ServiceInfoHandler"]


class ServiceInfoHandler(IQHandler):
    """
    Answer disco#info, disco#items and version for a component host.

    @ivar name: the service's human-readable name (its disco identity).
    @ivar category: disco identity category and type (XEP-0030 registry).
    """

    def __init__(self, name=None, category=("component", "generic"),
                 software="jabberd", version=jabberd.__version__):
        self.name = name
        self.category = category
        self.software = software
        self.version = version

    @iqGet(NS_DISCO_INFO)
    def onDiscoInfo(self, iq):
        """List the identities and features of all attached handlers."""
        target, node = _target(iq, NS_DISCO_INFO)
        identities = self._collect("discoIdentities", target, node)
        features = self._collect("discoFeatures", target, node)
        if node and not identities and not features:
            raise StanzaError("item-not-found")
        query = domish.Element((NS_DISCO_INFO, "query"))
        if node:
            query["node"] = node
        for category, kind, name in identities:
            identity = query.addElement("identity")
            identity["category"], identity["type"] = category, kind
            if name:
                identity["name"] = name
        for feature in dict.fromkeys(features):
            query.addElement("feature")["var"] = feature
        for form in self._collect("discoExtensions", target, node):
            query.addChild(form)
        return query

    @iqGet(NS_DISCO_ITEMS)
    def onDiscoItems(self, iq):
        """List the items all attached handlers offer."""
        target, node = _target(iq, NS_DISCO_ITEMS)
        query = domish.Element((NS_DISCO_ITEMS, "query"))
        if node:
            query["node"] = node
        for jid, itemNode, name in self._collect("discoItems", target, node):
            item = query.addElement("item")
            item["jid"] = jid
            if itemNode:
                item["node"] = itemNode
            if name:
                item["name"] = name
        return query

    @iqGet(NS_VERSION)
    def onVersion(self, iq):
        """Name and version of the software (the OS is not disclosed)."""
        query = domish.Element((NS_VERSION, "query"))
        query.addElement("name", content=self.software)
        query.addElement("version", content=self.version)
        return query

    def discoIdentities(self, target, node):
        # Without a name, another handler (e.g. upload's store/file) is the identity.
        return [] if node or self.name is None else [(*self.category, self.name)]

    def discoFeatures(self, target, node):
        return [] if node else [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION]

    def _collect(self, hook, target, node):
        found = []
        for handler in self.host.handlers:
            method = getattr(handler, hook, None)
            if method is not None:
                found.extend(method(target, node))
        return found


def _target(iq, uri):
    """The addressed JID and the requested node of a disco query."""
    query = next(iq.elements(uri, "query"))
    return parseJID(iq.getAttribute("to") or ""), query.getAttribute("node") or ""
