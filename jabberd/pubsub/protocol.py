# -*- test-case-name: tests.pubsub.test_protocol -*-
"""
The XML side of Publish-Subscribe (XEP-0060): a C{<pubsub/>} or
C{<pubsub xmlns='...#owner'/>} iq payload becomes one call of the
L{jabberd.pubsub.service.NodeService} engine, and its answer the result
payload.  Every request element is a method marked with its (namespace,
iq type, element name) key, so dispatch is one look-up and an unknown
request is C{feature-not-implemented} with C{<unsupported/>} (section
14.2) rather than a guess.

Requests: items (6.5), subscribe (6.1), unsubscribe (6.2), the entity's
subscriptions (5.6) and affiliations (5.7), publish with publish-options
(7.1, 7.1.5), retract (7.2), create with configure (8.1), and for owners
configure (8.2), default (8.3), delete (8.4), purge (8.5), subscriptions
(8.8.1) and affiliations (8.9).
"""

from twisted.internet import defer
from twisted.words.xish import domish

from jabberd.dispatch import handlerFor, handlesKey
from jabberd.ns import (NS_DATA, NS_PUBSUB, NS_PUBSUB_NODE_CONFIG, NS_PUBSUB_OWNER,
                        NS_PUBSUB_PUBLISH_OPTIONS)
from jabberd.pubsub.config import configForm, defaultConfig, readForm
from jabberd.pubsub.errors import nodeIdRequired, pubsubError, unsupported
from jabberd.pubsub.events import itemElement
from jabberd.stanza import firstChild, serializeElement

__all__ = ["PubSubProtocol", "REQUESTS"]

#: The L{jabberd.dispatch} table of request elements.
REQUESTS = "pubsub requests"

# Elements of a <pubsub/> request that only qualify the one before them.
_QUALIFIERS = ("publish-options", "configure", "options")

# The XEP-0060 features (section 10) a request element stands for, for
# the unsupported-feature error.
_FEATURES = {"options": "subscription-options", "subscriptions": "manage-subscriptions"}


def _children(element):
    return [c for c in element.children if isinstance(c, domish.Element)]


def _node(request):
    node = request.getAttribute("node")
    if not node:
        raise nodeIdRequired()
    return node


def _form(parent, formType):
    """
    The submitted form inside C{parent} (C{<configure/>}, C{<publish-options/>}),
    if any; anything else in it is C{bad-request} + C{invalid-options}.
    """
    if parent is None:
        return None
    form = firstChild(parent, NS_DATA, "x")
    if form is None and _children(parent):
        raise pubsubError("bad-request", "invalid-options", text="a data form is expected")
    if form is None or form.getAttribute("type") == "cancel":
        return None
    return readForm(form, formType)


def _pubsub(uri=NS_PUBSUB):
    return domish.Element((uri, "pubsub"))


class PubSubProtocol:
    """
    Answer the PubSub iq payloads addressed to a service.

    @ivar engine: the L{NodeService}.
    @ivar checkPublish: called with (service, node, item id or None, payload
        element) before an item is published; raises the L{StanzaError}
        refusing it (PEP: the payload rules of XEP-0084, XEP-0292).
    """

    def __init__(self, engine, checkPublish=None):
        self.engine = engine
        self.checkPublish = checkPublish

    def handle(self, iqType, service, standing, payload):
        """
        A Deferred of the result payload (or None) for the C{<pubsub/>}
        C{payload} of an iq of C{iqType} to C{service} from C{standing}.
        """
        elements = _children(payload)
        qualifying = _QUALIFIERS if payload.uri == NS_PUBSUB else ()
        main = [e for e in elements if e.name not in qualifying] or elements[:1]
        if len(main) != 1:
            raise pubsubError("bad-request", text="one pubsub request per iq")
        request = main[0]
        method = handlerFor(self, (payload.uri, iqType, request.name), REQUESTS)
        if method is None:
            raise unsupported(_FEATURES.get(request.name, request.name))
        qualifiers = {e.name: e for e in elements if e.name in qualifying and e is not request}
        return defer.maybeDeferred(method, service, standing, request, qualifiers)

    # --- subscriber and entity requests (sections 5.6, 5.7, 6.1, 6.2, 6.5) ---

    @handlesKey(REQUESTS, (NS_PUBSUB, "get", "items"))
    async def items(self, service, standing, request, qualifiers):
        """Section 6.5: all items, the C{max_items} newest (6.5.7), or those by id (6.5.8)."""
        node = _node(request)
        maxItems = request.getAttribute("max_items")
        if maxItems is not None:
            if not maxItems.isdigit() or int(maxItems) < 1:
                raise pubsubError("bad-request", text="max_items must be a positive number")
            maxItems = int(maxItems)
        ids = [i.getAttribute("id") for i in request.elements(NS_PUBSUB, "item")]
        if any(not i for i in ids):
            raise pubsubError("bad-request", "item-required")
        found = await self.engine.items(service, node, standing, ids=ids or None,
                                        maxItems=maxItems)
        result = _pubsub()
        container = result.addElement("items")
        container["node"] = node
        for item in found:
            container.addChild(itemElement(NS_PUBSUB, item))
        return result

    @handlesKey(REQUESTS, (NS_PUBSUB, "set", "subscribe"))
    async def subscribe(self, service, standing, request, qualifiers):
        """Section 6.1: subscribe; the answer carries the subscription (6.1.2)."""
        node = _node(request)
        jid = request.getAttribute("jid")
        if not jid:
            raise pubsubError("bad-request", "jid-required")
        if "options" in qualifiers and _children(qualifiers["options"]):
            raise unsupported("subscription-options")
        subscription = await self.engine.subscribe(service, node, standing, jid)
        result = _pubsub()
        result.addChild(self._subscription(subscription, withNode=True))
        return result

    @handlesKey(REQUESTS, (NS_PUBSUB, "set", "unsubscribe"))
    async def unsubscribe(self, service, standing, request, qualifiers):
        """Section 6.2: unsubscribe (an empty result, 6.2.2)."""
        node = _node(request)
        jid = request.getAttribute("jid")
        if not jid:
            raise pubsubError("bad-request", "jid-required")
        await self.engine.unsubscribe(service, node, standing, jid)

    @handlesKey(REQUESTS, (NS_PUBSUB, "get", "subscriptions"))
    async def entitySubscriptions(self, service, standing, request, qualifiers):
        """Section 5.6: the requester's subscriptions at this service."""
        found = await self.engine.subscriptionsOf(service, standing,
                                                  request.getAttribute("node"))
        result = _pubsub()
        container = result.addElement("subscriptions")
        for subscription in found:
            container.addChild(self._subscription(subscription, withNode=True))
        return result

    @handlesKey(REQUESTS, (NS_PUBSUB, "get", "affiliations"))
    async def entityAffiliations(self, service, standing, request, qualifiers):
        """Section 5.7: the requester's affiliations at this service."""
        wanted = request.getAttribute("node")
        found = await self.engine.affiliationsOf(service, standing)
        result = _pubsub()
        container = result.addElement("affiliations")
        for node, affiliation in found.items():
            if wanted is None or node == wanted:
                element = container.addElement("affiliation")
                element["node"], element["affiliation"] = node, affiliation
        return result

    def _subscription(self, subscription, withNode, uri=NS_PUBSUB):
        element = domish.Element((uri, "subscription"))
        if withNode:
            element["node"] = subscription.node
        element["jid"] = subscription.jid
        element["subscription"] = subscription.state
        element["subid"] = subscription.subid
        return element

    # --- publisher requests (sections 7.1, 7.2) and creation (8.1) ---

    @handlesKey(REQUESTS, (NS_PUBSUB, "set", "publish"))
    async def publish(self, service, standing, request, qualifiers):
        """Section 7.1: publish one item; the result names its id (7.1.2)."""
        node = _node(request)
        items = list(request.elements(NS_PUBSUB, "item"))
        if not items:
            raise pubsubError("bad-request", "item-required")
        if len(items) > 1:
            raise pubsubError("bad-request", "invalid-payload", text="one item per publish")
        payloads = _children(items[0])
        if not payloads:
            raise pubsubError("bad-request", "payload-required")
        if len(payloads) > 1:
            raise pubsubError("bad-request", "invalid-payload")
        options = _form(qualifiers.get("publish-options"), NS_PUBSUB_PUBLISH_OPTIONS)
        itemId = items[0].getAttribute("id") or None
        if self.checkPublish is not None:
            self.checkPublish(service, node, itemId, payloads[0])
        itemId = await self.engine.publish(service, node, standing,
                                           serializeElement(payloads[0]), itemId, options)
        result = _pubsub()
        published = result.addElement("publish")
        published["node"] = node
        published.addElement("item")["id"] = itemId
        return result

    @handlesKey(REQUESTS, (NS_PUBSUB, "set", "retract"))
    async def retract(self, service, standing, request, qualifiers):
        """Section 7.2: delete items, notifying if asked (7.2.2.1)."""
        node = _node(request)
        ids = [i.getAttribute("id") for i in request.elements(NS_PUBSUB, "item")]
        if not ids or any(not i for i in ids):
            raise pubsubError("bad-request", "item-required")
        notify = request.getAttribute("notify", "false").lower() in ("1", "true")
        await self.engine.retract(service, node, standing, ids, notify)

    @handlesKey(REQUESTS, (NS_PUBSUB, "set", "create"))
    async def create(self, service, standing, request, qualifiers):
        """Section 8.1: create a named node (8.1.2), configured if a form comes along (8.1.3)."""
        node = request.getAttribute("node")
        if not node:
            # No instant nodes (section 8.1.2): PEP nodes are named by namespace.
            raise pubsubError("not-acceptable", "nodeid-required")
        values = _form(qualifiers.get("configure"), NS_PUBSUB_NODE_CONFIG)
        await self.engine.createNode(service, node, standing, values)

    # --- owner requests (sections 8.2-8.9) ---

    @handlesKey(REQUESTS, (NS_PUBSUB_OWNER, "get", "configure"))
    async def configuration(self, service, standing, request, qualifiers):
        """Section 8.2.1: the configuration form."""
        node = _node(request)
        config = await self.engine.configuration(service, node, standing)
        result = _pubsub(NS_PUBSUB_OWNER)
        configure = result.addElement("configure")
        configure["node"] = node
        configure.addChild(configForm(config))
        return result

    @handlesKey(REQUESTS, (NS_PUBSUB_OWNER, "set", "configure"))
    async def configure(self, service, standing, request, qualifiers):
        """Section 8.2.4: submit the form; a cancelled one changes nothing; none is bad-request."""
        node = _node(request)
        if firstChild(request, NS_DATA, "x") is None:
            raise pubsubError("bad-request", text="a data form is expected")
        values = _form(request, NS_PUBSUB_NODE_CONFIG)
        if values is None:
            await self.engine.configuration(service, node, standing)
            return None
        await self.engine.configure(service, node, standing, values)

    @handlesKey(REQUESTS, (NS_PUBSUB_OWNER, "get", "default"))
    def default(self, service, standing, request, qualifiers):
        """Section 8.3: the default configuration of a new node."""
        result = _pubsub(NS_PUBSUB_OWNER)
        result.addElement("default").addChild(configForm(defaultConfig()))
        return result

    @handlesKey(REQUESTS, (NS_PUBSUB_OWNER, "set", "delete"))
    async def delete(self, service, standing, request, qualifiers):
        """Section 8.4: delete the node."""
        await self.engine.deleteNode(service, _node(request), standing)

    @handlesKey(REQUESTS, (NS_PUBSUB_OWNER, "set", "purge"))
    async def purge(self, service, standing, request, qualifiers):
        """Section 8.5: purge the node's items."""
        await self.engine.purge(service, _node(request), standing)

    @handlesKey(REQUESTS, (NS_PUBSUB_OWNER, "get", "subscriptions"))
    async def nodeSubscriptions(self, service, standing, request, qualifiers):
        """Section 8.8.1: the node's subscribers."""
        node = _node(request)
        found = await self.engine.nodeSubscriptions(service, node, standing)
        result = _pubsub(NS_PUBSUB_OWNER)
        container = result.addElement("subscriptions")
        container["node"] = node
        for subscription in found:
            container.addChild(self._subscription(subscription, False, NS_PUBSUB_OWNER))
        return result

    @handlesKey(REQUESTS, (NS_PUBSUB_OWNER, "get", "affiliations"))
    async def nodeAffiliations(self, service, standing, request, qualifiers):
        """Section 8.9.1: the node's affiliations."""
        node = _node(request)
        found = await self.engine.nodeAffiliations(service, node, standing)
        result = _pubsub(NS_PUBSUB_OWNER)
        container = result.addElement("affiliations")
        container["node"] = node
        for jid, affiliation in found.items():
            element = container.addElement("affiliation")
            element["jid"], element["affiliation"] = jid, affiliation
        return result

    @handlesKey(REQUESTS, (NS_PUBSUB_OWNER, "set", "affiliations"))
    async def setAffiliations(self, service, standing, request, qualifiers):
        """Section 8.9.2: change affiliations (whitelist members, for instance)."""
        node = _node(request)
        changes = []
        for element in request.elements(NS_PUBSUB_OWNER, "affiliation"):
            jid, affiliation = element.getAttribute("jid"), element.getAttribute("affiliation")
            if not jid or not affiliation:
                raise pubsubError("bad-request")
            changes.append((jid.partition("/")[0], affiliation))
        await self.engine.setAffiliations(service, node, standing, changes)
