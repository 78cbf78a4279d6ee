# -*- test-case-name: tests.sm.test_disco -*-
"""
Service Discovery (XEP-0030) shared by every host: what the attached
handlers advertise through the C{discoIdentities}, C{discoFeatures},
C{discoItems} and C{discoExtensions} (XEP-0128 forms) hooks of
L{jabberd.handler.HOOKS}, gathered and deduplicated, and the C{<query/>} answers built from it.  The session
manager (L{jabberd.sm.disco}) and components (L{jabberd.component.info})
differ only in whom they answer for.
"""

from twisted.words.xish import domish

from jabberd.ns import NS_DISCO_INFO, NS_DISCO_ITEMS

__all__ = ["collectIdentities", "collectFeatures", "collectItems", "collectExtensions",
           "infoQuery", "itemsQuery"]


def _unique(values):
    return list(dict.fromkeys(values))


def collectIdentities(host, target, node):
    """Every attached handler's (category, type, name) identities, deduplicated."""
    return _unique(host.collect("discoIdentities", target, node))


def collectFeatures(host, target, node):
    """Every attached handler's features, deduplicated, in attachment order."""
    return _unique(host.collect("discoFeatures", target, node))


def collectItems(host, target, node):
    """Every attached handler's (jid, node, name) items, deduplicated."""
    return _unique(host.collect("discoItems", target, node))


def collectExtensions(host, target, node):
    """The XEP-0128 data forms handlers add to disco#info."""
    return host.collect("discoExtensions", target, node)


def _query(uri, node):
    query = domish.Element((uri, "query"))
    if node:
        # Section 3.2: mirror the node asked about.
        query["node"] = node
    return query


def infoQuery(node, identities, features, extensions=()):
    """The disco#info C{<query/>} for C{node} (section 3.1)."""
    query = _query(NS_DISCO_INFO, node)
    for category, kind, name in identities:
        identity = query.addElement("identity")
        identity["category"], identity["type"] = category, kind
        if name:
            identity["name"] = name
    for feature in features:
        query.addElement("feature")["var"] = feature
    for form in extensions:
        query.addChild(form)
    return query


def itemsQuery(node, items):
    """The disco#items C{<query/>} for C{node} (section 4.1)."""
    query = _query(NS_DISCO_ITEMS, node)
    for jid, itemNode, name in items:
        item = query.addElement("item")
        item["jid"] = jid
        if itemNode:
            item["node"] = itemNode
        if name:
            item["name"] = name
    return query
