"""Tests for L{jabberd.sm.last}: XEP-0012 Last Activity from the server."""

from jabberd.ns import NS_LAST
from jabberd.sm.last import LastHandler
from tests.sm.iqhelpers import (addUser, ask, bind, errorOf, makeIQ, makeManager, payload,
                                subscribe)


class Clock:
    """A settable clock."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def makeLast():
    clock = Clock()
    sm = makeManager(LastHandler(clock=clock))
    addUser(sm, "alice", "bob")
    return sm, clock


def test_serverUptime():
    """To the server, seconds is the time since the server started."""
    sm, clock = makeLast()
    clock.now += 125.7
    reply = ask(sm, makeIQ("get", NS_LAST))
    query = payload(reply)
    assert reply["type"] == "result" and query.uri == NS_LAST
    assert query["seconds"] == "125" and str(query) == ""


def test_availableAccountIsZero():
    """An account with an available resource was last active 0 seconds ago."""
    sm, clock = makeLast()
    bind(sm, "alice@localhost/res")
    sm.storage.last.set("alice", 10.0, "old")
    query = payload(ask(sm, makeIQ("get", NS_LAST, to="alice@localhost")))
    assert query["seconds"] == "0"


def test_offlineAccountSinceLogout():
    """Seconds since the stored logout, with its status text, for a subscriber."""
    sm, clock = makeLast()
    subscribe(sm, "bob", "alice@localhost", "both")
    sm.storage.last.set("bob", clock.now - 903, "Heading Home")
    query = payload(ask(sm, makeIQ("get", NS_LAST, to="bob@localhost")))
    assert query["seconds"] == "903" and str(query) == "Heading Home"


def test_selfAskingOwnAccount():
    """An account may ask about itself (no 'to' means its own account)."""
    sm, clock = makeLast()
    sm.storage.last.set("alice", clock.now - 60, "")
    query = payload(ask(sm, makeIQ("get", NS_LAST, to=None, frm="alice@localhost/other")))
    assert query["seconds"] == "60"


def test_strangerGetsTheMissingAccountAnswer():
    """Without a from/both subscription the answer is the missing account's, so existence stays hidden."""
    sm, clock = makeLast()
    subscribe(sm, "bob", "alice@localhost", "to")
    sm.storage.last.set("bob", clock.now - 5, "")
    existing = ask(sm, makeIQ("get", NS_LAST, to="bob@localhost"))
    missing = ask(sm, makeIQ("get", NS_LAST, to="nobody@localhost"))
    assert errorOf(existing) == errorOf(missing) == ("service-unavailable", "503", "cancel")


def test_unknownAccount():
    """A bare JID with no account is service-unavailable (RFC 6121 8.5.1)."""
    sm, clock = makeLast()
    reply = ask(sm, makeIQ("get", NS_LAST, to="nobody@localhost"))
    assert errorOf(reply)[0] == "service-unavailable"


def test_noLogoutRecorded():
    """An offline account that never logged out has no last activity: item-not-found."""
    sm, clock = makeLast()
    subscribe(sm, "bob", "alice@localhost", "from")
    reply = ask(sm, makeIQ("get", NS_LAST, to="bob@localhost"))
    assert errorOf(reply)[0] == "item-not-found"
