"""
Tests for L{jabberd.cluster.handover}: a stream management session
(XEP-0198 section 5) resumed on another node than the one holding it.
"""

from jabberd.ns import NS_CSI, NS_SM
from jabberd.sm.carbons import CarbonsHandler
from jabberd.sm.csi import CSIHandler
from jabberd.sm.streammanagement import StreamManagementHandler
from tests.cluster.helpers import makeCluster
from tests.cluster.test_node import befriend
from tests.sm.helpers import TakeUndeliverable, parse, presences
from tests.sm.test_streammanagement import ResumableStream

ALICE = "alice@localhost/phone"


def managed(*names):
    """Nodes with stream management and carbons; each keeps what goes offline in C{stored}."""
    bus, clock, nodes = makeCluster(*names)
    for h in nodes:
        h.stored = []
        h.sm.addHandler(TakeUndeliverable(lambda s, kept=h.stored: kept.append(s) or True))
        h.sm.addHandler(CarbonsHandler())
        h.csi = h.sm.addHandler(CSIHandler())
        h.handler = h.sm.addHandler(StreamManagementHandler(300, 500, clock=clock))
        h.node.resumeElsewhere()
    return bus, clock, nodes


def resumableAlice(h, bus):
    """alice/phone on node C{h}, available, with resumption enabled; her SM-ID."""
    session = h.bind("alice", "phone")
    session.stream = ResumableStream()
    session.stream.session = session
    h.send(session, "<presence/>")
    h.sm.nonza(session, parse("<enable resume='true'/>", NS_SM))
    bus.flush()
    [enabled] = [e for e in h.take(session) if e.name == "enabled"]
    return session, enabled["id"]


def cut(h, session):
    """The client's connection is lost without </stream> (XEP-0198 section 7)."""
    session.stream.session = None
    assert h.sm.detachSession(session)


def chat(h, sender, text, to=ALICE):
    h.send(sender, f"<message to='{to}' type='chat'><body>{text}</body></message>")


def resume(h, previd, hValue, stream=None):
    stream = stream or ResumableStream()
    h.handler.resume(stream, parse(f"<resume previd='{previd}' h='{hValue}'/>", NS_SM))
    return stream


def bodies(elements):
    return [str(e.body) for e in elements if e.name == "message" and e.body is not None]


def twoNodes():
    """alice/phone resumable on n1, bob/desk on n2, mutual contacts."""
    bus, clock, (n1, n2) = managed("n1", "n2")
    befriend(n1, n2, "alice", "bob")
    bob = n2.login("bob", "desk")
    alice, previd = resumableAlice(n1, bus)
    n2.take(bob)
    return bus, clock, n1, n2, alice, bob, previd


def test_resumeOnOtherNode():
    """A session detached on n1 resumes on n2: <resumed/>, what was missed, and no flap."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    chat(n2, bob, "seen")
    bus.flush()
    assert bodies(n1.take(alice)) == ["seen"]
    for _ in range(3):
        alice.management.countHandled()  # as n1's c2s stream counts what alice sent
    cut(n1, alice)
    chat(n2, bob, "missed")
    bus.flush()
    stream = resume(n2, previd, 1)
    bus.flush()
    resumed, *rest = stream.sent
    assert (resumed.name, resumed["previd"], resumed["h"]) == ("resumed", previd, "3")
    assert bodies(rest) == ["missed"]
    assert presences(n2.take(bob), "unavailable") == []
    moved = n2.sm.session(ALICE)
    assert not moved.remote and moved.stream is stream and moved.available
    assert n1.sm.session(ALICE).remote and n1.sm.session(ALICE).node == "n2"
    assert n1.stored == [] and n2.stored == []
    stream.sent.clear()
    chat(n2, bob, "again")
    n2.send(moved, "<message to='bob@localhost/desk' type='chat'><body>back</body></message>")
    bus.flush()
    assert bodies(stream.sent) == ["again"] and bodies(n2.take(bob)) == ["back"]


def test_resumedSessionResumesAgainOnFirstNode():
    """The same SM-ID resumes the session again after it moved: the directory finds it."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    cut(n1, alice)
    stream = resume(n2, previd, 0)
    bus.flush()
    cut(n2, n2.sm.session(ALICE))
    chat(n2, bob, "second")
    bus.flush()
    again = resume(n1, previd, 0)
    bus.flush()
    assert again.sent[0].name == "resumed" and bodies(again.sent) == ["second"]
    assert not n1.sm.session(ALICE).remote and n2.sm.session(ALICE).node == "n1"


def test_openOldStreamGetsConflict():
    """An old stream still open on n1 gets a conflict stream error when n2 takes the session."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    old = alice.stream
    stream = resume(n2, previd, 0)
    bus.flush()
    assert old.closed[0] == "conflict"
    assert stream.sent[0].name == "resumed"
    assert presences(n2.take(bob), "unavailable") == []


def test_messageRacingTheHandoverIsForwardedOnce():
    """A message a third node sent to n1 as the session moved reaches it on n2, once."""
    bus, clock, (n1, n2, n3) = managed("n1", "n2", "n3")
    carol = n3.login("bob", "desk")
    alice, previd = resumableAlice(n1, bus)
    n3.take(carol)
    cut(n1, alice)
    stream = resume(n2, previd, 0)
    chat(n3, carol, "racing")  # n3 still thinks alice is on n1
    bus.flush()
    assert bodies(stream.sent) == ["racing"]
    assert n1.stored == n2.stored == n3.stored == []
    assert n3.sm.session(ALICE).node == "n2"
    stream.sent.clear()
    chat(n3, carol, "direct")
    bus.flush()
    assert bodies(stream.sent) == ["direct"] and n1.node.counters["relayed"] == 0


def test_twoResumesAtOnce():
    """Two resumptions of one SM-ID at once: one gets <resumed/>, the other item-not-found."""
    bus, clock, (n1, n2, n3) = managed("n1", "n2", "n3")
    alice, previd = resumableAlice(n1, bus)
    cut(n1, alice)
    first, second = resume(n2, previd, 0), resume(n3, previd, 0)
    bus.flush()
    [a], [b] = first.sent, second.sent
    assert a.name == "resumed"
    assert b.name == "failed" and b.firstChildElement().name == "item-not-found"
    assert n3.sm.session(ALICE).node == "n2"


def test_otherAccountsIdIsNotFound():
    """An SM-ID resumed by another account gets item-not-found and leaves the session alone."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    cut(n1, alice)
    thief = ResumableStream()
    thief.username = "bob"
    resume(n2, previd, 0, thief)
    bus.flush()
    [answer] = thief.sent
    assert answer.name == "failed" and answer.firstChildElement().name == "item-not-found"
    assert n1.sm.session(ALICE).detached and previd in n1.handler.resumable


def test_handledCountTooHighEndsSession():
    """An 'h' above what n1 sent gets <failed h/> with undefined-condition; the session ends."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    cut(n1, alice)
    stream = resume(n2, previd, 5)
    bus.flush()
    [answer] = stream.sent
    assert (answer.name, answer["h"]) == ("failed", "0")
    assert answer.firstChildElement().name == "undefined-condition"
    assert n1.sm.session(ALICE) is None and n2.sm.session(ALICE) is None
    assert len(presences(n2.take(bob), "unavailable")) == 1


def test_silentNodeTimesOut():
    """A node that does not answer (killed, not yet declared dead): item-not-found in time."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    cut(n1, alice)
    n1.node.link.unsubscribeAll()
    stream = resume(n2, previd, 0)
    bus.flush()
    assert stream.sent == []
    clock.advance(n2.node.config.handoverTimeout)
    [answer] = stream.sent
    assert answer.name == "failed" and answer.firstChildElement().name == "item-not-found"
    assert n2.node.handover.requests == {}


def test_deadNodeItemNotFoundAndOffline():
    """After n1 died, resuming on n2 fails at once; what alice never acknowledged is offline."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    cut(n1, alice)
    chat(n2, bob, "unacked")
    bus.flush()
    n1.node.link.unsubscribeAll()
    n1.node._loops[0].stop()
    for _ in range(5):
        clock.advance(1)
        bus.flush()
    stream = resume(n2, previd, 0)
    [answer] = stream.sent
    assert answer.name == "failed" and answer.firstChildElement().name == "item-not-found"
    assert bodies(n2.stored) == ["unacked"]


def test_lateAnswerEndsTheSession():
    """A handover answered after the timeout: the session ends, its messages go offline."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    cut(n1, alice)
    chat(n2, bob, "late")
    bus.flush()
    stream = resume(n2, previd, 0)
    clock.advance(n2.node.config.handoverTimeout)  # before the bus carries anything
    bus.flush()
    [answer] = stream.sent
    assert answer.name == "failed"
    assert n1.sm.session(ALICE) is None and n2.sm.session(ALICE) is None
    assert bodies(n2.stored) == ["late"]
    assert len(presences(n2.take(bob), "unavailable", sender=ALICE)) == 1


def test_whatCsiHeldMovesWithTheSession():
    """Presence CSI held for an inactive session on n1 is written on n2 after <resumed/>."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    n1.sm.nonza(alice, parse("<inactive/>", NS_CSI))
    n2.send(bob, "<presence><show>away</show></presence>")
    bus.flush()
    assert n1.take(alice) == []
    cut(n1, alice)
    stream = resume(n2, previd, 0)
    bus.flush()
    resumed, *rest = stream.sent
    assert resumed.name == "resumed"
    assert [p.getAttribute("from") for p in presences(rest)] == ["bob@localhost/desk"]
    assert n2.csi.isInactive(n2.sm.session(ALICE)) is False


def test_repeatedResumeWhileAskingIsRefused():
    """A second <resume/> on a stream still waiting gets unexpected-request; the first goes on."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    cut(n1, alice)
    stream = resume(n2, previd, 0)
    resume(n2, previd, 0, stream)
    [refused] = stream.sent
    assert refused.name == "failed" and refused.firstChildElement().name == "unexpected-request"
    bus.flush()
    assert stream.sent[1].name == "resumed" and n2.node.handover.asking == set()


def test_clientGoneBeforeTheAnswer():
    """The resuming client leaves before n1 answers: the session ends, its messages go offline."""
    bus, clock, n1, n2, alice, bob, previd = twoNodes()
    cut(n1, alice)
    chat(n2, bob, "nobody")
    bus.flush()
    stream = resume(n2, previd, 0)
    stream.closing = True  # its connection was lost
    bus.flush()
    assert stream.sent == [] and n2.sm.session(ALICE) is None and n1.sm.session(ALICE) is None
    assert bodies(n2.stored) == ["nobody"]
