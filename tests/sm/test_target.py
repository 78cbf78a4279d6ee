"""Tests for L{jabberd.sm.target}: whom a server-handled iq is for."""

import pytest

from jabberd.error import StanzaError
from jabberd.jidutil import JID
from jabberd.ns import NS_PING
from jabberd.sm.ping import PingHandler
from jabberd.sm.target import iqTarget, mayObserve
from tests.sm.iqhelpers import addUser, bind, makeIQ, makeManager, subscribe


def target(to, frm="alice@localhost/res"):
    sm = makeManager()
    return iqTarget(sm, makeIQ("get", NS_PING, to=to, frm=frm))


def run(coroutine):
    """Run a coroutine that never really waits (MemoryStorage is synchronous)."""
    with pytest.raises(StopIteration) as stop:
        coroutine.send(None)
    return stop.value.value


def test_domainIsServer():
    """The domain, with or without a resource, is the server itself."""
    for to in ("localhost", "localhost/admin"):
        t = target(to)
        assert t.isServer and t.username is None and t.jid == JID("localhost")
        assert not t.isSelf


def test_ownBareJID():
    """One's own bare JID is one's account, and isSelf."""
    t = target("alice@localhost")
    assert (t.username, t.jid, t.isSelf) == ("alice", JID("alice@localhost"), True)


def test_noToIsOwnAccount():
    """No 'to' from a local client means that client's account (RFC 6120 10.3.3)."""
    t = target(None)
    assert (t.username, t.isSelf, t.jid.resource) == ("alice", True, None)


def test_othersBareJID():
    """Another user's bare JID is that account, not isSelf."""
    t = target("bob@localhost")
    assert t.username == "bob" and not t.isSelf and t.requester == JID("alice@localhost/res")


def test_malformed():
    """An unparsable 'to' raises jid-malformed."""
    with pytest.raises(StanzaError) as e:
        target("a@b@localhost")
    assert e.value.condition == "jid-malformed"


def test_mayObserve():
    """Self, the server and from/both contacts may observe; others may not."""
    sm = makeManager()
    addUser(sm, "bob")
    subscribe(sm, "bob", "carol@localhost", "from")
    subscribe(sm, "bob", "dave@localhost", "to")
    cases = {"bob@localhost/x": True, "localhost": True, "carol@localhost/r": True,
             "dave@localhost/r": False, "eve@example.org/r": False}
    for frm, expected in cases.items():
        iq = makeIQ("get", NS_PING, to="bob@localhost", frm=frm)
        assert run(mayObserve(sm, iqTarget(sm, iq))) is expected, frm


def test_clientIQWithoutToReachesHandler():
    """An iq a client sends without 'to' is answered for its own account."""
    sm = makeManager(PingHandler())
    addUser(sm, "alice")
    session = bind(sm, "alice@localhost/res")
    iq = makeIQ("get", NS_PING, name="ping", to=None, frm=None)
    sm.outbound(session, iq)
    [reply] = sm.sent
    assert reply["type"] == "result" and reply["to"] == "alice@localhost/res"
    assert not reply.hasAttribute("from")
