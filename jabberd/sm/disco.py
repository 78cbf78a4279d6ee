# -*- test-case-name: tests.sm.test_disco -*-
"""
Service Discovery (XEP-0030) for the session manager: disco#info and
disco#items of the server and, on their behalf, of the accounts it hosts.

Nothing is listed here twice: the answer is gathered from every attached
handler's C{discoIdentities}, C{discoFeatures} and C{discoItems} (see
L{jabberd.handler.Handler}), each called with the target L{JID} (the
server's domain, or an account's bare JID) and the node.  The server's
items also list the components attached to the router.

Requests to a bare JID follow XEP-0030 section 8: disco#info is answered
only to the account itself or an entity allowed to see its presence, and
otherwise, or for an account that does not exist, with
C{service-unavailable}; disco#items then gives the available resources, and
to everyone else only what handlers list for that requester
(C{discoRequesterItems}: the PEP nodes open to it, XEP-0163 section 6.2).
"""

from jabberd.disco import (collectFeatures, collectIdentities, collectItems, infoQuery,
                           itemsQuery)
from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.ns import NS_DISCO_INFO, NS_DISCO_ITEMS
from jabberd.sm.target import accountExists, iqTarget, mayObserve, requireObserver
from jabberd.stanza import firstChild

__all__ = ["DiscoHandler", "componentDomains"]


def componentDomains(host):
    """
    The domains the router serves that are neither the host's own nor
    remote (s2s routes mark themselves with C{remote = True}): the
    attached components, sorted.
    """
    router = getattr(host, "router", None)
    if router is None:
        return []
    return sorted(domain for domain, route in router.routes.items()
                  if domain not in host.domains and not getattr(route, "remote", False))


class DiscoHandler(IQHandler):
    """
    Answer disco#info and disco#items for the server and its accounts.

    @ivar name: the server identity's natural-language name.
    """

    handlerName = "disco"

    def __init__(self, name="jabberd"):
        self.name = name

    @iqGet(NS_DISCO_INFO)
    async def onInfo(self, iq):
        """Identities and features of the target, gathered from the handlers."""
        target = iqTarget(self.host, iq)
        node = firstChild(iq).getAttribute("node", "")
        if not target.isServer:
            await requireObserver(self.host, target)
        identities = collectIdentities(self.host, target.jid, node)
        features = collectFeatures(self.host, target.jid, node)
        if not identities and not features:
            raise StanzaError("item-not-found")
        return infoQuery(node, identities, features)

    @iqGet(NS_DISCO_ITEMS)
    async def onItems(self, iq):
        """Items of the target: components, handlers' items, resources."""
        target = iqTarget(self.host, iq)
        node = firstChild(iq).getAttribute("node", "")
        if target.isServer:
            items = self._serverItems(target, node)
        elif not await accountExists(self.host, target):
            # XEP-0030 section 8: an empty list, revealing nothing.
            return itemsQuery(node, [])
        elif await mayObserve(self.host, target):
            items = self._accountItems(target, node) + await self._requesterItems(target, node)
        else:
            # XEP-0030 section 8 for the rest; what is published openly
            # (XEP-0163 section 6.2) is visible to anyone.
            return itemsQuery(node, await self._requesterItems(target, node))
        if node and not items and not self._knownNode(target, node):
            raise StanzaError("item-not-found")
        return itemsQuery(node, items)

    def _serverItems(self, target, node):
        items = collectItems(self.host, target.jid, node)
        if not node:
            items = [(domain, None, None) for domain in componentDomains(self.host)] + items
        return items

    def _accountItems(self, target, node):
        items = collectItems(self.host, target.jid, node)
        if not node:
            sessions = self.host.sessionsOf(target.jid.userhost())
            items = [(s.full, None, None) for s in sessions if s.available] + items
        return items

    async def _requesterItems(self, target, node):
        """The items handlers list for this requester only (C{discoRequesterItems})."""
        items = []
        for d in self.host.collect("discoRequesterItems", target.jid, node, target.requester):
            items.extend(await d)
        return items

    def _knownNode(self, target, node):
        """Whether some handler describes C{node}, so it exists though empty."""
        return bool(collectIdentities(self.host, target.jid, node)
                    or collectFeatures(self.host, target.jid, node))

    # what this handler itself advertises

    def discoIdentities(self, target, node):
        if node:
            return []
        if target.user is None:
            return [("server", "im", self.name)]
        return [("account", "registered", None)]

    def discoFeatures(self, target, node):
        return [] if node else [NS_DISCO_INFO, NS_DISCO_ITEMS]

