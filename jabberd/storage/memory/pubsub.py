# -*- test-case-name: tests.storage.test_pubsub -*-
"""
The in-memory PubSub store (XEP-0060; PEP, XEP-0163, on the same
engine): the reference implementation of L{IPubSubStore}, for unit tests
and throw-away servers.  Records are copied in and out so callers cannot
change what is stored.
"""

import dataclasses
import functools
import time

from twisted.internet import defer
from zope.interface import implementer

from jabberd.storage.interfaces import IPubSubStore
from jabberd.storage.records import (NodeExists, NodeNotFound, PubSubNode,
                                     PubSubSubscription, itemsBeyond, randomId)

__all__ = ["MemoryPubSubStore"]


def _copyNode(record):
    return dataclasses.replace(record, config=record.config.copy())


def _copySubscription(subscription):
    return dataclasses.replace(subscription, options=dict(subscription.options))


@dataclasses.dataclass
class _Node:
    """A node's record and its data; C{items} by id, oldest first."""

    record: PubSubNode
    items: dict = dataclasses.field(default_factory=dict)
    affiliations: dict = dataclasses.field(default_factory=dict)
    subscriptions: dict = dataclasses.field(default_factory=dict)

    def trim(self):
        for itemId in list(self.items)[:itemsBeyond(self.record.config.max_items,
                                                    len(self.items))]:
            del self.items[itemId]


def _failing(method):
    """Turn a raised L{NodeNotFound} or L{NodeExists} into a failed Deferred."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return defer.succeed(method(*args, **kwargs))
        except (NodeNotFound, NodeExists) as e:
            return defer.fail(e)
    return wrapper


@implementer(IPubSubStore)
class MemoryPubSubStore:
    """
    C{services} maps a service JID to its nodes, by node name in creation
    order.
    """

    def __init__(self):
        self.services = {}

    def _node(self, service, node):
        try:
            return self.services[service][node]
        except KeyError:
            raise NodeNotFound(node) from None

    # nodes

    @_failing
    def createNode(self, service, node, config, owner=None):
        nodes = self.services.setdefault(service, {})
        if node in nodes:
            raise NodeExists(node)
        nodes[node] = _Node(PubSubNode(service, node, config.copy(), time.time()))
        if owner is not None:
            nodes[node].affiliations[owner] = "owner"
        return _copyNode(nodes[node].record)

    def getNode(self, service, node):
        found = self.services.get(service, {}).get(node)
        return defer.succeed(None if found is None else _copyNode(found.record))

    def listNodes(self, service):
        return defer.succeed([_copyNode(n.record)
                              for n in self.services.get(service, {}).values()])

    def servicesWithNodes(self):
        return defer.succeed({service for service, nodes in self.services.items() if nodes})

    def countNodes(self, service):
        return defer.succeed(len(self.services.get(service, {})))

    @_failing
    def configureNode(self, service, node, config):
        found = self._node(service, node)
        found.record.config = config.copy()
        found.trim()

    @_failing
    def deleteNode(self, service, node):
        self._node(service, node)
        del self.services[service][node]
        if not self.services[service]:
            del self.services[service]

    def removeService(self, service):
        self.services.pop(service, None)
        return defer.succeed(None)

    # items

    @_failing
    def publish(self, service, node, item):
        found = self._node(service, node)
        item = dataclasses.replace(item, id=item.id or randomId(),
                                   stamp=time.time() if item.stamp is None else item.stamp)
        # A replaced item becomes the newest.
        found.items.pop(item.id, None)
        found.items[item.id] = item
        found.trim()
        return item.id

    @_failing
    def getItems(self, service, node, ids=None, maxItems=None):
        items = list(reversed(self._node(service, node).items.values()))
        if ids is not None:
            wanted = set(ids)
            items = [i for i in items if i.id in wanted]
        if maxItems is not None:
            items = items[:maxItems]
        return [dataclasses.replace(i) for i in items]

    @_failing
    def lastItem(self, service, node):
        items = self._node(service, node).items
        return dataclasses.replace(items[next(reversed(items))]) if items else None

    @_failing
    def retract(self, service, node, ids):
        items = self._node(service, node).items
        return [i for i in dict.fromkeys(ids) if items.pop(i, None) is not None]

    @_failing
    def purge(self, service, node):
        found = self._node(service, node)
        count = len(found.items)
        found.items.clear()
        return count

    # affiliations

    @_failing
    def setAffiliation(self, service, node, jid, affiliation):
        affiliations = self._node(service, node).affiliations
        if affiliation == "none":
            affiliations.pop(jid, None)
        else:
            affiliations[jid] = affiliation

    @_failing
    def getAffiliations(self, service, node):
        return dict(sorted(self._node(service, node).affiliations.items()))

    def getEntityAffiliations(self, service, jid):
        return defer.succeed({name: n.affiliations[jid]
                              for name, n in self.services.get(service, {}).items()
                              if jid in n.affiliations})

    # subscriptions

    @_failing
    def subscribe(self, service, node, jid, state="subscribed", options=None):
        subscriptions = self._node(service, node).subscriptions
        old = subscriptions.get(jid)
        subscriptions[jid] = PubSubSubscription(
            service, node, jid, state, old.subid if old else randomId(), dict(options or {}))
        return _copySubscription(subscriptions[jid])

    @_failing
    def unsubscribe(self, service, node, jid):
        return self._node(service, node).subscriptions.pop(jid, None) is not None

    @_failing
    def getSubscriptions(self, service, node):
        subscriptions = self._node(service, node).subscriptions
        return [_copySubscription(subscriptions[jid]) for jid in sorted(subscriptions)]

    def getSubscriberSubscriptions(self, jid, service=None):
        services = [service] if service is not None else sorted(self.services)
        return defer.succeed([
            _copySubscription(n.subscriptions[jid])
            for name in services for n in self.services.get(name, {}).values()
            if jid in n.subscriptions])
