# -*- test-case-name: tests.components.test_echo -*-
"""
What every component answers about itself: Service Discovery (XEP-0030
sections 3 and 4) and Software Version (XEP-0092).

Discovery asks each handler attached to the host (L{Handler.discoIdentities},
L{Handler.discoFeatures}, L{Handler.discoItems} and the optional
C{discoExtensions}, XEP-0128 forms), so a component's handlers advertise
themselves and nothing is listed twice.
"""

import jabberd
from jabberd.disco import (collectExtensions, collectFeatures, collectIdentities,
                           collectItems, infoQuery, itemsQuery)
from jabberd.error import StanzaError
from jabberd.handler import iqGet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION
from jabberd.sm.version import VersionHandler
from jabberd.stanza import firstChild

__all__ = ["ServiceInfoHandler"]


class ServiceInfoHandler(VersionHandler):
    """
    Answer disco#info, disco#items and version (as a L{VersionHandler}
    answering for every address on the component's domain, the operating
    system not disclosed) for a component host.

    @ivar name: the service's human-readable name (its disco identity).
    @ivar category: disco identity category and type (XEP-0030 registry).
    """

    def __init__(self, name=None, category=("component", "generic"),
                 software="jabberd", version=jabberd.__version__):
        VersionHandler.__init__(self, software, version, serverOnly=False)
        self.name = name
        self.category = category

    @iqGet(NS_DISCO_INFO)
    def onDiscoInfo(self, iq):
        """List the identities, features and forms of all attached handlers."""
        target, node = _target(iq, NS_DISCO_INFO)
        identities = collectIdentities(self.host, target, node)
        features = collectFeatures(self.host, target, node)
        if node and not identities and not features:
            raise StanzaError("item-not-found")
        return infoQuery(node, identities, features,
                         collectExtensions(self.host, target, node))

    @iqGet(NS_DISCO_ITEMS)
    def onDiscoItems(self, iq):
        """List the items all attached handlers offer."""
        target, node = _target(iq, NS_DISCO_ITEMS)
        return itemsQuery(node, collectItems(self.host, target, node))

    def discoIdentities(self, target, node):
        # Without a name, another handler (e.g. upload's store/file) is the identity.
        return [] if node or self.name is None else [(*self.category, self.name)]

    def discoFeatures(self, target, node):
        return [] if node else [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION]


def _target(iq, uri):
    """The addressed JID and the requested node of a disco query."""
    query = firstChild(iq, uri, "query")
    return parseJID(iq.getAttribute("to") or ""), query.getAttribute("node") or ""
