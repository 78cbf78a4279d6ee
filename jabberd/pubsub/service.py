# -*- test-case-name: tests.pubsub.test_protocol -*-
"""
The PubSub engine (XEP-0060 sections 5-8) over an L{IPubSubStore}: node
creation (with auto-create on publish, section 7.1.4), configuration
(section 8.2), publish with publish-options (sections 7.1 and 7.1.5),
retract (7.2), purge (8.5), delete (8.4), item retrieval (6.5),
subscriptions (6.1, 6.2, 5.6, 8.8) and affiliations (5.7, 8.9).

It knows no stanzas: requests arrive as calls naming the service JID, the
node and the requester's L{Standing}; errors are the stanza errors of
L{jabberd.pubsub.errors}; and what subscribers must hear is told to a
notifier, which decides who hears it (PEP: presence and entity
capabilities; a standalone service: its subscribers).  The notifier has
C{published(service, node, config, items)}, C{retracted(service, node,
config, ids, notify)} (every retraction; C{notify}: whether subscribers are
to hear of it, section 7.2.2.1), C{purged(service, node, config)},
C{deleted(service, node, config, subscriptions)} (each of these four may
answer a Deferred the request waits for before it is answered) and
C{subscribed(service, node, config, subscription)}.

A node whose payloads follow a profile (XEP-0402 bookmarks: one room per
item) may have a publish check (L{NodeService.addPublishCheck}) that
refuses an item before it is stored; a service's checked publishes to one
node are checked and stored one at a time (a check that counts the node's
items sees the writes of the publishes before it).

Node records (the configuration every publish and notification needs) are
kept in memory once read, as this engine is what creates, configures and
deletes nodes: a publish reads nothing before its write.  Another process
changing the same store's nodes (the admin command removing an account)
is not seen until L{NodeService.forgetService} or a restart.
"""

from jabberd.error import StanzaError
from jabberd.keyedlocks import KeyedLocks
from jabberd.pubsub.access import checkAccess
from jabberd.pubsub.config import applyForm, defaultConfig, preconditionsMet
from jabberd.pubsub.errors import (forbidden, nodeNotFound, preconditionNotMet,
                                   pubsubError)
from jabberd.storage.records import NodeExists, NodeNotFound, PubSubItem, randomId

__all__ = ["NodeService", "AFFILIATIONS"]

#: The affiliations an owner may set (section 4.1).
AFFILIATIONS = ("owner", "publisher", "publish-only", "member", "none", "outcast")

#: Node records kept in memory at most (past it the kept ones are dropped
#: and read again as needed): about 1 KB each.
MAX_KEPT_NODES = 20000


class NodeService:
    """
    The engine, one per set of services sharing a store and limits.

    @ivar store: the L{IPubSubStore}.
    @ivar limits: the L{jabberd.pubsub.config.Limits}.
    @ivar notifier: told of publications, retractions, purges, deletions
        and new subscriptions.
    @ivar mayCreate: whether a L{Standing} may create nodes (and so
        auto-create on publish); the creator becomes the node's owner.
        PEP: the account only; a standalone service would let its users.
    @ivar publishChecks: node name -> the check of what is published there.
    """

    def __init__(self, store, limits, notifier, mayCreate=lambda standing: standing.owner):
        self.store, self.limits, self.notifier = store, limits, notifier
        self.mayCreate = mayCreate
        self.publishChecks = {}
        # Creations in one service one at a time: the count of its nodes
        # and the new node's write do not interleave with another's, so
        # pipelined creations cannot pass max_nodes together.
        self._creations = KeyedLocks()
        # (service, node) -> the lock of its checked publishes (addPublishCheck).
        self._checked = KeyedLocks()
        self._records = {}  # (service, node) -> its PubSubNode, as last read or written
        self._forgotten = 0  # records forgotten so far: a read begun before one is not kept

    def addPublishCheck(self, node, check):
        """
        Check every publication to nodes named C{node} (at any service):
        C{check(service, record, itemId, payload)} is awaited before the
        item is stored (C{itemId} None when the publisher gave none,
        C{payload} serialised) and raises a L{StanzaError} to refuse it.
        """
        self.publishChecks[node] = check

    # --- helpers ---

    async def _node(self, service, node):
        record = await self.getNode(service, node)
        if record is None:
            raise nodeNotFound()
        return record

    async def getNode(self, service, node):
        """The record of C{node}, or None: from memory when it was read or written before."""
        key = (service, node)
        record = self._records.get(key)
        if record is None:
            forgotten = self._forgotten
            record = await self.store.getNode(service, node)
            if record is not None and forgotten == self._forgotten:
                self._keep(key, record)
        return record

    def _forget(self, service, node):
        self._forgotten += 1
        self._records.pop((service, node), None)

    def _keep(self, key, record):
        if len(self._records) >= MAX_KEPT_NODES and key not in self._records:
            self._records.clear()
        self._records[key] = record

    def forgetService(self, service):
        """The nodes of C{service} changed elsewhere (removed): read them again."""
        self._forgotten += 1
        for key in [key for key in self._records if key[0] == service]:
            del self._records[key]

    async def _affiliation(self, service, node, standing):
        if standing.owner or not standing.jid:
            return "owner" if standing.owner else "none"
        affiliations = await self.store.getEntityAffiliations(service, standing.jid)
        return affiliations.get(node, "none")

    async def _owned(self, service, node, standing):
        """The node, if C{standing} may act as its owner (section 8: forbidden otherwise)."""
        record = await self._node(service, node)
        if await self._affiliation(service, node, standing) != "owner":
            raise forbidden("only the owner may do this")
        return record

    async def readable(self, service, node, standing):
        """The node's record, if C{standing} may see it (section 6.5.9)."""
        record = await self._node(service, node)
        checkAccess(record.config, standing, await self._affiliation(service, node, standing))
        return record

    # --- nodes (sections 8.1, 8.2, 8.4, 8.5) ---

    async def createNode(self, service, node, standing, values=None):
        """Section 8.1: create C{node} (configured with the form C{values}, 8.1.3)."""
        if not self.mayCreate(standing):
            raise forbidden("only the owner creates nodes here")
        config = applyForm(defaultConfig(), values or {}, self.limits)
        return await self._creations.run(service, self._create, service, node, config,
                                         standing.jid)

    async def _create(self, service, node, config, owner):
        if await self.store.countNodes(service) >= self.limits.maxNodes:
            raise pubsubError("not-allowed", "max-nodes-exceeded")
        try:
            record = await self.store.createNode(service, node, config, owner=owner)
        except NodeExists:
            raise pubsubError("conflict") from None
        self._keep((service, node), record)
        return record

    async def configuration(self, service, node, standing):
        """Section 8.2.1: the node's configuration, for its owner."""
        return (await self._owned(service, node, standing)).config

    async def configure(self, service, node, standing, values):
        """Section 8.2.4: apply the submitted form."""
        record = await self._owned(service, node, standing)
        config = applyForm(record.config, values, self.limits)
        self._forget(service, node)
        try:
            await self.store.configureNode(service, node, config)
        finally:
            self._forget(service, node)  # read again, as stored
        return config

    async def deleteNode(self, service, node, standing):
        """Section 8.4: delete the node; its subscribers hear of it."""
        record = await self._owned(service, node, standing)
        subscriptions = await self.store.getSubscriptions(service, node)
        self._forget(service, node)
        try:
            await self.store.deleteNode(service, node)
        finally:
            self._forget(service, node)
        await _settled(self.notifier.deleted(service, node, record.config, subscriptions))

    async def purge(self, service, node, standing):
        """Section 8.5: delete every item; subscribers hear of it."""
        record = await self._owned(service, node, standing)
        await self.store.purge(service, node)
        await _settled(self.notifier.purged(service, node, record.config))

    # --- items (sections 6.5, 7.1, 7.2) ---

    async def publish(self, service, node, standing, payload, itemId=None, options=None):
        """
        Section 7.1: publish the serialised C{payload} as item C{itemId}
        (one is generated when absent); a missing node is created with
        C{options} as its configuration (7.1.4), an existing one must
        match them (7.1.5).  Returns the item id.
        """
        if len(payload.encode("utf-8")) > self.limits.maxItemSize:
            raise pubsubError("not-acceptable", "payload-too-big")
        record = await self.getNode(service, node)
        if record is None:
            record = await self._autoCreate(service, node, standing, options)
        else:
            if await self._affiliation(service, node, standing) not in ("owner", "publisher"):
                raise forbidden("only the owner publishes here")
            if options and not preconditionsMet(record.config, options, self.limits):
                raise preconditionNotMet()
        item = PubSubItem(xml=payload, id=itemId or randomId(), publisher=standing.jid)
        check = self.publishChecks.get(node)
        if check is None:
            await self._store(service, node, record, item)
        else:
            # The check reads the node (a count against its limit) and the
            # write follows: one service's checked publishes to the node run
            # one at a time, so pipelined ones cannot pass the check together.
            await self._checked.run((service, node), self._checkAndStore, check, service,
                                    node, record, itemId, item)
        # What the notifier does before the publish is answered.
        await _settled(self.notifier.published(service, node, record.config, [item]))
        return item.id

    async def _checkAndStore(self, check, service, node, record, itemId, item):
        await check(service, record, itemId, item.xml)
        await self._store(service, node, record, item)

    async def _store(self, service, node, record, item):
        if record.config.persist_items:
            try:
                await self.store.publish(service, node, item)
            except NodeNotFound:
                self._forget(service, node)  # removed elsewhere
                raise nodeNotFound() from None

    async def _autoCreate(self, service, node, standing, options):
        try:
            return await self.createNode(service, node, standing, options)
        except StanzaError as e:
            if e.condition != "conflict":
                raise
        # Another publish created it meanwhile: it must match the options too.
        record = await self._node(service, node)
        if options and not preconditionsMet(record.config, options, self.limits):
            raise preconditionNotMet()
        return record

    async def items(self, service, node, standing, ids=None, maxItems=None):
        """Section 6.5: the node's items, newest first (by id, or the C{maxItems} newest)."""
        await self.readable(service, node, standing)
        return await self.store.getItems(service, node, ids=ids, maxItems=maxItems)

    async def lastItem(self, service, node):
        """The newest item (section 6.1.7), or None; no access check."""
        return await self.store.lastItem(service, node)

    async def retract(self, service, node, standing, ids, notify=False):
        """
        Section 7.2: delete the items C{ids}; subscribers hear of it when
        C{notify} or the node's C{notify_retract} says so.  An id the node
        does not hold is C{item-not-found} (section 7.2.3.5).
        """
        record = await self._node(service, node)
        if await self._affiliation(service, node, standing) not in ("owner", "publisher"):
            raise forbidden("only the owner retracts here")
        gone = await self.store.retract(service, node, ids)
        if not gone:
            raise pubsubError("item-not-found")
        await _settled(self.notifier.retracted(service, node, record.config, gone,
                                               bool(notify or record.config.notify_retract)))
        return gone

    # --- subscriptions and affiliations (sections 5.6, 5.7, 6.1, 6.2, 8.8, 8.9) ---

    async def subscribe(self, service, node, standing, jid):
        """
        Section 6.1: subscribe C{jid}, whose bare JID must be the
        requester's (6.1.3.1: C{invalid-jid}), if the access model lets it.
        """
        if jid.partition("/")[0] != standing.jid:
            raise pubsubError("bad-request", "invalid-jid")
        record = await self.readable(service, node, standing)
        subscription = await self.store.subscribe(service, node, jid)
        self.notifier.subscribed(service, node, record.config, subscription)
        return subscription

    async def unsubscribe(self, service, node, standing, jid):
        """Section 6.2: remove C{jid}'s subscription (6.2.3: errors)."""
        await self._node(service, node)
        if jid.partition("/")[0] != standing.jid and not standing.owner:
            raise pubsubError("forbidden")
        if not await self.store.unsubscribe(service, node, jid):
            raise pubsubError("unexpected-request", "not-subscribed")

    async def subscriptionsOf(self, service, standing, node=None):
        """Section 5.6: the requester's subscriptions at this service (to one node)."""
        found = await self.store.getSubscriberSubscriptions(standing.jid, service)
        if standing.full and standing.full != standing.jid:
            # Subscriptions of a full JID are keyed by it.
            found += await self.store.getSubscriberSubscriptions(standing.full, service)
        return [s for s in found if node is None or s.node == node]

    async def affiliationsOf(self, service, standing):
        """Section 5.7: the requester's affiliations at this service, by node."""
        if standing.owner:
            return {record.node: "owner" for record in await self.store.listNodes(service)}
        return await self.store.getEntityAffiliations(service, standing.jid)

    async def nodeSubscriptions(self, service, node, standing):
        """Section 8.8.1: the node's subscriptions, for its owner."""
        await self._owned(service, node, standing)
        return await self.store.getSubscriptions(service, node)

    async def nodeAffiliations(self, service, node, standing):
        """Section 8.9.1: the node's affiliations, for its owner."""
        await self._owned(service, node, standing)
        return await self.store.getAffiliations(service, node)

    async def setAffiliations(self, service, node, standing, changes):
        """
        Section 8.9.2: set each (jid, affiliation) of C{changes}; an
        unknown affiliation or the owner's own is C{not-acceptable}
        (8.9.2.4: the owner cannot be demoted here).
        """
        await self._owned(service, node, standing)
        for jid, affiliation in changes:
            if affiliation not in AFFILIATIONS or jid == service:
                raise pubsubError("not-acceptable")
        for jid, affiliation in changes:
            await self.store.setAffiliation(service, node, jid, affiliation)

    async def visibleNodes(self, service, standing):
        """The nodes C{standing} may see (XEP-0163 section 6.2, XEP-0060 section 5.2)."""
        affiliations = {} if standing.owner else await self.affiliationsOf(service, standing)
        visible = []
        for record in await self.store.listNodes(service):
            try:
                checkAccess(record.config, standing, affiliations.get(record.node, "none"))
            except StanzaError:
                continue
            visible.append(record)
        return visible


async def _settled(after):
    """Wait for what a notifier answered: a Deferred (or awaitable), or None for nothing."""
    if after is not None:
        await after
