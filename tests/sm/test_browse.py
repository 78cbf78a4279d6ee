"""Tests for L{jabberd.sm.browse}: XEP-0011 Jabber Browsing for legacy clients."""

from jabberd.ns import NS_BROWSE, NS_DISCO_INFO, NS_VERSION
from jabberd.sm.browse import BrowseHandler
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.version import VersionHandler
from tests.sm.iqhelpers import (StubRoute, addUser, ask, bind, childrenNamed, errorOf,
                                makeIQ, makeManager, payload, subscribe)


def makeBrowse():
    sm = makeManager(DiscoHandler(), BrowseHandler(), VersionHandler("jabberd", "1.0"))
    addUser(sm, "alice", "bob")
    return sm


def namespaces(element):
    return [str(ns) for ns in childrenNamed(element, "ns")]


def test_serverIsServiceJabber():
    """Browsing the server gives a service/jabber item for its domain."""
    reply = ask(makeBrowse(), makeIQ("get", NS_BROWSE))
    result = payload(reply)
    assert reply["type"] == "result"
    assert (result.uri, result.name) == (NS_BROWSE, "query")
    assert (result["jid"], result["category"], result["type"]) == \
        ("localhost", "service", "jabber")


def test_serverListsNamespaces():
    """The server's <ns/> children are the features the handlers advertise."""
    found = namespaces(payload(ask(makeBrowse(), makeIQ("get", NS_BROWSE))))
    assert NS_BROWSE in found and NS_VERSION in found and NS_DISCO_INFO in found


def test_serverListsComponents():
    """Attached components are child items of the server."""
    sm = makeBrowse()
    sm.router.addRoute("conference.localhost", StubRoute("conference.localhost"))
    result = payload(ask(sm, makeIQ("get", NS_BROWSE)))
    assert [i["jid"] for i in childrenNamed(result, "item")] == ["conference.localhost"]


def test_itemRequestMirrored():
    """A request using <item xmlns='jabber:iq:browse'/> is answered with <item/>."""
    result = payload(ask(makeBrowse(), makeIQ("get", NS_BROWSE, name="item")))
    assert (result.uri, result.name) == (NS_BROWSE, "item")


def test_selfSeesResources():
    """Browsing one's own bare JID lists the available resources as user/client."""
    sm = makeBrowse()
    bind(sm, "alice@localhost/res")
    result = payload(ask(sm, makeIQ("get", NS_BROWSE, to="alice@localhost")))
    assert (result["jid"], result["category"]) == ("alice@localhost", "user")
    [item] = childrenNamed(result, "item")
    assert (item["jid"], item["category"], item["type"]) == \
        ("alice@localhost/res", "user", "client")


def test_subscriberSeesResources():
    """A contact with a 'both' subscription sees the resources too."""
    sm = makeBrowse()
    subscribe(sm, "bob", "alice@localhost", "both")
    bind(sm, "bob@localhost/home")
    result = payload(ask(sm, makeIQ("get", NS_BROWSE, to="bob@localhost")))
    assert [i["jid"] for i in childrenNamed(result, "item")] == ["bob@localhost/home"]


def test_strangerGetsTheMissingAccountAnswer():
    """Without a subscription browsing an account answers as for a missing one (RFC 6121 8.5.1)."""
    sm = makeBrowse()
    bind(sm, "bob@localhost/home")
    existing = ask(sm, makeIQ("get", NS_BROWSE, to="bob@localhost"))
    missing = ask(sm, makeIQ("get", NS_BROWSE, to="nobody@localhost"))
    assert errorOf(existing) == errorOf(missing) == ("service-unavailable", "503", "cancel")


def test_unknownUser():
    """Browsing a bare JID with no account is service-unavailable (RFC 6121 8.5.1)."""
    reply = ask(makeBrowse(), makeIQ("get", NS_BROWSE, to="nobody@localhost"))
    assert errorOf(reply) == ("service-unavailable", "503", "cancel")
