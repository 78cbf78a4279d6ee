# -*- test-case-name: tests.c2s.test_flow -*-
"""
Flow control of one client TCP connection: output backpressure and input
shaping (RFC 6120 section 13.12 leaves resource limits to the server).

 - Output.  The stream is registered as a streaming producer
   (C{IPushProducer}) on its TCP transport.  Once the transport's write
   buffer passes its high-water mark (Twisted's C{bufferSize}, 64 KB) it
   calls L{FlowControl.pauseProducing}: reading from the client stops, so
   a client that does not read cannot make the server queue answers to
   what it keeps sending.  What is still written meanwhile (a busy room,
   contacts' presence) is counted; past C{maxOutput} bytes the connection
   is dropped, its session ends, and the buffer is freed.  When the
   buffer drains, reading resumes.
 - Input.  Token buckets of bytes and of stanzas per second (the shapers
   of ejabberd and Prosody's mod_limits): a client over its rate is not
   cut off, its connection is just not read until its budget is back.
   Over the stanza rate, the stanzas already parsed from the same read are
   held too (L{noteStanza} returns a Deferred the stream waits for), so
   the rate holds within one read, not only between reads.

Both pause the same thing (reading the socket); reading resumes only
when neither holds it.  A WebSocket stream (RFC 7395) has the same flow
control on the TCP (or TLS) connection it took over from the HTTP site
(L{jabberd.web.websocket}); BOSH has no connection of its own and is
shaped per session instead (L{jabberd.web.bosh.session}).
"""

from zope.interface import implementer

from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer

from jabberd.logs import Logger

__all__ = ["TokenBucket", "FlowControl"]

#: The empty set of blocking reasons: one object, since CPython (3.10 on)
#: makes a new 216-byte C{frozenset()} at each call.
UNBLOCKED = frozenset()


class TokenBucket:
    """
    C{rate} units a second, at most C{burst} saved up; a rate of 0 never limits.
    """

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate, burst, now):
        self.rate = rate
        self.burst = max(burst, rate)
        self.tokens = float(self.burst)
        self.stamp = now

    def take(self, amount, now):
        """Spend C{amount}; return the seconds until the bucket is no longer in debt."""
        if not self.rate:
            return 0.0
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= amount
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@implementer(IPushProducer)
class FlowControl:
    """
    @ivar stream: the L{jabberd.c2s.stream.ClientStream}.
    @ivar socket: the transport to pause and drop when it is not the
        stream's own (a WebSocket's connection), else None.
    @ivar maxOutput: bytes written while the transport is over its
        high-water mark before the connection is dropped (0: never).
    @ivar blocked: why reading is paused now (C{"output"}, C{"input"}).
    @ivar backlog: bytes written since the transport asked to pause.
    """

    log = Logger()

    def __init__(self, stream, clock, maxOutput, byteRate, byteBurst, stanzaRate, stanzaBurst,
                 socket=None):
        self.stream = stream
        self.socket = socket
        self.clock = clock
        self.maxOutput = maxOutput
        now = clock.seconds()
        self.bytes = TokenBucket(byteRate, byteBurst, now)
        self.stanzas = TokenBucket(stanzaRate, stanzaBurst, now)
        # The one empty frozenset until something blocks: no set per connection.
        self.blocked = UNBLOCKED
        self.backlog = 0
        self._wake = None
        self._waiting = []

    @classmethod
    def attach(cls, stream, transport, socket=None):
        """
        Flow control for C{stream} on C{transport}, registered as its
        producer; None for framings with no socket to pause (BOSH).
        C{socket}: the connection to pause when it is not the stream's
        transport (a WebSocket stream writes messages, not bytes).
        """
        if not hasattr(transport, "registerProducer") or not hasattr(transport, "pauseProducing"):
            return None
        c2s = stream.config.c2s
        flow = cls(stream, stream.factory.clock, c2s.maxOutputBuffer, c2s.inputRate,
                   c2s.inputBurst, c2s.stanzaRate, c2s.stanzaBurst, socket)
        transport.registerProducer(flow, True)
        return flow

    @property
    def transport(self):
        """The connection paused, resumed and dropped."""
        return self.socket if self.socket is not None else self.stream.transport

    # output: called by the transport (IPushProducer)

    def pauseProducing(self):
        """The client is not reading what we write: stop reading what it writes."""
        if "output" not in self.blocked:
            self.backlog = 0
            self._block("output")

    def resumeProducing(self):
        """The write buffer drained."""
        self.backlog = 0
        self._unblock("output")

    def stopProducing(self):
        """The connection is going away; nothing to stop."""
        self._cancelWake()

    def noteOutput(self, size):
        """C{size} bytes were written; drop a connection whose backlog is past the limit."""
        if "output" not in self.blocked:
            return
        self.backlog += size
        if self.maxOutput and self.backlog > self.maxOutput:
            self.log.warn("dropping {peer}: {size} bytes of output not read",
                          peer=self.stream._peer(), size=self.backlog)
            self.blocked = UNBLOCKED
            self._cancelWake()
            self.transport.abortConnection()

    # input shaping

    def noteInput(self, size):
        """C{size} bytes were read."""
        self._shape(self.bytes.take(size, self.clock.seconds()))

    def noteStanza(self):
        """
        A stanza was handled; None when the next may follow at once, else a
        Deferred firing when the stanza budget allows it.
        """
        wait = self.stanzas.take(1, self.clock.seconds())
        if wait <= 0:
            return None
        self._shape(wait)
        d = defer.Deferred()
        self._waiting.append(d)
        return d

    @property
    def holding(self):
        """Whether handled stanzas wait for the stanza budget."""
        return bool(self._waiting)

    def _shape(self, wait):
        if wait <= 0:
            return
        if self._wake is not None:
            if self._wake.getTime() >= self.clock.seconds() + wait:
                return
            self._wake.cancel()
        self._wake = self.clock.callLater(wait, self._rested)
        self._block("input")

    def _rested(self):
        self._wake = None
        self._unblock("input")
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(None)

    def _cancelWake(self):
        if self._wake is not None and self._wake.active():
            self._wake.cancel()
        self._wake = None

    # the one switch

    def _block(self, reason):
        wasReading = not self.blocked
        if wasReading:
            self.blocked = {reason}
        else:
            self.blocked.add(reason)
        transport = self.transport
        if wasReading and transport is not None:
            transport.pauseProducing()

    def _unblock(self, reason):
        if reason not in self.blocked:
            return
        self.blocked.discard(reason)
        if not self.blocked:
            self.blocked = UNBLOCKED  # the set made at the block goes with it
        transport = self.transport
        if not self.blocked and transport is not None and not self.stream.closing:
            transport.resumeProducing()
