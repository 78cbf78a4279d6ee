"""Tests for L{jabberd.sm.session}: what a bound session writes to its stream."""

from jabberd.handler import Handler, Stage
from tests.sm.helpers import Harness, parse


class Hold(Handler):
    """An onDeliver hook that keeps presence (as client state indication would)."""

    stage = Stage.QUEUE

    def __init__(self):
        self.held = []

    def onDeliver(self, session, stanza):
        if stanza.name != "presence":
            return False
        self.held.append(stanza)
        return True


def test_deliverOffersStanzaToHooks():
    """A stanza an onDeliver hook takes is not written; others are."""
    h = Harness()
    hold = h.sm.addHandler(Hold())
    alice = h.login("alice", "home")
    alice.stream.sent.clear()
    hold.held.clear()
    alice.deliver(parse("<presence from='bob@localhost/x'/>"))
    alice.deliver(parse("<message from='bob@localhost/x'><body>hi</body></message>"))
    assert [s.name for s in alice.stream.sent] == ["message"]
    assert [s.name for s in hold.held] == ["presence"]


def test_writeBypassesHooks():
    """write() sends to the client even when a hook would hold the stanza."""
    h = Harness()
    h.sm.addHandler(Hold())
    alice = h.login("alice", "home")
    alice.stream.sent.clear()
    alice.write(parse("<presence from='bob@localhost/x'/>"))
    assert [s.name for s in alice.stream.sent] == ["presence"]


def test_endedSessionWritesNothing():
    """After the session ended nothing reaches its stream."""
    h = Harness()
    alice = h.login("alice", "home")
    h.sm.unbindSession(alice)
    alice.stream.sent.clear()
    alice.deliver(parse("<message><body>late</body></message>"))
    alice.write(parse("<message><body>late</body></message>"))
    assert alice.stream.sent == []


def test_sessionsWithoutDirectedPresenceShareOneEmptySet():
    """Sessions that sent no directed presence, new or gone unavailable, share one empty set."""
    harness = Harness()
    first = harness.login("alice", "a")
    second = harness.login("alice", "b")
    harness.send(second, "<presence type='unavailable'/>")
    assert not first.directed and first.directed is second.directed
