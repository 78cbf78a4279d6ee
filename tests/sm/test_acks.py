"""
Tests for L{jabberd.sm.acks}: the XEP-0198 counters (modulo 2^32) and the
queue of unacknowledged stanzas.
"""

import pytest
from twisted.internet import task

from jabberd.sm.acks import MODULO, AckState, HandledCountTooHigh, parseH


class Recorder:
    """Stands in for the session (stream, priority) and the handler told of each stanza."""

    def __init__(self):
        self.stream = self
        self.written = []
        self.queuedCount = 0
        self.clock = task.Clock()
        self.priority = 0

    def send(self, stanza):
        self.written.append(stanza)

    def queued(self, state):
        self.queuedCount += 1


def makeState():
    recorder = Recorder()
    return AckState(recorder, recorder), recorder


def test_sentStanzasAreWrittenAndKept():
    """Each stanza sent is written, counted and kept until acknowledged."""
    state, recorder = makeState()
    for n in range(3):
        state.send(f"s{n}")
    assert recorder.written == ["s0", "s1", "s2"]
    assert state.sent == 3
    assert state.stanzas() == ["s0", "s1", "s2"]
    assert recorder.queuedCount == 3


def test_ackForgetsHandled():
    """An ack of h forgets the first h stanzas, and a later one only the new ones."""
    state, _ = makeState()
    for n in range(4):
        state.send(n)
    state.ack(1)
    assert state.stanzas() == [1, 2, 3]
    state.ack(3)
    assert state.stanzas() == [3]
    state.ack(3)  # a repeated ack changes nothing
    assert state.stanzas() == [3]


def test_ackTooHighRaisesAndKeepsQueue():
    """An h above what was sent raises HandledCountTooHigh and leaves the queue as it was."""
    state, _ = makeState()
    state.send("a")
    state.send("b")
    with pytest.raises(HandledCountTooHigh) as info:
        state.ack(3)
    assert (info.value.h, info.value.sent) == (3, 2)
    assert state.stanzas() == ["a", "b"]


def test_handledWrapsModulo2To32():
    """The received counter goes from 2^32 - 1 back to zero (section 4)."""
    state, _ = makeState()
    state.handled = MODULO - 1
    state.countHandled()
    assert state.handled == 0
    state.countHandled()
    assert state.handled == 1


def test_sentAndAckAcrossTheWrap():
    """Stanzas sent across the wrap are acknowledged by the wrapped h values."""
    state, _ = makeState()
    state.sent = state.acked = MODULO - 2
    for n in range(4):
        state.send(n)
    assert state.sent == 2
    state.ack(MODULO - 1)
    assert state.stanzas() == [1, 2, 3]
    state.ack(1)
    assert state.stanzas() == [3]
    with pytest.raises(HandledCountTooHigh):
        state.ack(3)


def test_staleAckAfterWrapIsTooHigh():
    """An h behind the last one is not read as 2^32 new acks: it is refused."""
    state, _ = makeState()
    for n in range(3):
        state.send(n)
    state.ack(2)
    with pytest.raises(HandledCountTooHigh):
        state.ack(1)


def test_take():
    """take() gives every unacknowledged stanza in order with when it was written; none stay."""
    state, recorder = makeState()
    state.send("x")
    recorder.clock.advance(5)
    state.send("y")
    assert state.take() == [(0, "x"), (5, "y")]
    assert not state.unacked


def test_resumableOnlyWithId():
    """A state is resumable when it has an SM-ID."""
    state, _ = makeState()
    assert not state.resumable
    state.smId = "id"
    assert state.resumable


@pytest.mark.parametrize("value, expected", [
    ("0", 0), ("42", 42), (str(MODULO - 1), MODULO - 1), (str(MODULO), None),
    ("-1", None), ("", None), ("1.5", None), (None, None), ("x", None)])
def test_parseH(value, expected):
    """'h' is an unsignedInt: digits only, below 2^32."""
    assert parseH(value) == expected
