# -*- test-case-name: tests.sm.test_pep -*-
"""
Personal Eventing Protocol (XEP-0163): every account is a PubSub service at
its bare JID, on the XEP-0060 engine of L{jabberd.pubsub}; what is PEP's
own lives here.

 - The service and its owner (section 2.1-2.2): an iq to an account's bare
   JID (or with no C{to}, RFC 6120 section 10.3.3) is for that account's
   service; only the account publishes, creates and configures; nodes are
   created on first publish (section 3, XEP-0060 section 7.1.4).
 - Standing from the roster (section 4 "presence sharing", XEP-0060
   section 4.5): a contact with a subscription of C{from} or C{both}
   passes the C{presence} model, one in an allowed group the C{roster}
   model, anyone the C{open} model (OMEMO device lists and bundles), only
   the owner and whitelisted affiliates the C{whitelist} model (XEP-0223
   private storage).
 - Notifications (section 4.3): from the bare JID, to each available
   resource of the owner and of contacts sharing presence whose entity
   capabilities (XEP-0115) include C{NODE+notify} (filtered notifications,
   XEP-0060 section 9.2), and to explicit XEP-0060 subscribers (a bare JID
   subscription gets one message to the bare JID unless its resources were
   told already, section 4.3.2).  Which resource wants what is asked of
   the C{caps} handler: C{wants(fullJID, feature)}; without one, only
   explicit subscribers are notified.
 - Nothing is sent to an entity the account blocks (section 4.3.3, by
   the C{blocking} handler's C{blocks(username, jid)}, XEP-0191).
 - The last published item (section 4.3.4) goes to a newly available
   resource of the owner or of a contact sharing presence, to a resource
   whose capabilities become known later (the C{capsKnown} hook), once per
   node while that resource stays available, and to a new subscriber
   (XEP-0060 section 6.1.7).
 - Service discovery (section 6): the account advertises C{pubsub/pep} and
   the XEP-0060 features implemented; disco#items lists the nodes the
   requester may see (section 6.2).
 - The account's nodes and its subscriptions elsewhere here go with it.
 - Other handlers see what is published: the C{pepPublishCheck} hooks may
   refuse a client's payload (XEP-0084 and XEP-0292 rules), the
   C{pepPublished} hooks hear of every publication and the publish is
   answered once their work is done (the conversions of XEP-0398 and
   XEP-0292, which publish on the account's behalf with
   L{PEPHandler.publishAs}); the C{pepRetracted} hooks likewise hear of
   every retraction, purge and deletion, notified or not.
 - Every stored change of a node is told to the other handlers
   (C{pepChanged}: XEP-0402 bookmarks keep their older forms in step).

Who hears of a node's items is worked out once and kept (L{PEPHandler.audiences})
until a resource of the owner or of a contact comes or goes, caps become
known, the roster changes (the C{rosterChanged} hook) or a PubSub set
other than a publish or retract is made to the account: a publish then
costs no roster, affiliation, subscription or caps look-up.

Contacts' available resources are learnt from the presence that reaches
the account (RFC 6121 section 4.2.2 broadcasts and probe answers), only for
contacts with a presence subscription, and only while the account has a
session; they are forgotten at unavailable presence and at its last
session's end.
"""

from twisted.internet import defer

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.jidutil import bareOf, parseJID
from jabberd.logs import Logger
from jabberd.ns import NS_PUBSUB, NS_PUBSUB_OWNER
from jabberd.pubsub.access import Standing, mayAccess
from jabberd.pubsub.config import Limits
from jabberd.pubsub.events import (deleteEvent, eventMessage, itemsEvent, purgeEvent,
                                   retractEvent, serializedEvent)
from jabberd.pubsub.protocol import PubSubProtocol
from jabberd.pubsub.service import NodeService
from jabberd.sm.target import UNKNOWN_ACCOUNT, accountExists, iqTarget
from jabberd.sm.userindex import UserIndex
from jabberd.stanza import firstChild, serializeElement
from jabberd.storage.rostercache import rosterInMemory

__all__ = ["PEPHandler", "FEATURES", "PUBLIC_NODE"]

_FROM = ("from", "both")

#: The XEP-0060 features (section 10) PEP implements, advertised on every
#: account (XEP-0163 section 6.1); the caps-dependent ones are added when
#: a C{caps} handler is attached.
FEATURES = [NS_PUBSUB] + [NS_PUBSUB + "#" + f for f in (
    "access-open", "access-presence", "access-roster", "access-whitelist",
    "auto-create", "config-node", "config-node-max", "create-and-configure", "create-nodes", "delete-items",
    "delete-nodes", "item-ids", "last-published", "modify-affiliations", "multi-items",
    "persistent-items", "presence-notifications", "publish", "publish-options",
    "purge-nodes", "retract-items", "retrieve-affiliations", "retrieve-default",
    "retrieve-items", "retrieve-subscriptions", "subscribe")]
#: The configuration of a node the server creates from public data (a
#: vcard-temp vCard, XEP-0054 section 3.3), as XEP-0222 stores public data.
PUBLIC_NODE = {"pubsub#access_model": ["open"], "pubsub#persist_items": ["true"]}

CAPS_FEATURES = [NS_PUBSUB + "#auto-subscribe", NS_PUBSUB + "#filtered-notifications"]


class PEPHandler(IQHandler):
    """
    The PEP service of every local account.

    @ivar engine: the L{NodeService} over the server's PubSub store.
    @ivar contacts: the account's bare JID -> the full JIDs of contacts
        sharing presence that are available, as last heard.
    @ivar sentLast: full JID -> {account bare JID: the nodes whose last
        item that available resource was sent}, whichever trigger sent it
        (presence, caps or subscription: section 4.3.2, once).
    @ivar audiences: account bare JID -> {node: the JIDs its notifications
        go to}, as L{recipients} found them: a publish reads no roster,
        affiliations or subscriptions and asks no caps while nothing they
        depend on changed (see L{invalidate}).
    """

    log = Logger()
    handlerName = "pep"
    requires = ("roster",)

    def __init__(self, limits=None):
        self.limits = limits or Limits()
        self.engine = None
        self.protocol = None
        self.contacts = {}
        self.sentLast = {}
        self.audiences = {}
        # Accounts with nodes (jabberd.sm.userindex): a resource of anyone
        # else coming online costs no read.
        self.withNodes = UserIndex()

    @classmethod
    def fromConfig(cls, config):
        """The handler with the C{[pep]} limits of C{config}."""
        pep = config.pep
        return cls(Limits(maxItemsPerNode=pep.maxItemsPerNode, maxNodes=pep.maxNodes,
                          maxItemSize=pep.maxItemSize))

    def setHost(self, host):
        super().setHost(host)
        self.engine = NodeService(host.storage.pubsub, self.limits, self)
        self.protocol = PubSubProtocol(self.engine, self._checkPublish)
        self.withNodes.load(host.storage.pubsub.servicesWithNodes(), self.log, "PEP nodes")

    @property
    def caps(self):
        """The entity capabilities (XEP-0115) handler, or None: then nobody is notified by caps."""
        return self.host.handler("caps")

    def _run(self, coroutine, what, **kwargs):
        d = defer.ensureDeferred(coroutine)
        d.addErrback(lambda f: self.log.failure(what, f, **kwargs))
        return d

    # --- the requests (XEP-0060 through the protocol adapter) ---

    @iqGet(NS_PUBSUB)
    @iqSet(NS_PUBSUB)
    @iqGet(NS_PUBSUB_OWNER)
    @iqSet(NS_PUBSUB_OWNER)
    async def onRequest(self, iq):
        """A PubSub request to an account's service (section 2.1)."""
        target = iqTarget(self.host, iq)
        if target.isServer:
            # The server itself is no PubSub service (a component would be).
            raise StanzaError("service-unavailable")
        if not await accountExists(self.host, target):
            raise StanzaError(UNKNOWN_ACCOUNT)
        service = target.jid.userhost()
        standing = await self.standing(service, target.requester)
        request = firstChild(iq)
        if iq.getAttribute("type") != "set":
            return await self.protocol.handle("get", service, standing, request)
        if standing.owner:
            self.withNodes.add(service)  # it may create a node (before the write starts)
        if _changesItemsOnly(request):
            return await self.protocol.handle("set", service, standing, request)
        # Subscriptions, affiliations, configuration, deletion: who hears
        # what may change (once stored, and whatever the outcome).
        try:
            return await self.protocol.handle("set", service, standing, request)
        finally:
            self.invalidate(service)

    async def standing(self, service, requester):
        """What C{requester} (a L{JID} or None) is to the account C{service}, from its roster."""
        if requester is None:
            return Standing("")
        bare, full = requester.userhost(), requester.full()
        if bare == service:
            return Standing(bare, owner=True, full=full)
        item = await self.host.storage.roster.item(service.partition("@")[0], bare)
        return _standingOf(bare, item, full)

    async def _roster(self, service):
        """The account's roster as bare JID -> item (one read for many recipients)."""
        items = await self.host.storage.roster.items(service.partition("@")[0])
        return {item.jid: item for item in items}

    def _checkPublish(self, service, node, itemId, payload):
        """The payload rules of other handlers (the C{pepPublishCheck} hooks)."""
        for error in self.host.collect("pepPublishCheck", service, node, itemId, payload):
            raise error

    async def publishAs(self, service, node, payload, itemId, newNode=None):
        """
        Publish the element C{payload} as item C{itemId} of C{node} at the
        account C{service}, on the account's behalf (the server converting
        one protocol's data into another's); notifications go out as for
        the account's own publish.  A node created for it is configured with
        C{newNode} ({field: [values]}); an existing one keeps its
        configuration.  Returns the item id.
        """
        self.withNodes.add(service)
        exists = await self.engine.getNode(service, node) is not None
        return await self.engine.publish(service, node, Standing(service, owner=True),
                                         serializeElement(payload), itemId,
                                         None if exists else newNode)

    # --- notifications: the engine's notifier ---

    def published(self, service, node, config, items):
        """XEP-0060 section 7.1.2.1: tell who may know and wants to."""
        event = itemsEvent(node, items, payloads=config.deliver_payloads)
        self._run(self._broadcast(service, node, config, event), "notifying {node}", node=node)
        self.host.notify("pepChanged", service, node)
        return _settled(self.host.collect("pepPublished", service, node, items))

    def retracted(self, service, node, config, ids, notify):
        """XEP-0060 section 7.2.2.1 (subscribers hear of it when C{notify})."""
        if notify:
            self._run(self._broadcast(service, node, config, retractEvent(node, ids)),
                      "notifying {node}", node=node)
        self.host.notify("pepChanged", service, node)
        return _settled(self.host.collect("pepRetracted", service, node, ids))

    def purged(self, service, node, config):
        """XEP-0060 section 8.5.2."""
        self._run(self._broadcast(service, node, config, purgeEvent(node)),
                  "notifying {node}", node=node)
        self.host.notify("pepChanged", service, node)
        return _settled(self.host.collect("pepRetracted", service, node, None))

    def deleted(self, service, node, config, subscriptions):
        """XEP-0060 section 8.4.2 (the subscriptions were read before the node went)."""
        self._run(self._broadcast(service, node, config, deleteEvent(node), subscriptions),
                  "notifying {node}", node=node)
        self.host.notify("pepChanged", service, node)
        return _settled(self.host.collect("pepRetracted", service, node, None))

    def subscribed(self, service, node, config, subscription):
        """XEP-0060 section 6.1.7: a new subscriber gets the last item."""
        if config.send_last_published_item != "never":
            self._run(self._sendLastToSubscriber(service, node, config, subscription.jid),
                      "sending the last item of {node}", node=node)

    async def _broadcast(self, service, node, config, event, subscriptions=None):
        recipients = await self.recipients(service, node, config, subscriptions)
        text = serializedEvent(event) if len(recipients) > 1 else event
        for to in recipients:
            if not self._blocks(service, to):
                self.send(eventMessage(service, to, text))

    def _blocks(self, service, jid):
        """Section 4.3.3 item 3: nothing goes to an entity the account blocks (XEP-0191)."""
        blocking = self.host.handler("blocking")
        parsed = parseJID(jid)
        return blocking is not None and parsed is not None \
            and blocking.blocks(service.partition("@")[0], parsed)

    def invalidate(self, service=None):
        """
        What decides who hears of the nodes of C{service} (every account
        when None) changed: a contact's or the owner's resource came or
        went, caps became known, the roster, a subscription, an affiliation
        or a configuration changed.  The next notification looks again.
        """
        if service is None:
            self.audiences.clear()
        else:
            self.audiences.pop(service, None)

    async def recipients(self, service, node, config, subscriptions=None):
        """
        The JIDs to notify of C{node} (section 4.3): interested resources
        by caps, then explicit subscribers, each address once.  For the
        node's items (C{subscriptions} None) the answer is kept in
        L{audiences} until L{invalidate}d.
        """
        if subscriptions is not None:
            return await self._lookRecipients(service, node, config, subscriptions)
        known = self.audiences.setdefault(service, {})
        found = known.get(node)
        if found is None:
            found = await self._lookRecipients(service, node, config, None)
            if self.audiences.get(service) is known:  # not invalidated meanwhile
                known[node] = found
        return found

    async def _lookRecipients(self, service, node, config, subscriptions):
        roster = await self._roster(service)
        affiliations = await self._affiliations(service, node, subscriptions is not None)
        found = dict.fromkeys(self._interested(service, node, config, roster, affiliations))
        if subscriptions is None:
            subscriptions = await self.host.storage.pubsub.getSubscriptions(service, node)
        told = {bareOf(jid) for jid in found}
        for subscription in subscriptions:
            jid = subscription.jid
            bare = bareOf(jid)
            if subscription.state != "subscribed" or not mayAccess(
                    config, self._standingIn(service, bare, roster),
                    affiliations.get(bare, "none")):
                continue
            if jid != bare or bare not in told:
                found.setdefault(jid)
        return list(found)

    async def _affiliations(self, service, node, gone):
        if gone:
            return {}
        return await self.host.storage.pubsub.getAffiliations(service, node)

    def _interested(self, service, node, config, roster, affiliations):
        """Available resources of the owner and of presence-sharing contacts wanting C{node}."""
        caps = self.caps
        if caps is None:
            return
        feature = node + "+notify"
        for session in self.host.sessionsOf(service):
            if session.available and caps.wants(session.full, feature):
                yield session.full
        for full in list(self.contacts.get(service, ())):
            bare = bareOf(full)
            if mayAccess(config, self._standingIn(service, bare, roster),
                         affiliations.get(bare, "none")) and caps.wants(full, feature):
                yield full

    def _standingIn(self, service, bare, roster):
        if bare == service:
            return Standing(bare, owner=True)
        return _standingOf(bare, roster.get(bare))

    # --- the last published item (section 4.3.4) ---

    async def _sendLast(self, service, node, config, to):
        if self._blocks(service, to):
            return
        item = await self.engine.lastItem(service, node)
        if item is not None:
            event = itemsEvent(node, [item], payloads=config.deliver_payloads)
            self.send(eventMessage(service, to, event, stamp=item.stamp))

    def _markSent(self, service, full, node):
        """Note that C{full} has (or is about to get) C{node}'s last item; False if it had."""
        sent = self.sentLast.setdefault(full, {}).setdefault(service, set())
        if node in sent:
            return False
        sent.add(node)
        return True

    async def _sendLastToSubscriber(self, service, node, config, jid):
        """
        The last item for a new subscription of C{jid}: a resource that
        got it already for its presence or caps (section 4.3.2) is not
        sent it again, nor is one that gets it so later.
        """
        for to in self._resourcesOf(service, jid):
            if "/" not in to or self._markSent(service, to, node):
                await self._sendLast(service, node, config, to)

    def _resourcesOf(self, service, jid):
        """
        Where a message to C{jid} goes: a full JID itself; a local
        account's available resources of non-negative priority (RFC 6121
        section 8.5.2.1.1); a remote contact's resources as its presence
        told, or its bare JID when none is known.
        """
        if "/" in jid:
            return [jid]
        if self.host.isLocal(jid.rpartition("@")[2]):
            return [session.full for session in self.host.sessionsOf(jid)
                    if session.available and (session.priority or 0) >= 0]
        known = [full for full in self.contacts.get(service, ()) if bareOf(full) == jid]
        return known or [jid]

    async def sendLastItems(self, service, full):
        """
        A resource C{full} of the owner or of a contact became available,
        or its capabilities became known: the last item of each node it may
        see and wants (by caps, or by an explicit subscription) and was
        not sent yet.
        """
        if not self.withNodes.mayHave(service):
            return  # no nodes: nothing to send, and nothing to read
        bare = bareOf(full)
        standing = await self.standing(service, parseJID(full))
        caps = self.caps
        store = self.host.storage.pubsub
        subscribed = {s.node for s in await store.getSubscriberSubscriptions(bare, service)}
        subscribed |= {s.node for s in await store.getSubscriberSubscriptions(full, service)}
        affiliations = {} if standing.owner else \
            await store.getEntityAffiliations(service, bare)
        for record in await store.listNodes(service):
            config = record.config
            if config.send_last_published_item != "on_sub_and_presence":
                continue
            wanted = record.node in subscribed or (
                caps is not None and caps.wants(full, record.node + "+notify"))
            if wanted and mayAccess(config, standing, affiliations.get(record.node, "none")) \
                    and self._markSent(service, full, record.node):
                await self._sendLast(service, record.node, config, full)

    def sessionAvailable(self, session):
        """Section 4.3.3 item 2: the owner's new resource gets the last items."""
        self.invalidate(session.bare)
        self._run(self.sendLastItems(session.bare, session.full),
                  "sending last items to {jid}", jid=session.full)

    def capsKnown(self, jid, features):
        """
        The features of the full JID C{jid} became known or changed: it
        may now want nodes whose last item it was not sent.
        """
        full = jid if isinstance(jid, str) else jid.full()
        bare = bareOf(full)
        owners = [service for service, fulls in self.contacts.items() if full in fulls]
        session = self.host.session(full)
        if session is not None and session.available:
            owners.append(bare)
        for service in owners:
            self.invalidate(service)
        for service in owners:
            self._run(self.sendLastItems(service, full), "sending last items to {jid}", jid=full)

    # --- contacts' presence (section 4: presence sharing) ---

    def onInbound(self, stanza):
        """Learn which resources of contacts are available; never consumes."""
        if stanza.name != "presence":
            return False
        to = parseJID(stanza.getAttribute("to") or "")
        sender = parseJID(stanza.getAttribute("from") or "")
        if to is None or to.user is None or sender is None or sender.resource is None:
            return False
        service, full = to.userhost(), sender.full()
        if sender.userhost() == service or service not in self.host.sessions:
            return False
        presenceType = stanza.getAttribute("type")
        if presenceType is None:
            known = self.contacts.get(service)
            if (known is None or full not in known) \
                    and not self._contactAvailableNow(service, sender.userhost(), full):
                self._run(self._contactAvailable(service, full),
                          "presence of {jid} for PEP", jid=full)
        elif presenceType == "unavailable":
            known = self.contacts.get(service)
            if known is not None and full in known:
                known.discard(full)
                self.invalidate(service)
            self._forgetSent(service, full)
        return False

    def _contactAvailableNow(self, service, bare, full):
        """
        L{_contactAvailable} at once, when memory has the account's roster
        (a pinned account's, L{jabberd.storage.rostercache}): whether it
        was done.  Every available presence a logged-in account receives
        passes here (fifty contacts' broadcasts and probe answers at each
        login), and most need no more than a look at one roster item.
        """
        table = rosterInMemory(self.host.storage.roster, service.partition("@")[0])
        if table is None:
            return False
        item = table.get(bare)
        if item is None or item.subscription not in _FROM:
            return True  # no presence subscription: not followed (section 4)
        self._followContact(service, full)
        return True

    async def _contactAvailable(self, service, full):
        standing = await self.standing(service, parseJID(full))
        if not standing.presence or not self.host.sessionsOf(service):
            return
        self._followContact(service, full)

    def _followContact(self, service, full):
        """A contact's resource C{full} is available to C{service}: follow it, send last items."""
        known = self.contacts.setdefault(service, set())
        if full in known:
            return
        known.add(full)
        self.invalidate(service)
        if self.withNodes.mayHave(service):
            self._run(self.sendLastItems(service, full), "sending last items to {jid}", jid=full)

    def sessionEnded(self, session):
        """
        A local resource is gone: what it was sent is forgotten (at every
        account); the account's last session: its contacts' resources are
        no longer followed.
        """
        self.sentLast.pop(session.full, None)
        self.invalidate(session.bare)
        if session.bare not in self.host.sessions:
            self._forgetContacts(session.bare)

    def _forgetContacts(self, service):
        self.invalidate(service)
        for full in self.contacts.pop(service, ()):
            self._forgetSent(service, full)

    def _forgetSent(self, service, full):
        sent = self.sentLast.get(full)
        if sent is not None:
            sent.pop(service, None)
            if not sent:
                del self.sentLast[full]

    # --- the account goes ---

    def rosterChanged(self, bare, contact):
        """An item of the account's roster changed: standing by roster may have."""
        self.invalidate(bare)

    def userDeleted(self, username):
        """The account's services, in every local domain, and its subscriptions elsewhere."""
        self.invalidate()  # its subscriptions at every other account go too
        for domain in self.host.domains:
            service = f"{username}@{domain}"
            self._forgetContacts(service)
            self._run(self._removeAccount(service), "removing the PEP data of {jid}",
                      jid=service)

    async def _removeAccount(self, service):
        store = self.host.storage.pubsub
        self.engine.forgetService(service)
        try:
            await store.removeService(service)
        finally:
            self.engine.forgetService(service)
        for subscription in await store.getSubscriberSubscriptions(service):
            await store.unsubscribe(subscription.service, subscription.node, subscription.jid)

    # --- service discovery (section 6) ---

    def discoIdentities(self, target, node):
        """Section 6.1: the account is a C{pubsub/pep} service."""
        if node or target.user is None:
            return []
        return [("pubsub", "pep", None)]

    def discoFeatures(self, target, node):
        """Section 6.1: the XEP-0060 features, as implemented."""
        if node or target.user is None:
            return []
        return FEATURES + (CAPS_FEATURES if self.caps is not None else [])

    def discoRequesterItems(self, target, node, requester):
        """Section 6.2: the nodes C{requester} may see, as disco items of the account."""
        if node or target.user is None:
            return []
        return [defer.ensureDeferred(self._visibleNodes(target.userhost(), requester))]

    async def _visibleNodes(self, service, requester):
        standing = await self.standing(service, requester)
        return [(service, record.node, record.config.title or None)
                for record in await self.engine.visibleNodes(service, standing)]


def _changesItemsOnly(request):
    """Whether a PubSub set C{request} publishes or retracts (who hears of the node stays)."""
    if request is None or request.uri != NS_PUBSUB:
        return False
    return all(child.name in ("publish", "retract", "publish-options")
               for child in request.elements())


def _settled(deferreds):
    """A Deferred firing when every one of C{deferreds} has (their failures are theirs to log)."""
    return defer.DeferredList(deferreds, consumeErrors=True) if deferreds else None


def _standingOf(bare, item, full=""):
    """The standing of a non-owner C{bare} from the owner's roster item for it (or None)."""
    if item is None:
        return Standing(bare, full=full)
    return Standing(bare, presence=item.subscription in _FROM,
                    groups=frozenset(item.groups or ()), full=full)
