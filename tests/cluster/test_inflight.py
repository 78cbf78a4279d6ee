"""Tests for L{jabberd.cluster.inflight}: messages kept until their node confirms them."""

from twisted.internet.task import Clock
from twisted.words.protocols.jabber.jid import JID

from jabberd.cluster.inflight import InFlight, keepsForRetry
from jabberd.sm.acks import AckState
from jabberd.sm.session import Session
from jabberd.sm.streammanagement import StreamManagementHandler
from tests.sm.helpers import FakeStream, parse


def message(body, kind="chat"):
    return parse(f"<message type='{kind}' to='bob@localhost/b'><body>{body}</body></message>")


def test_numberedPerDestination():
    """Each destination has its own numbering, from 1."""
    flight = InFlight(10)
    assert [flight.sent("n2", message("a")), flight.sent("n3", message("b")),
            flight.sent("n2", message("c"))] == [1, 1, 2]


def test_confirmedAreForgotten():
    """What the destination confirmed is not lost with it; the rest is, oldest first."""
    flight = InFlight(10)
    for body in "abc":
        flight.sent("n2", message(body))
    flight.confirmed("n2", 1)
    assert flight.pending("n2") == 2
    assert [str(m.body) for m in flight.lost("n2")] == ["b", "c"]
    assert flight.sent("n2", message("d")) == 4  # numbering goes on


def test_staleConfirmationAfterPartitionCoversNothingNew():
    """A node found dead that never found us dead confirms its old count: nothing sent since."""
    flight = InFlight(10)
    for body in "ab":
        flight.sent("n2", message(body))
    flight.lost("n2")  # n2 was silent too long; it is back, still counting 2 from us
    flight.sent("n2", message("new"))
    flight.confirmed("n2", 2)
    assert [str(m.body) for m in flight.lost("n2")] == ["new"]


def test_onlyOfflineKindsKept():
    """Presence, iqs, headlines and groupchat are numbered but not kept for a retry."""
    flight = InFlight(10)
    for stanza in (parse("<presence/>"), parse("<iq type='get'/>"), message("h", "headline"),
                   message("g", "groupchat"), message("n", "normal")):
        flight.sent("n2", stanza)
    assert [str(m.body) for m in flight.lost("n2")] == ["n"]
    assert keepsForRetry(parse("<message><body>x</body></message>"))


def test_limitDropsOldest():
    """Past the limit the oldest unconfirmed message is no longer kept."""
    flight = InFlight(2)
    for body in "abc":
        flight.sent("n2", message(body))
    assert [str(m.body) for m in flight.lost("n2")] == ["b", "c"]


def test_handledKeepsHighest():
    """The receiving side reports the highest number handled per sender."""
    flight = InFlight(2)
    flight.handled("n1", 3)
    flight.handled("n1", 2)
    flight.handled("n1", "junk")
    assert flight.received == {"n1": 3}


def managedSession():
    """A session with stream management (XEP-0198) enabled, on a clock of its own."""
    session = Session(FakeStream(), JID("bob@localhost/b"))
    handler = StreamManagementHandler(clock=Clock())
    handler.queued = lambda management: None  # no <r/> timer in this test
    session.management = AckState(session, handler)
    return session


def test_confirmedOnlyOnceTheClientAcknowledges():
    """A message written to a stream-managed session is confirmed when the client's <a h/> covers it."""
    flight = InFlight(10)
    session = managedSession()
    for seq in (1, 2, 3):
        session.write(message(str(seq)))
        flight.handled("n1", seq, session)
    assert flight.confirmable() == {"n1": 0}
    session.management.ack(2)
    assert flight.confirmable() == {"n1": 2}
    session.management.ack(3)
    assert flight.confirmable() == {"n1": 3}


def test_endedSessionSettlesItsMessages():
    """A session that ended handed its unacknowledged stanzas on: they are confirmed."""
    flight = InFlight(10)
    session = managedSession()
    session.write(message("x"))
    flight.handled("n1", 1, session)
    flight.handled("n1", 2)  # to a session without stream management
    assert flight.confirmable() == {"n1": 0}
    session.active = False
    assert flight.confirmable() == {"n1": 2}


def test_slowClientHoldsConfirmationNotMemory():
    """Behind an unacknowledged message, acknowledged ones are forgotten; at most the limit is kept."""
    flight = InFlight(3)
    slow, quick = managedSession(), managedSession()
    slow.write(message("slow"))
    flight.handled("n1", 1, slow)
    for seq in (2, 3):
        quick.write(message(str(seq)))
        flight.handled("n1", seq, quick)
    quick.management.ack(2)
    assert flight.confirmable() == {"n1": 0} and len(flight._awaiting["n1"]) == 1
    for seq in (4, 5, 6, 7):
        quick.write(message(str(seq)))
        flight.handled("n1", seq, quick)
    assert len(flight._awaiting["n1"]) == 3 and flight.confirmable() == {"n1": 4}
