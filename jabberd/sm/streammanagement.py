# -*- test-case-name: tests.sm.test_streammanagement -*-
"""
Stream Management (XEP-0198, urn:xmpp:sm:3): acknowledgements, and
sessions that outlive their connection.

 - The C{<sm/>} feature is offered with the features after authentication
   (section 2), where a client either binds a resource and then sends
   C{<enable/>} (section 3), or sends C{<resume/>} instead of binding
   (section 5; taken by L{jabberd.c2s.resumption}, which also refuses
   C{<enable/>} before binding with C{unexpected-request}).  A second
   C{<enable/>} gets C{<failed/>} with C{unexpected-request} (section 3's
   example; Prosody and ejabberd answer the same and keep the stream).
 - Counting (section 4, L{jabberd.sm.acks}): every stanza the client sends
   is counted by the stream, every stanza written to it (the
   L{jabberd.sm.session.Session.write} path: after the C{onDeliver} hooks,
   so a stanza CSI holds is counted when it is written) is counted and kept
   until acknowledged.  C{<r/>} is answered with C{<a h/>}; after a burst
   of writes the server sends one C{<r/>} and the next only after an
   C{<a/>}.  An C{<a/>} acknowledging more than was sent ends the stream
   with C{undefined-condition} and C{<handled-count-too-high/>} (section 6).
 - Resumption (section 5): with C{resume='true'} the session gets an
   unguessable SM-ID.  When its connection is lost without the stream
   being closed (section 7), the session is detached
   (L{jabberd.sm.manager.SessionManager.detachSession}): it stays bound and
   available to contacts, what it is sent is kept, and it waits
   C{[c2s] resumption_timeout} seconds (less if the client asked for less
   with C{max}).  A C{<resume previd h/>} from a new connection of the same
   account takes it over: the old stream, if still open, gets a
   C{conflict} stream error, the client gets C{<resumed previd h/>} and
   everything it had not acknowledged, in order; messages resent carry a
   XEP-0203 delay with the time they were first written (as Prosody's
   mod_smacks and ejabberd's mod_stream_mgmt add), so the client shows when
   they arrived, not when it came back.  An unknown, expired or
   other account's SM-ID gets C{<failed/>} with C{item-not-found} (in a
   cluster, once the nodes of the account's other sessions said they do
   not hold it: L{elsewhere}, L{jabberd.cluster.handover}); an 'h'
   above what was sent gets C{<failed h/>} with C{undefined-condition},
   and the old session ends.
 - Nothing is lost silently (section 4: "treat unacknowledged stanzas in
   the same way as a stanza sent to an unavailable resource", with a delay
   of the original delivery time): when a
   session with unacknowledged stanzas ends for good (timeout, clean close,
   more than C{[c2s] resumption_max_queue} kept, replaced) each of them is
   handled by L{disposeUnacked}.
"""

import secrets

from twisted.internet import reactor
from twisted.words.protocols.jabber.error import StreamError
from twisted.words.xish import domish

from jabberd.error import errorReply
from jabberd.handler import Handler, Stage
from jabberd.ns import NS_DELAY, NS_MAM, NS_SID, NS_SM, NS_XMPP_STANZAS
from jabberd.sm.acks import AckState, HandledCountTooHigh, parseH
from jabberd.sm.carbons import RECEIVED, eligible
from jabberd.sm.mam import formatStamp
from jabberd.sm.message import recipients
from jabberd.stanza import copyElement

__all__ = ["StreamManagementHandler", "failed", "delayed", "disposeUnacked"]


def failed(condition, h=None, text=None):
    """A C{<failed/>} with the stanza error C{condition} (section 6), and C{h} if given."""
    element = domish.Element((NS_SM, "failed"))
    if h is not None:
        element["h"] = str(h)
    element.addElement((NS_XMPP_STANZAS, condition))
    if text:
        element.addElement((NS_XMPP_STANZAS, "text"), content=text)
    return element


def delayed(stanza, stamp, domain):
    """
    C{stanza} as written at C{stamp} (epoch seconds): a message gets a copy
    with a XEP-0203 delay from C{domain} (section 4: the original delivery
    time), unless it carries a delay already; anything else is returned as
    it is.  The original is never changed: other sessions may share it.
    """
    if stanza.name != "message":
        return stanza
    for child in stanza.elements(NS_DELAY, "delay"):
        return stanza
    copy = copyElement(stanza)
    delay = copy.addElement((NS_DELAY, "delay"))
    delay["from"] = domain
    delay["stamp"] = formatStamp(stamp)
    return copy


def _element(name, **attributes):
    element = domish.Element((NS_SM, name))
    for key, value in attributes.items():
        element[key] = str(value)
    return element


class StreamManagementHandler(Handler):
    """
    XEP-0198 for the session manager's client sessions (see the module's
    description).

    @ivar timeout: the longest a detached session waits (C{[c2s]
        resumption_timeout}); 0 offers acknowledgements without resumption.
    @ivar maxQueue: unacknowledged stanzas kept per session (C{[c2s]
        resumption_max_queue}); one more ends the session for good.
    @ivar resumable: SM-ID -> L{AckState} of the sessions that may be resumed.
    @ivar elsewhere: in a cluster, what asks the other nodes for an SM-ID
        this node does not hold (L{jabberd.cluster.handover.Handover}).
    """

    handlerName = "streammanagement"
    stage = Stage.QUEUE

    def __init__(self, timeout=3600, maxQueue=500, clock=None):
        self.timeout = timeout
        self.maxQueue = maxQueue
        self.clock = clock if clock is not None else reactor
        self.resumable = {}
        self.elsewhere = None

    @classmethod
    def fromConfig(cls, config):
        """The handler with C{[c2s] resumption_timeout} and C{resumption_max_queue}."""
        return cls(timeout=config.c2s.resumptionTimeout,
                   maxQueue=config.c2s.resumptionMaxQueue)

    # --- hooks ---

    def streamFeatures(self):
        """Section 2: offered once the client is authenticated."""
        return [domish.Element((NS_SM, "sm"))]

    def onNonza(self, session, element):
        """C{<enable/>}, C{<r/>} and C{<a/>} from a bound session's stream."""
        if element.uri != NS_SM:
            return False
        name = element.name
        if name == "r":
            self.onRequest(session)
        elif name == "a":
            self.onAck(session, element)
        elif name == "enable":
            self.onEnable(session, element)
        else:
            session.stream.send(failed("unexpected-request"))
        return True

    def onOutbound(self, session, stanza):
        """Note a client that queries its archive (XEP-0313): it catches up there."""
        management = session.management
        if management is None or management.usedArchive or stanza.name != "iq":
            return False
        for child in stanza.elements():
            if child.uri == NS_MAM and child.name == "query":
                management.usedArchive = True
        return False

    def sessionDetached(self, session):
        """Wait for the client to resume, at most its timeout."""
        management = session.management
        if management is not None and management.expiry is None:
            management.expiry = self.clock.callLater(management.timeout, self._expire, session)

    def sessionEnded(self, session):
        """The session is gone for good: its unacknowledged stanzas are not lost."""
        management = session.management
        if management is None:
            return
        session.management = None
        management.ending = True
        if management.smId is not None:
            self.resumable.pop(management.smId, None)
        self._cancelExpiry(management)
        for stamp, stanza in management.take():
            disposeUnacked(self.host, session, stanza, management.usedArchive, stamp,
                           management.priority)

    # --- enabling (section 3) and acks (section 4) ---

    def onEnable(self, session, element):
        """Start counting; grant resumption if asked, the framing allows it and it is on."""
        if session.management is not None:
            session.stream.send(failed("unexpected-request", text="stream management is on"))
            return
        enabled = _element("enabled")
        management = AckState(session, self)
        wanted = element.getAttribute("resume") in ("true", "1")
        if wanted and self.timeout > 0 and getattr(session.stream, "resumable", False):
            management.smId = secrets.token_urlsafe(24)
            management.timeout = self._timeoutFor(element.getAttribute("max"))
            self.resumable[management.smId] = management
            enabled["id"] = management.smId
            enabled["resume"] = "true"
            enabled["max"] = str(management.timeout)
        session.management = management
        session.stream.send(enabled)

    def _timeoutFor(self, requested):
        """The client's C{max}, if it is a number of seconds, up to the configured timeout."""
        if requested is not None and requested.isdigit() and int(requested) > 0:
            return min(int(requested), self.timeout)
        return self.timeout

    def onRequest(self, session):
        """
        C{<r/>}: answer with what was handled (section 4), once the
        messages handled are in the archive: an acknowledged message
        survives a crash (a Deferred of the archive's commit, at once
        when nothing is being written).
        """
        management = session.management
        if management is None:
            return
        answer = _element("a", h=management.handled)
        stream = session.stream
        archive = self.host.handler("mam")
        if archive is None:
            stream.send(answer)
            return
        d = archive.committed()
        d.addCallback(lambda _: session.stream is stream and stream.send(answer))
        d.addErrback(lambda f: self.log.failure("acknowledging to {jid} failed", f,
                                                jid=session.full))

    def onAck(self, session, element):
        """C{<a h/>}: forget what the client handled; too high an 'h' ends the stream."""
        management = session.management
        if management is None:
            return
        h = parseH(element.getAttribute("h"))
        if h is None:
            session.stream.closeWithError("bad-format", "'h' must be an unsignedInt")
            return
        management.requested = False
        try:
            management.ack(h)
        except HandledCountTooHigh as e:
            self._handledCountTooHigh(session.stream, e)

    def _handledCountTooHigh(self, stream, e):
        error = StreamError("undefined-condition", text=str(e)).getElement()
        error.addChild(_element("handled-count-too-high", h=e.h, **{"send-count": e.sent}))
        stream.send(error)
        stream.closeStream()

    def queued(self, management):
        """
        A stanza was kept: past the bound the session ends for good
        (nothing is dropped); otherwise ask for an ack once per burst.
        """
        if management.ending:
            return
        if len(management.unacked) > self.maxQueue:
            management.ending = True
            self.clock.callLater(0, self._overflow, management.session)
        elif not management.requested and not management.session.detached:
            management.requested = True
            self.clock.callLater(0, self._requestAck, management)

    def _requestAck(self, management):
        session = management.session
        if session.management is management and not session.detached and management.unacked:
            session.stream.send(_element("r"))
        else:
            management.requested = False

    def _overflow(self, session):
        self.log.info("{jid}: more than {max} unacknowledged stanzas, session ended",
                      jid=session.full, max=self.maxQueue)
        if session.detached:
            self.host.unbindSession(session)
        else:
            session.stream.closeWithError("policy-violation", "too many unacknowledged stanzas")

    # --- resumption (section 5) ---

    def resume(self, stream, element):
        """
        C{<resume previd h/>} from C{stream}, authenticated and not bound:
        take over the session or answer C{<failed/>}.
        """
        management = self.resumable.get(element.getAttribute("previd") or "")
        if management is None and self.elsewhere is not None and \
                self.elsewhere.resume(stream, element):
            return  # another node of the cluster may hold it
        session = management.session if management is not None else None
        if (session is None or session.username != stream.username
                or session.jid.host != stream.domain or management.ending):
            stream.send(failed("item-not-found"))
            return
        h = parseH(element.getAttribute("h"))
        if h is None:
            stream.send(failed("bad-request", text="'h' must be an unsignedInt"))
            return
        try:
            management.ack(h)
        except HandledCountTooHigh as e:
            stream.send(failed("undefined-condition", management.handled, str(e)))
            self.end(session)
            return
        self._takeOver(stream, session, management)

    def _takeOver(self, stream, session, management):
        self._detachOld(session)
        self._cancelExpiry(management)
        stream.adoptSession(session)
        self.resumed(stream, session, management)

    def _detachOld(self, session):
        if not session.detached:
            # The old connection is still open (section 5: conflict, then close).
            old = session.stream
            old.session = None
            old.closeWithError("conflict", "Replaced by a resumed stream")
            self.host.detachSession(session)

    def freeze(self, session, management):
        """
        Another node of a cluster takes C{session} over
        (L{jabberd.cluster.handover}): its open stream gets C{conflict}, and
        it can no longer be resumed or expire here.
        """
        self._detachOld(session)
        self._cancelExpiry(management)
        self.resumable.pop(management.smId, None)

    def resumed(self, stream, session, management):
        """C{stream} carries C{session} now: C{<resumed/>}, then what the client lacks."""
        stream.send(_element("resumed", previd=management.smId, h=management.handled))
        domain = session.jid.host
        for stamp, stanza in management.unacked:
            stream.send(delayed(stanza, stamp, domain))
        management.requested = False
        self.host.resumeSession(session, stream)
        if management.unacked:
            self.queued(management)

    def _expire(self, session):
        management = session.management
        if management is not None:
            management.expiry = None
        if session.detached:
            self.log.info("{jid}: not resumed in time, session ended", jid=session.full)
            self.host.unbindSession(session)

    def end(self, session):
        """The session's stream management state is lost: it ends."""
        if session.detached:
            self.host.unbindSession(session)
        else:
            session.close("undefined-condition", "stream management state lost")

    @staticmethod
    def _cancelExpiry(management):
        call, management.expiry = management.expiry, None
        if call is not None and call.active():
            call.cancel()


# --- what becomes of an unacknowledged stanza (section 4) ---


def disposeUnacked(host, session, stanza, usedArchive, stamp=None, priority=0):
    """
    Treat C{stanza}, written to the ended C{session} and never
    acknowledged, as a stanza for a resource that is gone (RFC 6121
    section 8.5.3.2.1), as Prosody's mod_smacks and ejabberd's
    mod_stream_mgmt do:

     - errors, presence (the next session probes contacts again, RFC 6121
       section 4.2), iq results and headlines are dropped, and so are
       copies the account sent itself (carbons, XEP-0280; archive results,
       XEP-0313), whose originals are kept elsewhere;
     - a chat or normal message archived for the user is dropped when the
       client used its archive during the session: it finds it there, so
       it is not delivered twice; so is a message to the bare JID when
       another available resource of at least the same priority is online
       (it got the message too, RFC 6121 section 8.5.2.1.1); otherwise it
       goes to the user's other available resources (those with carbons
       enabled had a copy), or to offline storage (XEP-0160), or back to
       the sender;
     - an iq get or set, and a groupchat message, go back to the sender
       with C{recipient-unavailable} (RFC 6120 section 8.3.3.13).

    A message delivered or stored carries a delay of C{stamp}, when it was
    first written (L{delayed}); offline storage keeps that stamp.
    C{priority} is the session's priority when it was written to.
    """
    name = stanza.name
    kind = stanza.getAttribute("type")
    sender = stanza.getAttribute("from") or ""
    if kind == "error" or name == "presence" or sender == session.bare:
        return
    if name == "iq":
        if kind in ("get", "set"):
            host.send(errorReply(stanza, "recipient-unavailable"))
        return
    if name != "message" or kind == "headline":
        return
    if kind == "groupchat":
        host.send(errorReply(stanza, "recipient-unavailable"))
        return
    if usedArchive and _archivedFor(stanza, session.bare):
        return
    if "/" not in (stanza.getAttribute("to") or "") and _deliveredAlongside(host, session,
                                                                            priority):
        return
    if stamp is not None:
        stanza = delayed(stanza, stamp, session.jid.host)
    carbons = host.handler("carbons")
    copied = carbons is not None and eligible(stanza, RECEIVED)
    targets = recipients(host, stanza)
    if targets:
        for target in targets:
            if not (copied and carbons.isEnabled(target)):
                target.deliver(stanza)
        return
    d = host.undeliverable(stanza)
    d.addCallback(lambda taken: taken or host.send(errorReply(stanza, "recipient-unavailable")))


def _deliveredAlongside(host, session, priority):
    """
    Whether a bare-JID message for C{session}, of C{priority}, also went to
    another resource (8.5.2.1.1).
    """
    floor = max(priority, 0)
    return any(other.available and other.priority >= floor
               for other in host.sessionsOf(session.bare))


def _archivedFor(stanza, bare):
    """Whether C{stanza} carries the stanza-id of C{bare}'s archive (XEP-0359 section 3)."""
    for child in stanza.elements(NS_SID, "stanza-id"):
        if child.getAttribute("by") == bare:
            return True
    return False
