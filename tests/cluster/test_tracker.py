"""Tests for L{jabberd.cluster.tracker}: this node's session changes are announced."""

from jabberd.cluster.directory import SessionDirectory
from jabberd.cluster.tracker import SessionTracker
from tests.sm.helpers import Harness


class Announcer:
    """Stands in for the node: records announcements."""

    def __init__(self, sm):
        self.said = []
        self.directory = SessionDirectory(self, sm, "n1")

    def announce(self, op, **fields):
        self.said.append((op, fields))


def make():
    harness = Harness()
    announcer = Announcer(harness.sm)
    harness.sm.addHandler(SessionTracker(announcer))
    return harness, announcer


def test_bindPresenceRosterAndEnd():
    """Bind, roster request, presence and end are each announced once, in order."""
    harness, announcer = make()
    session = harness.login("alice", "a", priority=2)
    harness.send(session, "<presence type='unavailable'/>")
    harness.sm.unbindSession(session)
    ops = [(op, sorted(fields)) for op, fields in announcer.said]
    assert ops == [("bound", ["at", "full"]), ("update", ["full", "interested"]),
                   ("update", ["full", "presence", "priority"]), ("update", ["full", "presence"]),
                   ("ended", ["full"])]
    assert announcer.said[2][1]["priority"] == 2
    assert announcer.said[3][1]["presence"] is None
    assert session.full not in announcer.directory.boundAt


def test_directedPresenceNotAnnounced():
    """Presence to one address is not a broadcast: nothing is announced."""
    harness, announcer = make()
    session = harness.login("alice", "a")
    announcer.said.clear()
    harness.send(session, "<presence to='bob@localhost'/>")
    harness.send(session, "<iq type='get' id='v'><query xmlns='jabber:iq:version'/></iq>")
    assert announcer.said == []
