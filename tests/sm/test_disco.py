"""Tests for L{jabberd.sm.disco}: XEP-0030 for the server and hosted accounts."""

from jabberd.handler import Handler
from jabberd.ns import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.ping import PingHandler
from jabberd.sm.version import VersionHandler
from tests.sm.iqhelpers import (StubRoute, addUser, ask, bind, childrenNamed, errorOf,
                                makeIQ, makeManager, payload, subscribe)


class NodeHandler(Handler):
    """Describes one node of the server, and one item in it."""

    def discoIdentities(self, target, node):
        return [("automation", "command-list", "Commands")] if node == "cmds" else []

    def discoItems(self, target, node):
        if target.user is None and node == "cmds":
            return [("localhost", "cmds/uptime", "Uptime")]
        return []


def features(reply):
    return [f["var"] for f in childrenNamed(payload(reply), "feature")]


def identities(reply):
    return [(i["category"], i["type"], i.getAttribute("name"))
            for i in childrenNamed(payload(reply), "identity")]


def items(reply):
    return [(i["jid"], i.getAttribute("node")) for i in childrenNamed(payload(reply), "item")]


def makeDisco(*others):
    sm = makeManager(DiscoHandler(), *others)
    addUser(sm, "alice", "bob")
    return sm


def test_serverInfoIdentity():
    """disco#info to the server gives the server/im identity named jabberd."""
    reply = ask(makeDisco(), makeIQ("get", NS_DISCO_INFO))
    assert reply["type"] == "result" and reply["from"] == "localhost"
    assert payload(reply).uri == NS_DISCO_INFO
    assert identities(reply) == [("server", "im", "jabberd")]


class AlsoPing(Handler):
    """A second handler advertising the ping feature."""

    def discoFeatures(self, target, node):
        return [NS_PING]


def test_serverInfoIncludesOtherHandlersFeatures():
    """Features of every attached handler appear, with disco's own, once each."""
    sm = makeDisco(VersionHandler("jabberd", "1.0"), PingHandler(), AlsoPing())
    found = features(ask(sm, makeIQ("get", NS_DISCO_INFO)))
    for feature in (NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION, NS_PING):
        assert found.count(feature) == 1


def test_serverInfoWithoutOtherHandlers():
    """With only disco attached, the server advertises the two disco features."""
    assert features(ask(makeDisco(), makeIQ("get", NS_DISCO_INFO))) == [NS_DISCO_INFO,
                                                                          NS_DISCO_ITEMS]


def test_serverInfoUnknownNode():
    """A node nobody describes is item-not-found."""
    reply = ask(makeDisco(), makeIQ("get", NS_DISCO_INFO, node="nope"))
    assert errorOf(reply) == ("item-not-found", "404", "cancel")


def test_serverInfoKnownNodeMirrored():
    """A node a handler describes is answered, with the node attribute mirrored."""
    reply = ask(makeDisco(NodeHandler()), makeIQ("get", NS_DISCO_INFO, node="cmds"))
    assert payload(reply)["node"] == "cmds"
    assert identities(reply) == [("automation", "command-list", "Commands")]
    assert NS_VERSION not in features(reply)


def test_accountInfoForSelf():
    """The account itself gets identity account/registered from its bare JID."""
    reply = ask(makeDisco(), makeIQ("get", NS_DISCO_INFO, to="alice@localhost"))
    assert reply["type"] == "result" and reply["from"] == "alice@localhost"
    assert identities(reply) == [("account", "registered", None)]
    assert NS_DISCO_INFO in features(reply)


def test_accountInfoWithoutTo():
    """An iq without 'to' is for the sender's own account (RFC 6120 10.3.3)."""
    reply = ask(makeDisco(), makeIQ("get", NS_DISCO_INFO, to=None))
    assert identities(reply) == [("account", "registered", None)]


def test_accountInfoForSubscriber():
    """A contact with a 'from' subscription may discover the account."""
    sm = makeDisco()
    subscribe(sm, "bob", "alice@localhost", "from")
    reply = ask(sm, makeIQ("get", NS_DISCO_INFO, to="bob@localhost"))
    assert identities(reply) == [("account", "registered", None)]


def test_accountInfoForStranger():
    """Without a from/both subscription the answer is service-unavailable (XEP-0030 8)."""
    sm = makeDisco()
    subscribe(sm, "bob", "alice@localhost", "to")
    reply = ask(sm, makeIQ("get", NS_DISCO_INFO, to="bob@localhost"))
    assert errorOf(reply) == ("service-unavailable", "503", "cancel")


def test_accountInfoUnknownUser():
    """A bare JID with no account is service-unavailable, like a stranger's."""
    reply = ask(makeDisco(), makeIQ("get", NS_DISCO_INFO, to="nobody@localhost"))
    assert errorOf(reply)[0] == "service-unavailable"


def test_accountInfoFeaturesFromHandlers():
    """Handlers advertising for accounts (ping) show on the account; server-only ones don't."""
    sm = makeDisco(VersionHandler("jabberd", "1.0"), PingHandler())
    found = features(ask(sm, makeIQ("get", NS_DISCO_INFO, to="alice@localhost")))
    assert NS_PING in found and NS_VERSION not in found


def test_serverItemsListComponents():
    """disco#items of the server lists attached components, not local domains."""
    sm = makeDisco()
    sm.router.addRoute("conference.localhost", StubRoute("conference.localhost"))
    reply = ask(sm, makeIQ("get", NS_DISCO_ITEMS))
    assert payload(reply).uri == NS_DISCO_ITEMS
    assert items(reply) == [("conference.localhost", None)]


def test_serverItemsSkipRemoteRoutes():
    """Routes marked remote (s2s) are not items of the server."""
    sm = makeDisco()
    remote = StubRoute("example.org")
    remote.remote = True
    sm.router.addRoute("example.org", remote)
    assert items(ask(sm, makeIQ("get", NS_DISCO_ITEMS))) == []


def test_serverItemsFromHandlers():
    """Items of a node come from the handlers, with the node mirrored."""
    reply = ask(makeDisco(NodeHandler()), makeIQ("get", NS_DISCO_ITEMS, node="cmds"))
    assert payload(reply)["node"] == "cmds"
    assert items(reply) == [("localhost", "cmds/uptime")]


def test_serverItemsUnknownNode():
    """disco#items of an unknown node is item-not-found."""
    reply = ask(makeDisco(), makeIQ("get", NS_DISCO_ITEMS, node="nope"))
    assert errorOf(reply)[0] == "item-not-found"


def test_accountItemsAreAvailableResources():
    """The account itself sees its available resources, not unavailable ones."""
    sm = makeDisco()
    bind(sm, "alice@localhost/res")
    bind(sm, "alice@localhost/idle", available=False)
    reply = ask(sm, makeIQ("get", NS_DISCO_ITEMS, to="alice@localhost"))
    assert items(reply) == [("alice@localhost/res", None)]


def test_accountItemsForStrangerEmpty():
    """A stranger gets an empty list, not the resources (XEP-0030 section 8)."""
    sm = makeDisco()
    bind(sm, "bob@localhost/home")
    reply = ask(sm, makeIQ("get", NS_DISCO_ITEMS, to="bob@localhost"))
    assert reply["type"] == "result" and items(reply) == []


def test_accountItemsUnknownUserEmpty():
    """disco#items of a bare JID with no account is an empty result."""
    reply = ask(makeDisco(), makeIQ("get", NS_DISCO_ITEMS, to="nobody@localhost"))
    assert reply["type"] == "result" and items(reply) == []


def test_malformedTo():
    """An unparsable 'to' is jid-malformed."""
    reply = ask(makeDisco(), makeIQ("get", NS_DISCO_INFO, to="a@b@localhost"))
    assert errorOf(reply)[0] == "jid-malformed"


def test_setIsNotHandled():
    """disco is get-only: a set gets service-unavailable from the host."""
    reply = ask(makeDisco(), makeIQ("set", NS_DISCO_INFO))
    assert errorOf(reply)[0] == "service-unavailable"
