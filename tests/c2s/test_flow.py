"""Tests for L{jabberd.c2s.flow}: output backpressure and input shaping of a client connection."""

from twisted.internet import task

from jabberd.c2s.flow import FlowControl, TokenBucket


class Transport:
    """Records pause/resume/abort as a TCP transport would see them."""

    def __init__(self):
        self.events = []
        self.producer = None

    def registerProducer(self, producer, streaming):
        self.producer = (producer, streaming)

    def pauseProducing(self):
        self.events.append("pause")

    def resumeProducing(self):
        self.events.append("resume")

    def abortConnection(self):
        self.events.append("abort")


class Stream:
    closing = False

    def __init__(self):
        self.transport = Transport()

    def _peer(self):
        return "192.0.2.1"


def flow(maxOutput=1000, byteRate=0, byteBurst=0, stanzaRate=0, stanzaBurst=0):
    clock = task.Clock()
    stream = Stream()
    return FlowControl(stream, clock, maxOutput, byteRate, byteBurst, stanzaRate,
                       stanzaBurst), stream.transport, clock


def test_tokenBucket():
    """A bucket allows its burst at once, then owes time at its rate; rate 0 never limits."""
    bucket = TokenBucket(10, 20, 0.0)
    assert bucket.take(20, 0.0) == 0
    assert bucket.take(5, 0.0) == 0.5
    assert bucket.take(10, 2.0) == 0  # 20 tokens back after 2 s, 5 owed
    assert TokenBucket(0, 0, 0.0).take(10 ** 9, 0.0) == 0


def test_outputBackpressurePausesReading():
    """When the transport's buffer is full, reading stops; when it drains, reading resumes."""
    f, transport, _ = flow()
    f.pauseProducing()
    f.noteOutput(500)
    f.resumeProducing()
    assert transport.events == ["pause", "resume"]
    assert f.backlog == 0


def test_outputPastTheLimitDrops():
    """Output written while the client does not read, past maxOutput bytes, aborts the connection."""
    f, transport, _ = flow(maxOutput=1000)
    f.noteOutput(5000)  # not paused: the transport takes it
    f.pauseProducing()
    f.noteOutput(600)
    assert transport.events == ["pause"]
    f.noteOutput(600)
    assert transport.events == ["pause", "abort"]


def test_inputOverTheRateIsPausedNotDropped():
    """A client over its byte rate is not read until its budget is back."""
    f, transport, clock = flow(byteRate=100, byteBurst=100)
    f.noteInput(100)
    assert transport.events == []
    f.noteInput(50)
    assert transport.events == ["pause"]
    clock.advance(0.49)
    assert transport.events == ["pause"]
    clock.advance(0.02)
    assert transport.events == ["pause", "resume"]


def test_stanzaRate():
    """A stanza over the stanza rate pauses reading and gets a Deferred that fires when the next may go."""
    f, transport, clock = flow(stanzaRate=2, stanzaBurst=2)
    assert f.noteStanza() is None and f.noteStanza() is None
    rested = f.noteStanza()
    fired = []
    rested.addCallback(fired.append)
    assert transport.events == ["pause"] and f.holding
    clock.advance(0.49)
    assert fired == []
    clock.advance(0.02)
    assert fired == [None] and not f.holding
    assert transport.events == ["pause", "resume"]


def test_bothReasonsMustClear():
    """Reading resumes only when neither the output nor the rate holds it."""
    f, transport, clock = flow(byteRate=10, byteBurst=10)
    f.pauseProducing()
    f.noteInput(20)
    clock.advance(2)
    assert transport.events == ["pause"]
    f.resumeProducing()
    assert transport.events == ["pause", "resume"]


def test_attachOnlyWithASocket():
    """Framings without a pausable transport get no flow control."""
    class Bare:
        pass
    assert FlowControl.attach(Stream(), Bare()) is None


def test_unblockedConnectionsShareOneEmptySet():
    """Connections that nothing blocks, new or resumed, all refer to one empty set."""
    first, _, _ = flow()
    second, _, _ = flow()
    second.pauseProducing()
    second.resumeProducing()
    assert not first.blocked and first.blocked is second.blocked
