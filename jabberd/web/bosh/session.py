# -*- test-case-name: tests.web.bosh.test_session -*-
"""
One BOSH session (XEP-0124): the request window, held requests, the
response cache and the session's timers, around one client stream.

 - Requests are processed in C{rid} order (section 14.2): one that arrives
   early waits for the gap to fill; a C{rid} past the window
   (C{requests} = C{hold} + 1) or unknown ends the session with
   C{item-not-found}; a repeated C{rid} gets its cached response again
   (section 14.3).
 - After its payloads are handed to the stream, a request is held up to
   C{wait} seconds and answered as soon as there is something to send;
   with more than C{hold} held, the oldest is answered at once (section 8).
 - Too many simultaneous requests, or empty ones too fast, end the session
   with C{policy-violation} (sections 11 and 12).
 - With no request held for C{inactivity} seconds (or a granted C{pause})
   the session ends silently (section 10); a C{type='terminate'} request
   ends it at the client's wish (section 13).
 - Shaping, as a TCP connection's (L{jabberd.c2s.flow}): token buckets of
   body bytes and payload stanzas a second per session.  A session over
   its rate has its next request processed (and answered) only when its
   budget is back; its client, allowed C{requests} unanswered requests,
   slows down with it.  A body's own payloads are bounded by C{[http]
   bosh_max_payloads}.
 - Output with no request to carry it (a client that stopped polling)
   is queued up to C{maxOutput} bytes; past it the session is terminated
   with C{policy-violation}, as a TCP client that does not read is dropped.
 - Output for a held request leaves when the request whose handling made
   it has been handled (L{flushNow}, called by the resource, so stanzas one
   request caused share one response, and before that request's session
   answers its own surplus held request), or else at the end of the reactor
   turn; a response is sent on its socket at once (L{sendQueued}), not at
   the next poll round.

Whatever ends the session, the stream sees a lost connection, so the
session manager unbinds the resource (unavailable presence goes out).
"""

from collections import OrderedDict, deque

from jabberd.c2s.flow import TokenBucket
from jabberd.listening import sendQueued
from jabberd.logs import Logger
from twisted.python import failure
from twisted.internet import error

from jabberd.web.bosh.body import intAttribute, responseBody, terminateBody
from jabberd.ns import NS_XBOSH, NS_XMPP_STREAMS

__all__ = ["BOSHSession", "BOSH_VERSION"]

BOSH_VERSION = (1, 11)
"""The XEP-0124 version implemented."""

_PASSED_ON = frozenset(("host-unknown", "system-shutdown", "see-other-uri"))
"""Stream errors with a binding condition of the same name (XEP-0124 section 17.2)."""


class HeldRequest:
    """A request waiting for its response."""

    __slots__ = ("rid", "request", "empty", "timer", "lost")

    def __init__(self, rid, request, empty):
        self.rid = rid
        self.request = request
        self.empty = empty
        self.timer = None
        self.lost = False


class BOSHSession:
    """
    @ivar sid: the session id.
    @ivar stream: the L{jabberd.web.bosh.stream.BOSHStream}.
    @ivar wait, hold, requests, inactivity, polling, maxPause: the
        session's negotiated limits, in seconds or requests.
    @ivar lastRid: the highest C{rid} received with all lower ones.
    @ivar held: the held L{HeldRequest}s, oldest first.
    @ivar outgoing: serialised payloads waiting for a request to carry them.
    @ivar queued: the bytes in C{outgoing}.
    @ivar maxOutput: the most bytes C{outgoing} may hold while no request
        is held (0: no limit).
    @ivar bytes, stanzas: the L{TokenBucket}s of body bytes and payloads.
    @ivar ended: the session is over (or only waits to tell the client).
    @ivar onOutput: called with the session when output starts waiting for
        a flush (the resource then calls L{flushNow} once the request it is
        handling is done), or None.
    @ivar onHandled: called when this session's requests in order have been
        handled, before its surplus held requests are answered, or None:
        the resource then flushes the sessions they sent stanzas to, so a
        message's response leaves before its sender's empty one.
    """

    log = Logger()

    def __init__(self, sid, stream, clock, wait, hold, inactivity, polling=0, maxPause=0,
                 version=BOSH_VERSION, contentType=b"text/xml; charset=utf-8", onEnd=None,
                 maxOutput=0, byteRate=0, byteBurst=0, stanzaRate=0, stanzaBurst=0,
                 onOutput=None, onHandled=None):
        self.sid = sid
        self.stream = stream
        stream.boshSession = self
        self.clock = clock
        self.wait, self.hold, self.requests = wait, hold, hold + 1
        self.inactivity, self.polling, self.maxPause = inactivity, polling, maxPause
        self.version = version
        self.contentType = contentType
        self.onEnd = onEnd
        self.onOutput = onOutput
        self.onHandled = onHandled
        self.lastRid = None
        self.held = deque()
        self.early = {}
        self.responses = OrderedDict()
        self._lost = set()
        self.outgoing = []
        self.queued = 0
        self.maxOutput = maxOutput
        now = clock.seconds()
        self.bytes = TokenBucket(byteRate, byteBurst, now)
        self.stanzas = TokenBucket(stanzaRate, stanzaBurst, now)
        self._shapedUntil = 0.0
        self._shapeCall = None
        self.streamPrefix = False
        self.ended = False
        self.terminal = None
        self._endBody = None
        self._error = None
        self._pause = None
        self._lastArrival = None
        self._lastPollEmpty = False
        self._flushCall = None
        self._inactivityCall = None

    # session creation (XEP-0124 section 7, XEP-0206 section 4)

    def start(self, request, rid, body):
        """Open the stream with the creation C{body} and answer at once."""
        self.lastRid = rid
        self.stream.onDocumentStart(body)
        if self.ended:
            self._tellTerminal(request)
            return
        held = HeldRequest(rid, request, True)
        self._answer(held, self.creationAttributes(rid), xbosh=True, streamPrefix=True)
        self._idle()

    def creationAttributes(self, rid):
        """The session creation response's attributes (section 7.1, XEP-0206 section 4)."""
        stream = self.stream
        attributes = [("sid", self.sid), ("wait", self.wait), ("requests", self.requests),
                      ("hold", self.hold), ("inactivity", self.inactivity),
                      ("polling", self.polling)]
        if self.maxPause:
            attributes.append(("maxpause", self.maxPause))
        attributes += [("ver", "%d.%d" % self.version), ("from", stream.domain),
                       ("authid", stream.sid), ("secure", "true"), ("ack", rid)]
        if stream.version >= (1, 0):
            attributes.append(("xmpp:version", "1.0"))
        attributes.append(("xmpp:restartlogic", "true"))
        return attributes

    # requests

    def receive(self, request, rid, body, payloads, size=0):
        """
        Take a request of this session: C{body} is its parsed C{<body/>},
        C{payloads} its child elements, C{size} its length in bytes.
        """
        if self.terminal is not None:
            self._tellTerminal(request)
            return
        intAttribute(body, "pause")  # a malformed one is refused before anything changes
        self._cancelInactivity()
        if rid <= self.lastRid:
            self._repeat(request, rid)
        elif rid > self.lastRid + self.requests:
            self.fail(request, "item-not-found")
        elif rid in self.early:
            self._replace(self.early[rid][0], request)
            self.early[rid] = (request,) + self.early[rid][1:]
        elif self._overactive(body, payloads):
            self.fail(request, "policy-violation")
        else:
            self.early[rid] = (request, body, payloads, size)
            self._catchUp()
        self._idle()

    def _catchUp(self):
        """Process the early requests that are now in order, as the shaping allows."""
        while not self.ended and self.lastRid + 1 in self.early:
            if self._shaped():
                break
            self.lastRid += 1
            request, body, payloads, size = self.early.pop(self.lastRid)
            self._process(self.lastRid, request, body, payloads)
            self._spend(size, len(payloads))
        if self.onHandled is not None:
            self.onHandled()  # what these requests sent to other sessions leaves first
        self._release()

    def _spend(self, size, stanzas):
        """A request of C{size} bytes and C{stanzas} payloads was processed."""
        now = self.clock.seconds()
        wait = max(self.bytes.take(size, now), self.stanzas.take(stanzas, now))
        if wait > 0:
            self._shapedUntil = now + wait

    def _shaped(self):
        """Whether the next request must wait for the budget (a wake-up is then set)."""
        now = self.clock.seconds()
        if self._shapedUntil <= now:
            return False
        if self._shapeCall is None:
            self._shapeCall = self.clock.callLater(self._shapedUntil - now, self._rested)
        return True

    def _rested(self):
        self._shapeCall = None
        self._catchUp()
        self._idle()

    def _release(self):
        """Answer the oldest held requests beyond C{hold} (none may wait when C{wait} is 0)."""
        limit = self.hold if self.wait else 0
        while len(self.held) > limit:
            self._answer(self.held.popleft())
        self.flush()

    def _process(self, rid, request, body, payloads):
        if body.getAttribute("type") == "terminate":
            self._feed(payloads)
            self.terminate(None, request)
            return
        pause = intAttribute(body, "pause")
        if pause is not None and self.maxPause:
            self._pauseSession(request, min(pause, self.maxPause))
            return
        self._pause = None
        if body.getAttribute((NS_XBOSH, "restart")) in ("true", "1"):
            self._restart(body)
        else:
            self._feed(payloads)
        if self.terminal is not None:
            self._tellTerminal(request)
        elif self.ended:
            self._write(request, self._endBody)
        elif request is not None:
            self._hold(HeldRequest(rid, request, not payloads))

    def _feed(self, payloads):
        stream = self.stream
        stream.noteInput()
        for payload in payloads:
            if self.ended or stream.closing:
                break
            stream.onElement(payload)

    def _restart(self, body):
        """XEP-0206 section 5: a new stream header after SASL succeeded."""
        if not self.stream.restartPending:
            self.log.info("BOSH session {sid}: restart without a reset stream", sid=self.sid)
            self.terminate("bad-request")
            return
        self.stream.noteInput()
        self.stream.onDocumentStart(body)

    def _hold(self, held):
        if self.wait:
            held.timer = self.clock.callLater(self.wait, self._expire, held)
        self.held.append(held)

    def _expire(self, held):
        """C{wait} passed: answer (in order) up to this request, empty if need be."""
        held.timer = None
        while self.held and held in self.held:
            self._answer(self.held.popleft())
        self._idle()

    def _overactive(self, body, payloads):
        """Sections 11 and 12: too many requests at once, or empty ones too fast."""
        if body.getAttribute("pause") is not None or body.getAttribute("type") == "terminate":
            return False  # one extra request is allowed for these (section 11)
        unanswered = len(self.held) + len(self.early) + 1
        if unanswered > self.requests:
            return True
        now = self.clock.seconds()
        tooSoon = self._lastArrival is not None and now - self._lastArrival < self.polling
        self._lastArrival = now
        empty = not payloads and body.getAttribute((NS_XBOSH, "restart")) is None
        if not (empty and tooSoon):
            return False
        if self.hold == 0:
            return self._lastPollEmpty
        return unanswered == self.requests

    def _repeat(self, request, rid):
        """Section 14.3: a request sent again gets the same response."""
        cached = self.responses.get(rid)
        if cached is not None:
            self._write(request, cached)
            return
        for held in self.held:
            if held.rid == rid:
                self._replace(held.request, request)
                held.request, held.lost = request, False
                return
        if rid in self._lost:
            # Its connection dropped before we answered: this copy waits instead.
            self._lost.discard(rid)
            self._hold(HeldRequest(rid, request, True))
            self.held = deque(sorted(self.held, key=lambda h: h.rid))
            self._release()
            return
        self.fail(request, "item-not-found")

    def _replace(self, old, request):
        """The client gave up on C{old} and sent it again: close the old one empty."""
        if old is not None and old is not request:
            self._write(old, responseBody())

    def _pauseSession(self, request, seconds):
        """Section 10: answer everything now and allow C{seconds} of silence once."""
        while self.held:
            self._answer(self.held.popleft())
        self._write(request, responseBody())
        self._pause = seconds

    def requestLost(self, request):
        """The HTTP connection of C{request} closed before it was answered."""
        for held in list(self.held):
            if held.request is request:
                held.lost = True
                self._cancelTimer(held)
                self.held.remove(held)
                self._lost = {rid for rid in self._lost if rid > self.lastRid - self.requests}
                self._lost.add(held.rid)
        for rid, entry in self.early.items():
            if entry[0] is request:
                self.early[rid] = (None,) + entry[1:]
        self._idle()

    # output

    def push(self, data, streamLevel=False):
        """The stream sent C{data}; it leaves with the next answered request."""
        if self.ended:
            return
        self.outgoing.append(data)
        self.queued += len(data)
        if streamLevel:
            self.streamPrefix = True
        if self.maxOutput and self.queued > self.maxOutput and not self.held:
            self.log.warn("BOSH session {sid}: {size} bytes of output not fetched",
                          sid=self.sid, size=self.queued)
            self.outgoing, self.queued = [], 0
            self.terminate("policy-violation")
            return
        if self.held and self._flushCall is None:
            # Stanzas sent in the same reactor turn share one response.
            self._flushCall = self.clock.callLater(0, self._scheduledFlush)
            if self.onOutput is not None:
                self.onOutput(self)

    def _scheduledFlush(self):
        self._flushCall = None
        self.flush()
        self._idle()

    def flushNow(self):
        """Answer a held request with the waiting output now, not at the end of the turn."""
        if self._flushCall is not None:
            self._flushCall.cancel()
            self._scheduledFlush()

    def flush(self):
        """Answer the oldest held request with what is waiting, if anything."""
        if self._flushCall is not None:
            self._flushCall.cancel()
            self._flushCall = None
        if self.outgoing and self.held:
            self._answer(self.held.popleft())

    def _answer(self, held, attributes=(), xbosh=False, streamPrefix=False):
        self._cancelTimer(held)
        payloads, self.outgoing, self.queued = self.outgoing, [], 0
        streamPrefix = streamPrefix or self.streamPrefix
        self.streamPrefix = False
        attributes = list(attributes)
        if held.rid != self.lastRid:
            attributes.append(("ack", self.lastRid))  # section 9.1: all up to it arrived
        data = responseBody(attributes, payloads, streamPrefix, xbosh)
        self.responses[held.rid] = data
        while len(self.responses) > self.requests:
            self.responses.popitem(last=False)
        self._lastPollEmpty = held.empty and not payloads
        if not held.lost:
            self._write(held.request, data)

    def _write(self, request, data):
        if request is None:
            return  # its connection was lost while it waited for its turn
        request.setHeader(b"content-type", self.contentType)
        request.setHeader(b"content-length", b"%d" % len(data))
        request.write(data)
        request.finish()
        sendQueued(getattr(request, "transport", None))

    # the stream's end

    def streamError(self, element, data):
        """The stream is about to close with the stream error C{element}."""
        condition = next((c.name for c in element.elements() if c.uri == NS_XMPP_STREAMS
                          and c.name != "text"), "undefined-condition")
        self._error = (condition, data)

    def streamEnded(self):
        """
        The stream closed (a stream error, a replaced session, shutdown):
        the client learns it from a terminate body, now if a request is
        held, else with its next request (XEP-0206 section 6).
        """
        if self.ended:
            return
        condition, payloads = None, self.outgoing
        if self._error is not None:
            condition, errorData = self._error
            if condition not in _PASSED_ON:
                condition = "remote-stream-error"
                payloads = payloads + [errorData]
        self.outgoing, self.queued = [], 0
        terminal = terminateBody(condition, payloads, streamPrefix=True)
        if self.held:
            first = self.held.popleft()
            if not first.lost:
                self._write(first.request, terminal)
            self._end(terminateBody(condition))
        else:
            self.terminal = terminal
            self._end(None, keep=True)

    def _tellTerminal(self, request):
        terminal, self.terminal = self.terminal, None
        self._write(request, terminal)
        self._forget()

    def fail(self, request, condition):
        """End the session with the binding error C{condition}, answering C{request} too."""
        self.terminate(condition, request)

    def terminate(self, condition=None, request=None):
        """
        End the session: every open request gets a terminate body with
        C{condition} (none for the client's own request, section 13).
        """
        body = terminateBody(condition)
        if request is not None:
            self._write(request, body)
        if self.ended:
            return
        self.log.info("BOSH session {sid} ended ({why})", sid=self.sid,
                      why=condition or "terminated")
        self._end(body)

    def _end(self, body, keep=False):
        self.ended = True
        self._endBody = body if body is not None else terminateBody()
        for held in self.held:
            self._cancelTimer(held)
            if not held.lost and body is not None:
                self._write(held.request, body)
        self.held.clear()
        for entry in self.early.values():
            if entry[0] is not None and body is not None:
                self._write(entry[0], body)
        self.early.clear()
        self._cancelInactivity()
        if self._flushCall is not None:
            self._flushCall.cancel()
            self._flushCall = None
        if self._shapeCall is not None:
            self._shapeCall.cancel()
            self._shapeCall = None
        # As a TCP connection's loss, reported from the reactor, never from
        # inside the stream code that closed it.
        self.clock.callLater(0, self._loseStream)
        if keep:
            # Kept to answer the next request with the terminal body.
            self._inactivityCall = self.clock.callLater(max(self.inactivity, 1), self._forget)
        else:
            self._forget()

    def _loseStream(self):
        if self.stream.connected:
            self.stream.connected = False
            self.stream.connectionLost(failure.Failure(error.ConnectionDone("BOSH session ended")))

    def _forget(self):
        self._cancelInactivity()
        self.terminal = None
        if self.onEnd is not None:
            onEnd, self.onEnd = self.onEnd, None
            onEnd(self)

    # inactivity (section 10)

    def _idle(self):
        """Start the inactivity timer when no request is held."""
        if (self.ended or self.held or self._inactivityCall is not None
                or self._shapeCall is not None):
            return  # a request waiting for the shaping is activity too
        period = self._pause if self._pause is not None else self.inactivity
        if period:
            self._inactivityCall = self.clock.callLater(period, self._inactive)

    def _inactive(self):
        self._inactivityCall = None
        self.terminate(None)

    def _cancelInactivity(self):
        call, self._inactivityCall = self._inactivityCall, None
        if call is not None and call.active():
            call.cancel()

    @staticmethod
    def _cancelTimer(held):
        if held.timer is not None and held.timer.active():
            held.timer.cancel()
        held.timer = None
