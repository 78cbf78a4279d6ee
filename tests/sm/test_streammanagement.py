"""
Tests for L{jabberd.sm.streammanagement}: XEP-0198 enabling, acks,
detached sessions, resumption and what becomes of unacknowledged stanzas.
"""

from twisted.internet import defer, task

from jabberd.handler import Handler
from jabberd.ns import NS_DELAY, NS_MAM, NS_SID, NS_SM, NS_STREAMS, NS_XMPP_STANZAS
from jabberd.sm.carbons import CarbonsHandler
from jabberd.sm.streammanagement import StreamManagementHandler, delayed
from tests.sm.helpers import (ALICE, BOB, FakeStream, Harness, TakeUndeliverable,
                              errorCondition, parse, presences)


class ResumableStream(FakeStream):
    """A fake client stream on a framing that allows resumption, able to take a session over."""

    resumable = True
    username = "alice"
    domain = "localhost"

    def __init__(self):
        FakeStream.__init__(self)
        self.session = None
        self.closing = False

    def closeStream(self):
        self.closing = True

    def closeWithError(self, condition, text=None):
        FakeStream.closeWithError(self, condition, text)
        self.closing = True

    def adoptSession(self, session):
        self.session = session


class Hooks(Handler):
    """Records the detach and resume hooks."""

    def __init__(self):
        self.calls = []

    def sessionDetached(self, session):
        self.calls.append(("detached", session.full, session.detached))

    def sessionResumed(self, session):
        self.calls.append(("resumed", session.full, session.detached))


def smHarness(timeout=300, maxQueue=500, offline=None):
    """alice and bob online and mutual contacts; the handler on a fake clock."""
    h = Harness()
    h.clock = task.Clock()
    h.stored = []
    h.sm.addHandler(CarbonsHandler())
    h.handler = h.sm.addHandler(StreamManagementHandler(timeout, maxQueue, clock=h.clock))
    h.hooks = h.sm.addHandler(Hooks())
    h.sm.addHandler(TakeUndeliverable(offline or (lambda s: h.stored.append(s) or True)))
    h.setItem("alice", BOB, "both")
    h.setItem("bob", ALICE, "both")
    h.alice = bindResumable(h, "phone")
    h.bob = h.login("bob", "desk")
    h.clear()
    return h


def bindResumable(h, resource):
    session = h.bind("alice", resource)
    session.stream = ResumableStream()
    session.stream.session = session
    h.send(session, "<presence/>")
    return session


def nonza(h, session, xml):
    return h.sm.nonza(session, parse(xml, NS_SM))


def enable(h, session, attributes=" resume='true'"):
    assert nonza(h, session, f"<enable{attributes}/>")
    [enabled] = h.take(session)
    assert (enabled.uri, enabled.name) == (NS_SM, "enabled")
    return enabled


def chat(h, text, to=ALICE + "/phone", sender=BOB + "/desk", extra=""):
    h.inbound(f"<message from='{sender}' to='{to}' type='chat'>"
              f"<body>{text}</body>{extra}</message>")


def textOf(message):
    for child in message.elements():
        if child.name == "body":
            return str(child)
    return None


def resume(h, previd, hValue, stream=None):
    stream = stream or ResumableStream()
    h.handler.resume(stream, parse(f"<resume previd='{previd}' h='{hValue}'/>", NS_SM))
    return stream


def test_featureOffered():
    """The handler offers <sm xmlns='urn:xmpp:sm:3'/> after authentication."""
    [feature] = StreamManagementHandler().streamFeatures()
    assert (feature.uri, feature.name) == (NS_SM, "sm")


def test_enableWithResumption():
    """<enable resume='true'/> gets <enabled/> with an id, resume='true' and max."""
    h = smHarness(timeout=300)
    enabled = enable(h, h.alice)
    assert enabled["resume"] == "true"
    assert len(enabled["id"]) >= 16
    assert enabled["max"] == "300"
    assert h.alice.management.resumable


def test_enableHonoursSmallerMax():
    """A client's max below the configured timeout is used; a larger one is capped."""
    h = smHarness(timeout=300)
    assert enable(h, h.alice, " resume='1' max='60'")["max"] == "60"
    other = bindResumable(h, "tablet")
    h.take(other)
    assert enable(h, other, " resume='true' max='100000'")["max"] == "300"


def test_enableWithoutResume():
    """Without resume the session gets acks only: no id, and it is not resumable."""
    h = smHarness()
    enabled = enable(h, h.alice, "")
    assert enabled.getAttribute("id") is None and enabled.getAttribute("resume") is None
    assert not h.alice.management.resumable


def test_resumptionOffWithZeroTimeout():
    """With resumption_timeout 0 a request for resumption gets acks only."""
    h = smHarness(timeout=0)
    assert enable(h, h.alice).getAttribute("resume") is None


def test_framingWithoutResumption():
    """A stream whose framing cannot resume (BOSH) gets acks only."""
    h = smHarness()
    h.alice.stream.resumable = False
    assert enable(h, h.alice).getAttribute("id") is None


def test_enableTwice():
    """A second <enable/> gets <failed/> with unexpected-request; the first state stays."""
    h = smHarness()
    enable(h, h.alice)
    state = h.alice.management
    assert nonza(h, h.alice, "<enable resume='true'/>")
    [failed] = h.take(h.alice)
    assert failed.name == "failed"
    assert next(failed.elements(NS_XMPP_STANZAS, "unexpected-request"), None) is not None
    assert h.alice.management is state


def test_requestAnsweredWithHandled():
    """<r/> is answered with <a h/> carrying the count of stanzas the client sent."""
    h = smHarness()
    enable(h, h.alice)
    for _ in range(3):
        h.alice.management.countHandled()
    assert nonza(h, h.alice, "<r/>")
    [a] = h.take(h.alice)
    assert (a.name, a["h"]) == ("a", "3")


class PendingArchive(Handler):
    """An archive whose writes finish only when the test says so."""

    handlerName = "mam"

    def __init__(self):
        self.pending = defer.Deferred()

    def committed(self):
        return self.pending


def test_requestAnsweredOnceArchived():
    """<a h/> waits for the archive's writes: an acknowledged message survives a crash."""
    h = smHarness()
    archive = h.sm.addHandler(PendingArchive())
    enable(h, h.alice)
    h.alice.management.countHandled()
    assert nonza(h, h.alice, "<r/>")
    h.alice.management.countHandled()  # handled after the request: not in this answer
    assert h.take(h.alice) == []
    archive.pending.callback(None)
    [a] = h.take(h.alice)
    assert (a.name, a["h"]) == ("a", "1")


def test_otherNonzasAreLeft():
    """Elements of other namespaces are not taken."""
    h = smHarness()
    assert not h.sm.nonza(h.alice, parse("<r xmlns='urn:example'/>", "urn:example"))


def test_writtenStanzasCountedAndAckRequestedOncePerBurst():
    """Stanzas written are kept; after a burst one <r/> follows, and no other until an <a/>."""
    h = smHarness()
    enable(h, h.alice)
    chat(h, "one")
    chat(h, "two")
    h.clock.advance(0)
    out = h.take(h.alice)
    assert [e.name for e in out] == ["message", "message", "r"]
    assert h.alice.management.sent == 2
    chat(h, "three")
    h.clock.advance(0)
    assert [e.name for e in h.take(h.alice)] == ["message"]
    assert nonza(h, h.alice, "<a h='2'/>")
    assert [textOf(s) for s in h.alice.management.stanzas()] == ["three"]
    chat(h, "four")
    h.clock.advance(0)
    assert [e.name for e in h.take(h.alice)] == ["message", "r"]


def test_ackTooHighEndsStream():
    """An <a/> acknowledging more than was sent is an undefined-condition stream error."""
    h = smHarness()
    enable(h, h.alice)
    chat(h, "one")
    h.take(h.alice)
    assert nonza(h, h.alice, "<a h='5'/>")
    [error] = h.take(h.alice)
    assert (error.uri, error.name) == (NS_STREAMS, "error")
    assert "undefined-condition" in [c.name for c in error.elements()]
    [detail] = [c for c in error.elements() if c.name == "handled-count-too-high"]
    assert (detail.uri, detail["h"], detail["send-count"]) == (NS_SM, "5", "1")
    assert h.alice.stream.closing


def test_detachedSessionStaysAvailableAndKeeps():
    """A detached session stays bound and available; what it is sent is kept, not written."""
    h = smHarness()
    enable(h, h.alice)
    old = h.alice.stream
    assert h.sm.detachSession(h.alice)
    assert h.hooks.calls == [("detached", ALICE + "/phone", True)]
    assert h.sm.session(ALICE + "/phone") is h.alice and h.alice.available
    chat(h, "while away")
    assert not old.sent
    assert [textOf(s) for s in h.alice.management.stanzas()] == ["while away"]
    assert not presences(h.take(h.bob), "unavailable")


def test_notResumableIsNotDetached():
    """A session without resumption is not detached (the stream unbinds it)."""
    h = smHarness()
    enable(h, h.alice, "")
    assert not h.sm.detachSession(h.alice)
    assert not h.alice.detached


def test_expiryEndsSessionAndStoresUnacked():
    """After the timeout the session ends: contacts see unavailable, unacked chat goes offline."""
    h = smHarness(timeout=300)
    enable(h, h.alice)
    chat(h, "before")
    h.clock.advance(0)
    h.sm.detachSession(h.alice)
    chat(h, "during")
    h.clock.advance(299)
    assert not presences(h.take(h.bob), "unavailable")
    assert not h.stored
    h.clock.advance(1)
    assert h.sm.session(ALICE + "/phone") is None
    assert presences(h.take(h.bob), "unavailable", sender=ALICE + "/phone")
    assert [textOf(s) for s in h.stored] == ["before", "during"]
    assert h.alice.management is None


def test_storeRefusesThenBounce():
    """An unacked chat message the offline store refuses goes back to its sender."""
    h = smHarness(offline=lambda s: defer.succeed(False))
    enable(h, h.alice)
    chat(h, "lost?", sender="carol@remote.example/x")
    h.sm.detachSession(h.alice)
    h.routed()
    h.clock.advance(300)
    bounced = [e for e in h.routed() if e.name == "message"]
    assert [errorCondition(e) for e in bounced] == ["recipient-unavailable"]


def test_unackedToOtherResource():
    """An unacked chat message to the full JID goes to another available resource at the end."""
    h = smHarness()
    desk = h.login("alice", "desk")
    enable(h, h.alice)
    chat(h, "for phone")
    h.take(desk)
    h.sm.detachSession(h.alice)
    h.clock.advance(300)
    assert [textOf(e) for e in h.take(desk) if e.name == "message"] == ["for phone"]
    assert not h.stored


def test_unackedNotRedeliveredToCarbonsResource():
    """A resource with carbons enabled had a copy already: it is not sent the message again."""
    h = smHarness()
    desk = h.login("alice", "desk")
    h.send(desk, "<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
    enable(h, h.alice)
    chat(h, "copied")
    assert len([e for e in h.take(desk) if e.name == "message"]) == 1  # the carbon
    h.sm.detachSession(h.alice)
    h.clock.advance(300)
    assert not [e for e in h.take(desk) if e.name == "message"]
    assert not h.stored


def test_archivedMessageDroppedForArchiveClient():
    """A client that used its archive gets no offline copy of an archived message."""
    h = smHarness()
    enable(h, h.alice)
    h.send(h.alice, f"<iq type='set' id='q'><query xmlns='{NS_MAM}'/></iq>")
    assert h.alice.management.usedArchive
    chat(h, "archived", extra=f"<stanza-id xmlns='{NS_SID}' by='{ALICE}' id='x1'/>")
    chat(h, "not archived")
    h.sm.detachSession(h.alice)
    h.clock.advance(300)
    assert [textOf(s) for s in h.stored] == ["not archived"]


def test_archivedMessageStoredForOtherClients():
    """A client that never queried its archive gets archived messages through offline storage."""
    h = smHarness()
    enable(h, h.alice)
    chat(h, "archived", extra=f"<stanza-id xmlns='{NS_SID}' by='{ALICE}' id='x1'/>")
    h.sm.detachSession(h.alice)
    h.clock.advance(300)
    assert [textOf(s) for s in h.stored] == ["archived"]


def test_unackedIqBouncesPresenceDropped():
    """An unacked iq get bounces with recipient-unavailable; presence and own copies are dropped."""
    h = smHarness()
    enable(h, h.alice)
    h.inbound("<iq type='get' id='v' from='carol@remote.example/x' to='alice@localhost/phone'>"
              "<query xmlns='jabber:iq:version'/></iq>")
    h.inbound("<presence from='bob@localhost/desk' to='alice@localhost/phone'/>")
    h.alice.write(parse(f"<message from='{ALICE}' to='{ALICE}/phone'><body>copy</body></message>"))
    h.sm.detachSession(h.alice)
    h.routed()
    h.clock.advance(300)
    [bounce] = h.routed()
    assert (bounce.name, bounce["type"], errorCondition(bounce)) == (
        "iq", "error", "recipient-unavailable")
    assert not h.stored


def test_resumeResendsUnackedAndAnswersH():
    """<resume/> from a new stream: <resumed h/> then the stanzas after the client's h, in order."""
    h = smHarness()
    enabled = enable(h, h.alice)
    for _ in range(2):
        h.alice.management.countHandled()
    for text in ("1", "2", "3"):
        chat(h, text)
    h.sm.detachSession(h.alice)
    chat(h, "4")
    stream = resume(h, enabled["id"], 1)
    out = stream.sent
    assert (out[0].name, out[0]["previd"], out[0]["h"]) == ("resumed", enabled["id"], "2")
    assert [textOf(e) for e in out[1:] if e.name == "message"] == ["2", "3", "4"]
    assert h.alice.stream is stream and stream.session is h.alice
    assert not h.alice.detached
    assert h.hooks.calls[-1] == ("resumed", ALICE + "/phone", False)
    h.clock.advance(300)  # the expiry was cancelled
    assert h.sm.session(ALICE + "/phone") is h.alice
    chat(h, "5")
    assert textOf(stream.sent[-1]) == "5"


def test_resumeReplacesOpenStream():
    """Resuming while the old stream is still open closes it with conflict; hooks still pair."""
    h = smHarness()
    enabled = enable(h, h.alice)
    old = h.alice.stream
    stream = resume(h, enabled["id"], 0)
    assert old.closed == ("conflict", "Replaced by a resumed stream")
    assert old.session is None
    assert stream.sent[0].name == "resumed"
    assert [c[0] for c in h.hooks.calls] == ["detached", "resumed"]


def test_resumeUnknownId():
    """An unknown SM-ID gets <failed/> with item-not-found."""
    h = smHarness()
    stream = resume(h, "nonsense", 0)
    [failed] = stream.sent
    assert failed.name == "failed"
    assert next(failed.elements(NS_XMPP_STANZAS, "item-not-found"), None) is not None
    assert stream.session is None


def test_resumeOtherUsersSession():
    """bob cannot resume alice's session, even with its SM-ID."""
    h = smHarness()
    enabled = enable(h, h.alice)
    h.sm.detachSession(h.alice)
    thief = ResumableStream()
    thief.username = "bob"
    resume(h, enabled["id"], 0, thief)
    [failed] = thief.sent
    assert next(failed.elements(NS_XMPP_STANZAS, "item-not-found"), None) is not None
    assert h.alice.detached and thief.session is None


def test_resumeExpired():
    """Once the timeout ended the session, its SM-ID is unknown."""
    h = smHarness()
    enabled = enable(h, h.alice)
    h.sm.detachSession(h.alice)
    h.clock.advance(300)
    [failed] = resume(h, enabled["id"], 0).sent
    assert next(failed.elements(NS_XMPP_STANZAS, "item-not-found"), None) is not None


def test_resumeWithTooHighH():
    """An h above what was sent: <failed h/> with undefined-condition, and the session ends."""
    h = smHarness()
    enabled = enable(h, h.alice)
    h.alice.management.countHandled()
    chat(h, "only one")
    h.sm.detachSession(h.alice)
    [failed] = resume(h, enabled["id"], 7).sent
    assert (failed.name, failed["h"]) == ("failed", "1")
    assert next(failed.elements(NS_XMPP_STANZAS, "undefined-condition"), None) is not None
    assert h.sm.session(ALICE + "/phone") is None
    assert [textOf(s) for s in h.stored] == ["only one"]


def test_resumeWithBadH():
    """A missing or malformed h gets <failed/> with bad-request; the session still waits."""
    h = smHarness()
    enabled = enable(h, h.alice)
    h.sm.detachSession(h.alice)
    stream = ResumableStream()
    h.handler.resume(stream, parse(f"<resume previd='{enabled['id']}'/>", NS_SM))
    assert next(stream.sent[0].elements(NS_XMPP_STANZAS, "bad-request"), None) is not None
    assert h.alice.detached


def test_queueBoundEndsDetachedSession():
    """Past resumption_max_queue a detached session ends for good; the stanzas go offline."""
    h = smHarness(maxQueue=2)
    enable(h, h.alice)
    h.sm.detachSession(h.alice)
    for text in ("a", "b", "c"):
        chat(h, text)
    h.clock.advance(0)
    assert h.sm.session(ALICE + "/phone") is None
    assert [textOf(s) for s in h.stored] == ["a", "b", "c"]


def test_queueBoundClosesLiveStream():
    """Past the bound a connected client that does not ack gets policy-violation."""
    h = smHarness(maxQueue=2)
    enable(h, h.alice)
    for text in ("a", "b", "c"):
        chat(h, text)
    h.clock.advance(0)
    assert h.alice.stream.closed == ("policy-violation", "too many unacknowledged stanzas")


def test_closingDetachedSessionEndsIt():
    """Closing a detached session (a new login with its resource) ends it for good."""
    h = smHarness()
    enable(h, h.alice)
    h.sm.detachSession(h.alice)
    chat(h, "kept")
    h.bind("alice", "phone")
    assert not h.alice.active
    assert [textOf(s) for s in h.stored] == ["kept"]


def delays(message):
    return [(d.getAttribute("from"), d.getAttribute("stamp"))
            for d in message.elements(NS_DELAY, "delay")]


def test_resentMessagesCarryOriginalTime():
    """Messages resent on resumption carry a delay of when they were first written."""
    h = smHarness()
    enabled = enable(h, h.alice)
    h.clock.advance(1000)
    h.sm.detachSession(h.alice)
    chat(h, "late")
    original = h.alice.management.stanzas()[0]
    h.clock.advance(60)
    stream = resume(h, enabled["id"], 0)
    [message] = [e for e in stream.sent if e.name == "message"]
    assert delays(message) == [("localhost", "1970-01-01T00:16:40.000Z")]
    assert delays(original) == []  # the kept original is not changed


def test_storedMessagesCarryOriginalTime():
    """A message that goes to offline storage at the end carries the time it was first written."""
    h = smHarness()
    enable(h, h.alice)
    h.clock.advance(30)
    chat(h, "first written at 30 s")
    h.sm.detachSession(h.alice)
    h.clock.advance(300)
    [stored] = h.stored
    assert delays(stored) == [("localhost", "1970-01-01T00:00:30.000Z")]


def test_delayedKeepsExistingDelayAndOtherStanzas():
    """A message that has a delay keeps only it; stanzas other than messages get none."""
    message = parse("<message><body>x</body><delay xmlns='urn:xmpp:delay' from='remote' "
                    "stamp='2020-01-01T00:00:00Z'/></message>")
    assert delayed(message, 0, "localhost") is message
    iq = parse("<iq type='get' id='1'/>")
    assert delayed(iq, 0, "localhost") is iq


def test_bareMessageNotRedeliveredToResourceThatHadIt():
    """A bare-JID message unacked by one resource is not sent again to one of the same priority."""
    h = smHarness()
    desk = h.login("alice", "desk")
    enable(h, h.alice)
    chat(h, "to the account", to=ALICE)
    assert [textOf(e) for e in h.take(desk) if e.name == "message"] == ["to the account"]
    h.sm.detachSession(h.alice)
    h.clock.advance(300)
    assert not [e for e in h.take(desk) if e.name == "message"]
    assert not h.stored


def test_bareMessageGoesToLowerPriorityResource():
    """A bare-JID message only the higher-priority resource got goes to the other one at the end."""
    h = smHarness()
    desk = h.login("alice", "desk", priority=0)
    h.send(h.alice, "<presence><priority>5</priority></presence>")
    h.clear()
    enable(h, h.alice)
    chat(h, "to the account", to=ALICE)
    assert not [e for e in h.take(desk) if e.name == "message"]
    h.sm.detachSession(h.alice)
    h.clock.advance(300)
    assert [textOf(e) for e in h.take(desk) if e.name == "message"] == ["to the account"]
