# -*- test-case-name: tests.components.offline.test_offline_flexible -*-
"""
Flexible Offline Message Retrieval (XEP-0013): a client looks at its
stored messages before (or instead of) getting them all on presence.

The requests are the user's, addressed to their own account, so the
session manager hands them to this component as a delegated namespace
(XEP-0355, L{jabberd.component.delegation}; the disco requests of the offline node
are forwarded the same way by L{jabberd.sm.offline}): what reaches the
methods here is the user's own iq, never one sent to the component.

 - section 2.2: disco#info of node C{http://jabber.org/protocol/offline}:
   the C{automation/message-list} identity and the number of messages in
   a XEP-0128 form (L{countInfo});
 - section 2.3: disco#items of that node: one item per message, its node
   naming it and its name the sender (L{headers});
 - sections 2.4 and 2.5: C{<item action='view|remove' node='...'/>};
 - sections 2.6 and 2.7: C{<fetch/>} and C{<purge/>}.

Viewed and fetched messages are sent to the requesting resource, each
with delay stamps and an C{<offline><item node='...'/></offline>} naming
it, before the iq result; they stay stored until removed.
"""

from twisted.words.xish import domish
from wokkel import data_form

from jabberd.component.delegation import DelegatedIQHandler
from jabberd.error import StanzaError
from jabberd.handler import iqGet, iqSet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_OFFLINE
from components.offline.stanzas import forDelivery, idOfNode, nodeOf, senderOf
from jabberd.stanza import firstChild

__all__ = ["FlexibleHandler", "IDENTITY"]

IDENTITY = ("automation", "message-list")


class FlexibleHandler(DelegatedIQHandler):
    """
    Answer a user's XEP-0013 requests about their own offline messages.

    @ivar spool: the L{components.offline.spool.OfflineSpool}.
    @ivar serverDomains: the local domains, whose users have messages here.
    """

    def __init__(self, spool, serverDomains):
        self.spool = spool
        self.serverDomains = frozenset(d.lower() for d in serverDomains)

    def requester(self, iq):
        """
        The local user asking, as a L{JID} with a resource: only about
        their own account (no C{to}, or their bare JID).

        @raise StanzaError: C{forbidden} otherwise.
        """
        if _delegator(iq) not in self.serverDomains:
            raise StanzaError("forbidden", text="Only the server may delegate XEP-0013")
        sender = parseJID(iq.getAttribute("from") or "")
        to = iq.getAttribute("to")
        if (sender is None or sender.user is None or sender.resource is None
                or sender.host not in self.serverDomains
                or (to and (parseJID(to) is None or parseJID(to).full() != sender.userhost()))):
            raise StanzaError("forbidden", text="Only a user's own messages can be retrieved")
        return sender

    # --- disco of the offline node (sections 2.2 and 2.3) ---

    @iqGet(NS_DISCO_INFO)
    async def countInfo(self, iq):
        """The disco#info answer for the offline node: identity, feature, count."""
        user = self.requester(iq)
        _checkNode(iq, NS_DISCO_INFO)
        count = await self.spool.count(user.user)
        query = _query(NS_DISCO_INFO)
        identity = query.addElement("identity")
        identity["category"], identity["type"] = IDENTITY
        query.addElement("feature")["var"] = NS_OFFLINE
        form = data_form.Form("result", formNamespace=NS_OFFLINE, fields=[
            data_form.Field(var="number_of_messages", value=str(count))])
        query.addChild(form.toElement())
        return query

    @iqGet(NS_DISCO_ITEMS)
    async def headers(self, iq):
        """The disco#items answer for the offline node: one item per message."""
        user = self.requester(iq)
        _checkNode(iq, NS_DISCO_ITEMS)
        query = _query(NS_DISCO_ITEMS)
        for stored in await self.spool.messages(user.user):
            item = query.addElement("item")
            item["jid"], item["node"] = user.userhost(), nodeOf(stored)
            sender = senderOf(stored)
            if sender:
                item["name"] = sender
        return query

    # --- the <offline/> requests (sections 2.4 to 2.7) ---

    @iqGet(NS_OFFLINE)
    def onRetrieve(self, iq):
        """View some messages (C{<item action='view'/>}) or fetch all (C{<fetch/>})."""
        user = self.requester(iq)
        request = firstChild(iq, NS_OFFLINE, "offline")
        if _has(request, "fetch"):
            return self.spool.exclusive(user.user, self._send, user, None)
        return self.spool.exclusive(user.user, self._send, user, _nodes(request, "view"))

    @iqSet(NS_OFFLINE)
    def onRemove(self, iq):
        """Remove some messages (C{<item action='remove'/>}) or all (C{<purge/>})."""
        user = self.requester(iq)
        request = firstChild(iq, NS_OFFLINE, "offline")
        if _has(request, "purge"):
            return self.spool.purge(user.user).addCallback(lambda _: None)
        if _has(request, "fetch"):
            # COMPAT: slixmpp sends <fetch/> in an iq set; section 2.6 says get.
            return self.spool.exclusive(user.user, self._send, user, None)
        return self.spool.exclusive(user.user, self._remove, user, _nodes(request, "remove"))

    async def _selected(self, user, nodes):
        """The stored messages named by C{nodes} (all for None), in order."""
        stored = await self.spool.storage.offline.list(user.user)
        if nodes is None:
            return stored
        byId = {m.id: m for m in stored}
        ids = [idOfNode(node) for node in nodes]
        if any(i not in byId for i in ids):
            raise StanzaError("item-not-found")
        return [byId[i] for i in dict.fromkeys(ids)]

    async def _send(self, user, nodes):
        for stored in await self._selected(user, nodes):
            try:
                self.send(forDelivery(stored, user.full(), node=True))
            except ValueError as e:
                self.log.warn("unreadable offline message {id}: {error}", id=stored.id, error=e)

    async def _remove(self, user, nodes):
        chosen = await self._selected(user, nodes)
        await self.spool.storage.offline.remove(user.user, [m.id for m in chosen])

    def discoFeatures(self, target, node):
        return [] if node else [NS_OFFLINE]


def _delegator(iq):
    """
    The C{from} of the iq that delegated C{iq} (iq > delegation > forwarded
    > iq): it must be the server itself, not merely one of its users.
    """
    outer = iq
    for _level in range(3):
        outer = getattr(outer, "parent", None)
    return (outer.getAttribute("from") or "").lower() if outer is not None else ""


def _checkNode(iq, uri):
    query = firstChild(iq, uri, "query")
    if query.getAttribute("node") != NS_OFFLINE:
        raise StanzaError("item-not-found")


def _query(uri):
    query = domish.Element((uri, "query"))
    query["node"] = NS_OFFLINE
    return query


def _has(request, name):
    return firstChild(request, NS_OFFLINE, name) is not None


def _nodes(request, action):
    """The nodes of the C{<item/>}s with C{action}; bad-request if there are none."""
    nodes = []
    for item in request.elements(NS_OFFLINE, "item"):
        if item.getAttribute("action") != action or not item.getAttribute("node"):
            raise StanzaError("bad-request", text=f"Expected items with action='{action}'")
        nodes.append(item["node"])
    if not nodes:
        raise StanzaError("bad-request", text="Expected <item/>, <fetch/> or <purge/>")
    return nodes
