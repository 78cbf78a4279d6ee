"""Tests for L{jabberd.sm.ping}: XEP-0199 pings to the server and to accounts."""

from twisted.internet import defer

from jabberd.ns import NS_PING
from jabberd.sm.ping import PingHandler
from tests.sm.iqhelpers import addUser, ask, errorOf, makeIQ, makeManager, subscribe


def makePing():
    sm = makeManager(PingHandler())
    addUser(sm, "bob")
    return sm


def test_serverPing():
    """A ping to the server gets an empty result from the server."""
    reply = ask(makePing(), makeIQ("get", NS_PING, name="ping"))
    assert reply["type"] == "result" and reply["id"] == "iq1"
    assert reply["from"] == "localhost" and reply["to"] == "alice@localhost/res"
    assert list(reply.elements()) == []


def test_accountPing():
    """A ping to the bare JID of an account that shares its presence is answered on its behalf."""
    sm = makePing()
    subscribe(sm, "bob", "alice@localhost", "from")
    reply = ask(sm, makeIQ("get", NS_PING, name="ping", to="bob@localhost"))
    assert reply["type"] == "result" and reply["from"] == "bob@localhost"


def test_strangerPingSameAsMissingAccount():
    """A stranger's ping of an existing account gets the missing account's service-unavailable."""
    sm = makePing()
    existing = ask(sm, makeIQ("get", NS_PING, name="ping", to="bob@localhost"))
    missing = ask(sm, makeIQ("get", NS_PING, name="ping", to="nobody@localhost"))
    assert errorOf(existing) == errorOf(missing) == ("service-unavailable", "503", "cancel")


def test_unknownAccountPing():
    """A ping to a bare JID with no account is service-unavailable."""
    reply = ask(makePing(), makeIQ("get", NS_PING, name="ping", to="nobody@localhost"))
    assert errorOf(reply) == ("service-unavailable", "503", "cancel")


def test_pingSetUnhandled():
    """Ping is a get: a set is service-unavailable."""
    reply = ask(makePing(), makeIQ("set", NS_PING, name="ping"))
    assert errorOf(reply)[0] == "service-unavailable"


def test_selfPingAnsweredAtOnce():
    """A client's ping of its own account is answered at once, without waiting on storage."""
    sm = makePing()
    sm.storage.accounts.exists = lambda username: defer.Deferred()  # never answers
    reply = ask(sm, makeIQ("get", NS_PING, name="ping", to="alice@localhost"))
    assert reply["type"] == "result" and reply["from"] == "alice@localhost"
