"""Tests for L{jabberd.sm.version}: XEP-0092 Software Version of the server."""

import platform

from jabberd.jidutil import JID
from jabberd.ns import NS_VERSION
from jabberd.sm.version import VersionHandler
from tests.sm.iqhelpers import addUser, ask, childrenNamed, errorOf, makeIQ, makeManager, payload


def texts(query, name):
    return [str(c) for c in childrenNamed(query, name)]


def test_serverVersion():
    """The server answers with its name and version and no OS by default."""
    sm = makeManager(VersionHandler("jabberd", "1.2.3"))
    reply = ask(sm, makeIQ("get", NS_VERSION))
    query = payload(reply)
    assert reply["type"] == "result" and query.uri == NS_VERSION
    assert texts(query, "name") == ["jabberd"] and texts(query, "version") == ["1.2.3"]
    assert texts(query, "os") == []


def test_showOS():
    """With showOS the operating system is disclosed."""
    sm = makeManager(VersionHandler("jabberd", "1.2.3", showOS=True))
    assert texts(payload(ask(sm, makeIQ("get", NS_VERSION))), "os") == [platform.system()]


def test_bareJIDIsServiceUnavailable():
    """A version query to an account's bare JID is service-unavailable."""
    sm = makeManager(VersionHandler("jabberd", "1.2.3"))
    addUser(sm, "bob")
    reply = ask(sm, makeIQ("get", NS_VERSION, to="bob@localhost"))
    assert errorOf(reply) == ("service-unavailable", "503", "cancel")


def test_notServerOnlyAnswersEveryAddress():
    """Without serverOnly (a component's case) a query to a bare JID is answered too."""
    sm = makeManager(VersionHandler("jabberd", "1.2.3", serverOnly=False))
    addUser(sm, "bob")
    reply = ask(sm, makeIQ("get", NS_VERSION, to="bob@localhost"))
    assert reply["type"] == "result" and texts(payload(reply), "version") == ["1.2.3"]


def test_discoFeatureOnlyForServer():
    """jabber:iq:version is advertised for the server and no node only."""
    handler = VersionHandler("jabberd", "1.2.3")
    assert handler.discoFeatures(JID("localhost"), "") == [NS_VERSION]
    assert handler.discoFeatures(JID("localhost"), "x") == []
    assert handler.discoFeatures(JID("alice@localhost"), "") == []
