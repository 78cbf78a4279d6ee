"""Tests for L{jabberd.sm.manager} and L{jabberd.sm.session}: the session table."""

from twisted.words.protocols.jabber.jid import JID

from jabberd.handler import Handler
from jabberd.sm.session import Session
from tests.sm.helpers import DOMAIN, FakeStream, Harness


class Recorder(Handler):
    """Records the session hooks the manager calls."""

    def __init__(self):
        self.events = []

    def sessionBound(self, session):
        self.events.append(("bound", session))

    def sessionEnded(self, session):
        self.events.append(("ended", session))


def newSession(user, resource="res"):
    return Session(FakeStream(), JID(f"{user}@{DOMAIN}/{resource}"))


def test_bindAndLookUp():
    """A bound session is found by its full JID and among its account's sessions."""
    h = Harness()
    session = h.bind("alice", "phone")
    assert h.sm.session("alice@localhost/phone") is session
    assert h.sm.sessionsOf("alice@localhost") == [session]
    assert h.sm.session("alice@localhost/other") is None


def test_bindReplacesConflictingSession():
    """Binding a full JID that is already bound closes the old session with conflict and keeps the new one."""
    h = Harness()
    old = h.bind("alice", "phone")
    new = h.bind("alice", "phone")
    assert old.stream.closed == ("conflict", "Replaced by new connection")
    assert not old.active and new.active
    assert h.sm.sessionsOf("alice@localhost") == [new]


def test_hooksInOrder():
    """Handlers hear sessionBound on bind and sessionEnded on unbind, the replaced session's end before the new bind."""
    h = Harness()
    recorder = h.sm.addHandler(Recorder())
    old = newSession("alice")
    h.sm.bindSession(old)
    new = newSession("alice")
    h.sm.bindSession(new)
    assert recorder.events == [("bound", old), ("ended", old), ("bound", new)]


def test_unbindForgetsTheAccount():
    """Unbinding the last session drops the account from the table; unbinding twice does nothing."""
    h = Harness()
    recorder = h.sm.addHandler(Recorder())
    session = h.bind("alice")
    h.sm.unbindSession(session)
    h.sm.unbindSession(session)
    assert "alice@localhost" not in h.sm.sessions
    assert [event for event, _ in recorder.events] == ["bound", "ended"]


def test_inactiveSessionDeliversNothing():
    """A session that ended no longer writes to its stream."""
    h = Harness()
    session = h.bind("alice")
    h.sm.unbindSession(session)
    session.deliver(object())
    assert session.stream.sent == []


def test_preAuthAddress():
    """An unauthenticated stream gets a temporary address under the domain until it is unbound."""
    h = Harness()
    stream = FakeStream()
    address = h.sm.bindPreAuth(stream, DOMAIN, "192.0.2.1")
    assert address.startswith(DOMAIN + "/preauth-")
    assert (h.sm.preAuth[address].stream, h.sm.preAuth[address].clientIP) == (stream, "192.0.2.1")
    h.sm.unbindPreAuth(address)
    assert address not in h.sm.preAuth


def test_nonzaOfferedToHooksInStageOrder():
    """nonza() offers a non-stanza element to the onNonza hooks by stage and stops at a taker."""
    from jabberd.handler import Stage

    calls = []

    class Taker(Handler):
        def __init__(self, label, stage, answer):
            self.label, self.stage, self.answer = label, stage, answer

        def onNonza(self, session, element):
            calls.append(self.label)
            return self.answer

    h = Harness()
    session = h.bind("alice")
    assert h.sm.nonza(session, object()) is False
    h.sm.addHandler(Taker("queue", Stage.QUEUE, True))
    h.sm.addHandler(Taker("policy", Stage.POLICY, False))
    assert h.sm.nonza(session, object()) is True
    assert calls == ["policy", "queue"]
