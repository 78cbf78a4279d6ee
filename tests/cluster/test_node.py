"""
Tests for L{jabberd.cluster.node}: session managers of two or three nodes
on an in-memory bus deliver to each other's sessions, resolve a resource
bound twice, and act for a node that died.
"""

import pytest

from jabberd.cluster.wire import encode
from tests.cluster.helpers import makeCluster
from tests.sm.helpers import TakeUndeliverable, presences


def befriend(a, b, user, contact):
    """A mutual subscription in the shared roster store."""
    a.setItem(user, contact + "@localhost", "both")
    a.setItem(contact, user + "@localhost", "both")


def aliceAndBob(friends=False):
    """Nodes n1 and n2 with alice/a logged in on n1 and bob/b on n2, all delivered and taken."""
    bus, clock, (n1, n2) = makeCluster("n1", "n2")
    if friends:
        befriend(n1, n2, "alice", "bob")
    alice = n1.login("alice", "a")
    bob = n2.login("bob", "b")
    bus.flush()
    n1.take(alice), n2.take(bob)
    return bus, clock, n1, n2, alice, bob


def test_messageToFullJIDOnOtherNode():
    """A message to a full JID bound on another node is delivered there, once."""
    bus, _, n1, n2, alice, bob = aliceAndBob()
    n1.send(alice, "<message to='bob@localhost/b' type='chat'><body>hi</body></message>")
    bus.flush()
    [got] = n2.take(bob)
    assert (got.name, got["from"], str(got.body)) == ("message", "alice@localhost/a", "hi")


def test_bareMessageGoesToHighestPriorityAnywhere():
    """A bare-JID message goes to the highest-priority resource, whichever node holds it."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    low = n1.login("bob", "low", priority=1)
    high = n2.login("bob", "high", priority=9)
    alice = n1.login("alice", "a")
    bus.flush()
    for h, s in ((n1, low), (n2, high), (n1, alice)):
        h.take(s)
    n1.send(alice, "<message to='bob@localhost' type='chat'><body>x</body></message>")
    bus.flush()
    assert n1.take(low) == [] and len(n2.take(high)) == 1


def test_ownResourcesSeeEachOtherOnce():
    """Two resources becoming available on two nodes at once each get the other's presence once."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    home = n1.login("bob", "home", available=False)
    work = n2.login("bob", "work", available=False)
    n1.send(home, "<presence/>")
    n2.send(work, "<presence/>")  # before either node heard of the other's presence
    bus.flush()
    assert len(presences(n1.take(home), sender="bob@localhost/work")) == 1
    assert len(presences(n2.take(work), sender="bob@localhost/home")) == 1


def test_contactSeesPresenceAcrossNodes():
    """A contact on another node gets initial and unavailable presence."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    befriend(n1, n2, "alice", "bob")
    alice = n1.login("alice", "a")
    bus.flush()
    n1.take(alice)
    bob = n2.login("bob", "b")
    bus.flush()
    assert presences(n1.take(alice), sender="bob@localhost/b")
    n2.sm.unbindSession(bob)
    bus.flush()
    assert presences(n1.take(alice), "unavailable", sender="bob@localhost/b")


def test_laterBindWinsClusterWide():
    """A resource bound on two nodes: the earlier session ends with conflict, on its node."""
    bus, clock, (n1, n2) = makeCluster("n1", "n2")
    earlier = n1.bind("bob", "same")
    later = n2.bind("bob", "same")
    bus.flush()
    assert earlier.stream.closed[0] == "conflict"
    assert later.stream.closed is None
    assert n1.sm.session("bob@localhost/same").node == "n2"


def test_stanzaForEndedSessionGoesOffline():
    """A message that reaches a node after its session ended is offered to offline storage."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    stored = []
    n2.sm.addHandler(TakeUndeliverable(lambda stanza: stored.append(stanza) or True))
    alice = n1.login("alice", "a")
    bob = n2.login("bob", "b")
    bus.flush()
    n1.send(alice, "<message to='bob@localhost/b' type='chat'><body>late</body></message>")
    n2.sm.unbindSession(bob)  # ends before the message arrives
    bus.flush()
    assert [str(m.body) for m in stored] == ["late"]
    assert n2.node.counters["relayed"] == 1


def test_deadNodesSessionsGoUnavailable():
    """When a node stops beating, contacts get its users' unavailable presence from one node."""
    bus, clock, (n1, n2, n3) = makeCluster("n1", "n2", "n3")
    befriend(n1, n3, "alice", "bob")
    alice = n2.login("alice", "a")
    n3.login("bob", "b")
    for _ in range(3):
        clock.advance(1)
        bus.flush()
    n2.take(alice)
    n3.node.link.unsubscribeAll()
    n3.node.stopService = None  # killed: says nothing more
    n3.node._loops[0].stop()
    for _ in range(5):
        clock.advance(1)
        bus.flush()
    gone = presences(n2.take(alice), "unavailable", sender="bob@localhost/b")
    assert len(gone) == 1
    assert n1.sm.session("bob@localhost/b") is None and n2.sm.session("bob@localhost/b") is None
    assert (n1.node.counters["reaped"], n2.node.counters["reaped"]) == (1, 0)
    assert n1.node.membership.alive() == ["n1", "n2"]


def test_restartedNodeRejoins():
    """A node that comes back under its name is heard anew; its old sessions are gone."""
    bus, clock, (n1, n2) = makeCluster("n1", "n2")
    n2.bind("bob", "b")
    bus.flush()
    assert n1.sm.session("bob@localhost/b") is not None
    n2.node.instance = "new-process"
    n2.node.announce("hello")
    bus.flush()
    assert n1.sm.session("bob@localhost/b") is None
    assert n1.node.membership.members["n2"].instance == "new-process"


def test_cleanStopForgetsNode():
    """A node that stops says bye: the others drop it without reaping."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    n2.node.stopService()
    bus.flush()
    assert n1.node.membership.alive() == ["n1"] and n1.node.counters["reaped"] == 0


def test_joiningNodeLearnsSessions():
    """A node that starts later is told the sessions already bound, with their presence."""
    from tests.cluster.helpers import makeNode

    bus, clock, (n1,) = makeCluster("n1")
    n1.login("bob", "b", priority=3)
    bus.flush()
    n2 = makeNode("n2", bus, clock, storage=n1.storage)
    bus.flush()
    remote = n2.sm.session("bob@localhost/b")
    assert remote.node == "n1" and remote.available and remote.priority == 3


def test_unreadableMessageCounted():
    """A message that is not JSON, or names an unknown full JID shape, is counted and dropped."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    for data in (b"junk", encode("bound", "n2", instance=n2.node.instance, full="nojid")):
        bus.queue.append(("test.dir", data))
    bus.flush()
    assert n1.node.counters["unreadable"] == 2


def test_status():
    """The status names the nodes alive and the sessions each holds."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    n1.bind("alice", "a")
    n2.bind("bob", "b")
    n2.bind("bob", "c")
    bus.flush()
    status = n1.node.status()
    assert status["alive"] == ["n1", "n2"]
    assert status["sessions"] == {"n1": 1, "n2": 2}


def test_unconfirmedMessagesGoOfflineWhenNodeDies():
    """Messages sent to a node that died before confirming them go to offline storage, once."""
    bus, clock, (n1, n2) = makeCluster("n1", "n2")
    stored = []
    n1.sm.addHandler(TakeUndeliverable(lambda stanza: stored.append(str(stanza.body)) or True))
    alice = n1.login("alice", "a")
    n2.login("bob", "b")
    bus.flush()
    n1.send(alice, "<message to='bob@localhost/b' type='chat'><body>confirmed</body></message>")
    bus.flush()
    clock.advance(1)  # n2's heartbeat confirms it
    bus.flush()
    n1.send(alice, "<message to='bob@localhost/b' type='chat'><body>lost</body></message>")
    bus.drop()  # n2 is killed with the message in flight
    n2.node.link.unsubscribeAll()
    n2.node._loops[0].stop()
    for _ in range(5):
        clock.advance(1)
        bus.flush()
    assert stored == ["lost"]
    assert n1.node.counters["retried"] == 1


def test_cleanStopConfirmsWhatItHandled():
    """A node that stops confirms what it handled in its bye: nothing is retried twice."""
    bus, clock, (n1, n2) = makeCluster("n1", "n2")
    stored = []
    n1.sm.addHandler(TakeUndeliverable(lambda stanza: stored.append(stanza) or True))
    alice = n1.login("alice", "a")
    n2.login("bob", "b")
    bus.flush()
    n1.send(alice, "<message to='bob@localhost/b' type='chat'><body>x</body></message>")
    bus.flush()
    n2.node.stopService()
    bus.flush()
    assert stored == [] and n1.node.inFlight.pending("n2") == 0


def test_replacedSessionEndsWithItsHooks():
    """A session losing its resource to a later bind elsewhere ends here: contacts see it go."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    befriend(n1, n2, "alice", "bob")
    alice = n2.login("alice", "a")
    earlier = n1.login("bob", "same")
    bus.flush()
    n2.take(alice)
    later = n2.bind("bob", "same")
    bus.flush()
    assert earlier.stream.closed[0] == "conflict" and not earlier.active
    assert presences(n2.take(alice), "unavailable", sender="bob@localhost/same")
    assert n1.node.status()["sessions"] == {"n1": 0, "n2": 2}  # alice's and bob's, on n2
    assert n2.sm.session("bob@localhost/same") is later


def test_partitionedNodesTellTheirUsersWhenHealed():
    """A node cut off and back: each side's users see the other's go, then come back, once."""
    bus, clock, n1, n2, alice, bob = aliceAndBob(friends=True)
    n2.node.link.cut = True
    for _ in range(5):
        clock.advance(1)
        bus.flush()
    assert presences(n1.take(alice), "unavailable", sender="bob@localhost/b")
    assert presences(n2.take(bob), "unavailable", sender="alice@localhost/a")
    n2.node.link.cut = False
    for _ in range(3):
        clock.advance(1)
        bus.flush()
    assert len(presences(n1.take(alice), sender="bob@localhost/b")) == 1
    assert len(presences(n2.take(bob), sender="alice@localhost/a")) == 1
    n1.send(alice, "<message to='bob@localhost/b' type='chat'><body>back</body></message>")
    bus.flush()
    assert [str(m.body) for m in n2.take(bob)] == ["back"]


def test_oneTurnsStanzasLeaveAsOneBatch():
    """Messages sent to one node in one reactor turn leave as one NATS message, in order."""
    bus, _, n1, n2, alice, bob = aliceAndBob()
    for n in range(5):
        n1.send(alice, f"<message to='bob@localhost/b' type='chat'><body>{n}</body></message>")
    published = [subject for subject, _ in bus.queue]
    n1.clock.advance(0)  # the turn ends
    published = [subject for subject, _ in bus.queue[len(published):]]
    assert published == ["test.node.n2"]
    bus.flush()
    assert [str(m.body) for m in n2.take(bob)] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("text, limit", [("x" * 500, 4000), ("\U0001F600" * 500, 8000)])
def test_batchesStayUnderTheMessageLimit(text, limit):
    """
    A turn's messages past half the message size limit leave in several
    batches, none over the limit (text outside ASCII counted by its UTF-8
    size).
    """
    bus, _, n1, n2, alice, bob = aliceAndBob()
    n1.node.config.maxMessage = limit
    for n in range(10):
        n1.send(alice, f"<message to='bob@localhost/b' type='chat'><body>{text}</body></message>")
    n1.clock.advance(0)
    assert all(len(data) <= limit for _, data in bus.queue) and len(bus.queue) > 2
    bus.flush()
    assert len(n2.take(bob)) == 10


def withCarbons(*nodes):
    from jabberd.sm.carbons import CarbonsHandler

    for harness in nodes:
        harness.sm.addHandler(CarbonsHandler())


def carbons(stanzas, direction):
    """The bodies of the carbons (XEP-0280) of C{direction} among C{stanzas}."""
    from jabberd.ns import NS_CARBONS

    found = []
    for stanza in stanzas:
        for wrapper in stanza.elements(NS_CARBONS, direction):
            [forwarded] = list(wrapper.elements())
            [inner] = list(forwarded.elements())
            found.append(str(inner.body))
    return found


def test_carbonsToResourceOnOtherNode():
    """A carbons-enabled resource on another node gets sent and received copies, once each."""
    bus, _, (n1, n2) = makeCluster("n1", "n2")
    withCarbons(n1, n2)
    here = n1.login("alice", "here")
    there = n2.login("alice", "there")
    bob = n1.login("bob", "b")
    for harness, session in ((n1, here), (n2, there)):
        harness.send(session, "<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
    bus.flush()
    n1.take(here), n2.take(there), n1.take(bob)
    n1.send(here, "<message to='bob@localhost/b' type='chat'><body>out</body></message>")
    n1.send(bob, "<message to='alice@localhost/here' type='chat'><body>in</body></message>")
    bus.flush()
    got = n2.take(there)
    assert (carbons(got, "sent"), carbons(got, "received")) == (["out"], ["in"])
    assert all(s["from"] == "alice@localhost" for s in got if s.name == "message")
    n2.send(there, "<iq type='set' id='d'><disable xmlns='urn:xmpp:carbons:2'/></iq>")
    bus.flush()
    n2.take(there)
    n1.send(bob, "<message to='alice@localhost/here' type='chat'><body>again</body></message>")
    bus.flush()
    assert n2.take(there) == []


def test_carbonsStateInSnapshot():
    """A node that joins learns which remote resources enabled carbons."""
    bus, clock, (n1,) = makeCluster("n1")
    withCarbons(n1)
    here = n1.login("alice", "here")
    n1.send(here, "<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
    bus.flush()
    from tests.cluster.helpers import makeNode

    n2 = makeNode("n2", bus, clock, storage=n1.storage)
    withCarbons(n2)
    bus.flush()
    assert set(n2.sm.handler("carbons").enabled["alice@localhost"]) == {"here"}
