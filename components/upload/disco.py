# -*- test-case-name: tests.components.upload.test_upload_handler -*-
"""
Service Discovery (XEP-0030) for a component's own domain, with XEP-0128
extension forms: the answer is gathered from every handler attached to the
host (C{discoIdentities}, C{discoFeatures}, C{discoItems} and the optional
C{discoExtensions}), so a handler advertises itself and nothing is listed
twice.  Nothing here is specific to uploads; any component may attach it.
"""

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_DISCO_INFO, NS_DISCO_ITEMS

__all__ = ["ComponentDiscoHandler"]


def _gather(host, method, target, node):
    found = []
    for handler in host.handlers:
        collect = getattr(handler, method, None)
        if collect is not None:
            found.extend(collect(target, node))
    return list(dict.fromkeys(found)) if method != "discoExtensions" else found


class ComponentDiscoHandler(IQHandler):
    """Answer disco#info and disco#items addressed to the component."""

    @iqGet(NS_DISCO_INFO)
    def onInfo(self, iq):
        """Identities, features and extension forms of the component (or a node)."""
        target, node = self._target(iq)
        identities = _gather(self.host, "discoIdentities", target, node)
        features = _gather(self.host, "discoFeatures", target, node)
        if not identities and not features:
            raise StanzaError("item-not-found")
        query = _query(NS_DISCO_INFO, node)
        for category, kind, name in identities:
            identity = query.addElement("identity")
            identity["category"], identity["type"] = category, kind
            if name:
                identity["name"] = name
        for feature in features:
            query.addElement("feature")["var"] = feature
        for form in _gather(self.host, "discoExtensions", target, node):
            query.addChild(form)
        return query

    @iqGet(NS_DISCO_ITEMS)
    def onItems(self, iq):
        """The items the handlers list (none, for most components)."""
        target, node = self._target(iq)
        query = _query(NS_DISCO_ITEMS, node)
        for jid, itemNode, name in _gather(self.host, "discoItems", target, node):
            item = query.addElement("item")
            item["jid"] = jid
            if itemNode:
                item["node"] = itemNode
            if name:
                item["name"] = name
        return query

    def _target(self, iq):
        query = next(iq.elements())
        return parseJID(iq.getAttribute("to", self.host.domain)), query.getAttribute("node", "")

    def discoFeatures(self, target, node):
        return [] if node else [NS_DISCO_INFO, NS_DISCO_ITEMS]


def _query(uri, node):
    query = domish.Element((uri, "query"))
    if node:
        query["node"] = node  # XEP-0030 section 3.2: mirror the node
    return query
