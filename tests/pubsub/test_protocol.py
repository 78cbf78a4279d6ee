"""
Tests for L{jabberd.pubsub.protocol}, L{jabberd.pubsub.service} and
L{jabberd.pubsub.events}: XEP-0060 requests on the engine over the memory
store, with a notifier that records what subscribers would hear.
"""

import pytest

from jabberd.error import StanzaError
from jabberd.ns import NS_PUBSUB, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER
from jabberd.pubsub.access import Standing
from jabberd.pubsub.config import Limits
from jabberd.pubsub.events import eventMessage, itemsEvent
from jabberd.pubsub.protocol import PubSubProtocol
from jabberd.pubsub.service import NodeService
from jabberd.storage.memory.pubsub import MemoryPubSubStore
from jabberd.storage.records import PubSubItem
from tests.sm.helpers import parse, result

SERVICE = "alice@localhost"
OWNER = Standing(SERVICE, owner=True)
CONTACT = Standing("bob@localhost", presence=True)
STRANGER = Standing("carol@remote.example")


class Recorder:
    """A notifier keeping (what, node, detail) of every call."""

    def __init__(self):
        self.calls = []

    def published(self, service, node, config, items):
        self.calls.append(("published", node, [i.id for i in items]))

    def retracted(self, service, node, config, ids, notify):
        if notify:
            self.calls.append(("retracted", node, ids))

    def purged(self, service, node, config):
        self.calls.append(("purged", node, None))

    def deleted(self, service, node, config, subscriptions):
        self.calls.append(("deleted", node, [s.jid for s in subscriptions]))

    def subscribed(self, service, node, config, subscription):
        self.calls.append(("subscribed", node, subscription.jid))


class Service:
    """A protocol over a fresh engine and memory store."""

    def __init__(self, **limits):
        self.store = MemoryPubSubStore()
        self.notifier = Recorder()
        self.engine = NodeService(self.store, Limits(**limits), self.notifier)
        self.protocol = PubSubProtocol(self.engine)

    def request(self, iqType, xml, standing=OWNER, uri=NS_PUBSUB):
        payload = parse(f"<pubsub xmlns='{uri}'>{xml}</pubsub>")
        return result(self.protocol.handle(iqType, SERVICE, standing, payload))

    def refused(self, iqType, xml, standing=OWNER, uri=NS_PUBSUB):
        with pytest.raises(StanzaError) as caught:
            self.request(iqType, xml, standing, uri)
        app = caught.value.appCondition
        return caught.value.condition, (app.name if app is not None else None)

    def publish(self, node, text, itemId=None, standing=OWNER, options=""):
        idAttr = f" id='{itemId}'" if itemId else ""
        answer = self.request("set", f"<publish node='{node}'><item{idAttr}>"
                                     f"<entry xmlns='urn:test'>{text}</entry></item></publish>"
                                     + options, standing)
        return answer.publish.item["id"]

    def itemIds(self, node, extra="", attrs="", standing=OWNER):
        answer = self.request("get", f"<items node='{node}'{attrs}>{extra}</items>", standing)
        return [i["id"] for i in answer.items.elements(NS_PUBSUB, "item")]


def publishOptions(**fields):
    values = "".join(f"<field var='pubsub#{k}'><value>{v}</value></field>"
                     for k, v in fields.items())
    return ("<publish-options><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE' type='hidden'><value>"
            "http://jabber.org/protocol/pubsub#publish-options</value></field>"
            f"{values}</x></publish-options>")


def test_publishAutoCreatesWithGeneratedId():
    """Publishing to a missing node creates it (7.1.4) and generates an item id."""
    service = Service()
    itemId = service.publish("urn:test", "hello")
    assert itemId
    assert service.itemIds("urn:test") == [itemId]
    assert service.notifier.calls == [("published", "urn:test", [itemId])]
    assert result(service.store.getAffiliations(SERVICE, "urn:test")) == {SERVICE: "owner"}


def test_publishOptionsConfigureANewNode():
    """Publish-options become the configuration of an auto-created node (7.1.5)."""
    service = Service()
    service.publish("urn:test", "x", options=publishOptions(access_model="open", max_items="5"))
    node = result(service.store.getNode(SERVICE, "urn:test"))
    assert (node.config.access_model, node.config.max_items) == ("open", 5)


def test_publishOptionsMismatch():
    """Options that differ from an existing node's configuration: conflict, precondition-not-met."""
    service = Service()
    service.publish("urn:test", "x")
    with pytest.raises(StanzaError) as caught:
        service.publish("urn:test", "y", options=publishOptions(access_model="open"))
    assert caught.value.condition == "conflict"
    assert caught.value.appCondition.name == "precondition-not-met"


@pytest.mark.parametrize("xml, expected", [
    ("<publish node='n'/>", ("bad-request", "item-required")),
    ("<publish node='n'><item/></publish>", ("bad-request", "payload-required")),
    ("<publish node='n'><item><a xmlns='x'/><b xmlns='x'/></item></publish>",
     ("bad-request", "invalid-payload")),
    ("<publish><item><a xmlns='x'/></item></publish>", ("bad-request", "nodeid-required")),
    ("<publish node='n'><item><a xmlns='x'>" + "z" * 200 + "</a></item></publish>",
     ("not-acceptable", "payload-too-big")),
])
def test_badPublish(xml, expected):
    """Malformed or oversized publications get the section 7.1.3 errors."""
    assert Service(maxItemSize=100).refused("set", xml) == expected


def test_othersMayNotPublish():
    """A contact publishing to the owner's service, new node or existing, is forbidden."""
    service = Service()
    with pytest.raises(StanzaError) as caught:
        service.publish("urn:new", "x", standing=CONTACT)
    assert caught.value.condition == "forbidden"
    service.publish("urn:test", "x")
    with pytest.raises(StanzaError) as caught:
        service.publish("urn:test", "x", standing=CONTACT)
    assert caught.value.condition == "forbidden"


def test_creationPolicy():
    """A service that lets anyone create makes the creator the node's owner, and only it may purge."""
    service = Service()
    service.engine.mayCreate = lambda standing: bool(standing.jid)
    service.publish("n", "x", standing=STRANGER)
    assert result(service.store.getAffiliations(SERVICE, "n")) == {STRANGER.jid: "owner"}
    service.request("set", "<purge node='n'/>", STRANGER, NS_PUBSUB_OWNER)
    assert service.refused("set", "<purge node='n'/>", CONTACT, NS_PUBSUB_OWNER) \
        == ("forbidden", None)


def test_nodeCountBounded():
    """A node past maxNodes is not-allowed with max-nodes-exceeded."""
    service = Service(maxNodes=2)
    service.publish("n1", "x")
    service.publish("n2", "x")
    assert service.refused("set", "<create node='n3'/>") == ("not-allowed", "max-nodes-exceeded")
    with pytest.raises(StanzaError):
        service.publish("n3", "x")


def test_itemsByIdAndMaxItems():
    """Items newest first, the max_items newest, or those asked by id (6.5.7, 6.5.8)."""
    service = Service()
    for n in range(3):
        service.publish("n", str(n), itemId=f"i{n}",
                        options=publishOptions(max_items="10"))
    assert service.itemIds("n") == ["i2", "i1", "i0"]
    assert service.itemIds("n", attrs=" max_items='2'") == ["i2", "i1"]
    assert service.itemIds("n", extra="<item id='i0'/>") == ["i0"]
    assert service.refused("get", "<items node='n' max_items='none'/>")[0] == "bad-request"
    assert service.refused("get", "<items node='missing'/>") == ("item-not-found", None)


def test_maxItemsTrims():
    """A node keeps only its max_items newest items; lowering it trims."""
    service = Service()
    service.publish("n", "a", itemId="a", options=publishOptions(max_items="2"))
    service.publish("n", "b", itemId="b")
    service.publish("n", "c", itemId="c")
    assert service.itemIds("n") == ["c", "b"]
    form = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
            "http://jabber.org/protocol/pubsub#node_config</value></field>"
            "<field var='pubsub#max_items'><value>1</value></field></x>")
    service.request("set", f"<configure node='n'>{form}</configure>", uri=NS_PUBSUB_OWNER)
    assert service.itemIds("n") == ["c"]


def test_retract():
    """Retract deletes and notifies; an unknown id is item-not-found (7.2.3.5)."""
    service = Service()
    service.publish("n", "a", itemId="a")
    service.request("set", "<retract node='n' notify='true'><item id='a'/></retract>")
    assert service.notifier.calls[-1] == ("retracted", "n", ["a"])
    assert service.refused("set", "<retract node='n'><item id='a'/></retract>") \
        == ("item-not-found", None)
    assert service.refused("set", "<retract node='n'/>") == ("bad-request", "item-required")


def test_purgeAndDelete():
    """Purge empties the node, delete removes it; both notify; only the owner may."""
    service = Service()
    service.publish("n", "a")
    assert service.refused("set", "<purge node='n'/>", CONTACT, NS_PUBSUB_OWNER) \
        == ("forbidden", None)
    service.request("set", "<purge node='n'/>", uri=NS_PUBSUB_OWNER)
    assert service.itemIds("n") == []
    service.request("set", "<subscribe node='n' jid='bob@localhost'/>", CONTACT)
    service.request("set", "<delete node='n'/>", uri=NS_PUBSUB_OWNER)
    assert ("purged", "n", None) in service.notifier.calls
    assert service.notifier.calls[-2:] == [("subscribed", "n", "bob@localhost"),
                                           ("deleted", "n", ["bob@localhost"])]
    assert result(service.store.getNode(SERVICE, "n")) is None


def test_subscribe():
    """Subscribing needs access and the requester's own JID (6.1.3.1); unsubscribing a non-subscriber fails."""
    service = Service()
    service.publish("n", "a")
    answer = service.request("set", "<subscribe node='n' jid='bob@localhost/phone'/>", CONTACT)
    assert answer.subscription["subscription"] == "subscribed"
    assert answer.subscription["subid"]
    assert service.refused("set", "<subscribe node='n' jid='dave@localhost'/>", CONTACT) \
        == ("bad-request", "invalid-jid")
    assert service.refused("set", "<subscribe node='n' jid='carol@remote.example'/>",
                           STRANGER) == ("not-authorized", "presence-subscription-required")
    phone = Standing("bob@localhost", presence=True, full="bob@localhost/phone")
    assert service.request("get", "<subscriptions/>", CONTACT).subscriptions.children == []
    mine = service.request("get", "<subscriptions/>", phone)
    assert [s["jid"] for s in mine.subscriptions.elements(NS_PUBSUB, "subscription")] \
        == ["bob@localhost/phone"]
    service.request("set", "<unsubscribe node='n' jid='bob@localhost/phone'/>", phone)
    assert service.refused("set", "<unsubscribe node='n' jid='bob@localhost/phone'/>",
                           phone) == ("unexpected-request", "not-subscribed")


def test_whitelistMembers():
    """An owner-set member affiliation opens a whitelist node to that JID (8.9.2)."""
    service = Service()
    service.publish("n", "a", options=publishOptions(access_model="whitelist"))
    assert service.refused("get", "<items node='n'/>", CONTACT) == ("not-allowed", "closed-node")
    service.request("set", "<affiliations node='n'><affiliation jid='bob@localhost' "
                           "affiliation='member'/></affiliations>", uri=NS_PUBSUB_OWNER)
    assert len(service.itemIds("n", standing=CONTACT)) == 1
    listed = service.request("get", "<affiliations node='n'/>", uri=NS_PUBSUB_OWNER)
    assert {a["jid"]: a["affiliation"] for a in listed.affiliations.elements()} \
        == {SERVICE: "owner", "bob@localhost": "member"}


def test_createAndConfigure():
    """Create with a configuration (8.1.3); a second create is conflict; instant nodes are refused; a form without FORM_TYPE is bad-request."""
    service = Service()
    fields = "<field var='pubsub#access_model'><value>open</value></field></x>"
    untyped = "<x xmlns='jabber:x:data' type='submit'>" + fields
    assert service.refused("set", f"<create node='n'/><configure>{untyped}</configure>") \
        == ("bad-request", "invalid-options")
    form = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
            "<value>http://jabber.org/protocol/pubsub#node_config</value></field>" + fields)
    service.request("set", f"<create node='n'/><configure>{form}</configure>")
    assert result(service.store.getNode(SERVICE, "n")).config.access_model == "open"
    assert service.refused("set", "<create node='n'/>") == ("conflict", None)
    assert service.refused("set", "<create/>") == ("not-acceptable", "nodeid-required")
    answer = service.request("get", "<configure node='n'/>", uri=NS_PUBSUB_OWNER)
    assert answer.configure.x["type"] == "form"


def test_unsupportedRequest():
    """A request this service does not implement is feature-not-implemented with unsupported."""
    service = Service()
    assert service.refused("get", "<options node='n' jid='alice@localhost'/>") \
        == ("feature-not-implemented", "unsupported")
    assert service.refused("get", "<items node='a'/><items node='b'/>")[0] == "bad-request"


def test_eventMessage():
    """An event notification is a headline from the service, a delay for an old item."""
    item = PubSubItem(xml="<entry xmlns='urn:test'>x</entry>", id="i1", stamp=0.0)
    message = eventMessage(SERVICE, "bob@localhost", itemsEvent("n", [item]), stamp=0.0)
    assert message["type"] == "headline" and message["from"] == SERVICE
    event = next(message.elements(NS_PUBSUB_EVENT, "event"))
    entry = event.items.item.firstChildElement()
    assert (entry.uri, str(entry)) == ("urn:test", "x")
    assert message.delay["stamp"] == "1970-01-01T00:00:00Z"
    bare = eventMessage(SERVICE, "bob@localhost", itemsEvent("n", [item], payloads=False))
    assert next(bare.elements(NS_PUBSUB_EVENT, "event")).items.item.firstChildElement() is None


def test_configurationKeptAndFollowed():
    """A node's record is read once and kept; a configuration change, a deletion and a removal elsewhere (forgetService) are followed."""
    service = Service()
    service.publish("n", "one")
    reads = []
    getNode = service.store.getNode
    service.store.getNode = lambda *args: reads.append(args) or getNode(*args)
    service.publish("n", "two")
    assert reads == []
    form = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
            "<value>http://jabber.org/protocol/pubsub#node_config</value></field>"
            "<field var='pubsub#access_model'><value>open</value></field></x>")
    service.request("set", f"<configure node='n'>{form}</configure>", uri=NS_PUBSUB_OWNER)
    assert service.itemIds("n", standing=STRANGER) == [service.itemIds("n")[0]]
    service.request("set", "<delete node='n'/>", uri=NS_PUBSUB_OWNER)
    assert service.refused("get", "<items node='n'/>") == ("item-not-found", None)
    service.publish("n", "three")  # created again, with the default (presence) access
    assert service.refused("get", "<items node='n'/>", standing=STRANGER)[0] == "not-authorized"
    result(service.store.removeService(SERVICE))
    service.engine.forgetService(SERVICE)
    assert service.refused("get", "<items node='n'/>") == ("item-not-found", None)
