"""Tests for L{jabberd.cluster.directory}: remote sessions in the session table."""

import pytest

from jabberd.cluster.directory import SessionDirectory
from jabberd.cluster.wire import WireError
from tests.sm.helpers import Harness, presences


class Node:
    """Stands in for the node: remote sessions send nowhere."""

    def toSession(self, session, kind, stanza):
        pass


def make():
    harness = Harness()
    return harness, SessionDirectory(Node(), harness.sm, "n1")


def bound(directory, full, node="n2", at=10.0, **fields):
    directory.bound({"op": "bound", "node": node, "full": full, "at": at, **fields})


def test_boundAddsToTable():
    """A session bound elsewhere is in the table, without any hook running here."""
    harness, directory = make()
    bound(directory, "bob@localhost/b")
    session = harness.sm.session("bob@localhost/b")
    assert session.remote and session.node == "n2"
    assert directory.sessionCount("n2") == 1


@pytest.mark.parametrize("full", ["bob@localhost", "localhost/x", None, 5, "@@/x"])
def test_notAFullJIDRefused(full):
    """Only full JIDs of accounts are taken."""
    _, directory = make()
    with pytest.raises(WireError):
        bound(directory, full)


def test_presenceUpdateReachesOwnResources():
    """A remote resource's presence reaches the user's available resources here."""
    harness, directory = make()
    local = harness.login("bob", "here")
    bound(directory, "bob@localhost/there")
    directory.updated({"node": "n2", "full": "bob@localhost/there", "priority": 4,
                       "presence": "<presence from='bob@localhost/there'/>"})
    remote = harness.sm.session("bob@localhost/there")
    assert remote.available and remote.priority == 4
    assert presences(harness.take(local), sender="bob@localhost/there")
    directory.ended({"node": "n2", "full": "bob@localhost/there"})
    assert presences(harness.take(local), "unavailable", sender="bob@localhost/there")
    assert harness.sm.session("bob@localhost/there") is None


def test_earlierRemoteBindLoses():
    """A remote bind earlier than this node's own session of that resource is ignored."""
    harness, directory = make()
    local = harness.bind("bob", "b")
    directory.boundAt[local.full] = 20.0
    bound(directory, "bob@localhost/b", at=10.0)
    assert harness.sm.session("bob@localhost/b") is local and local.stream.closed is None


def test_laterRemoteBindWins():
    """A remote bind later than this node's session ends the local one with conflict."""
    harness, directory = make()
    local = harness.bind("bob", "b")
    directory.boundAt[local.full] = 5.0
    bound(directory, "bob@localhost/b", at=10.0)
    assert local.stream.closed[0] == "conflict"
    assert harness.sm.session("bob@localhost/b").remote


def test_tieBrokenByNodeName():
    """Two remote binds at the same time: the later node name wins on every node."""
    harness, directory = make()
    bound(directory, "bob@localhost/b", node="n3", at=10.0)
    bound(directory, "bob@localhost/b", node="n2", at=10.0)
    assert harness.sm.session("bob@localhost/b").node == "n3"


def test_dropNodeReturnsAvailable():
    """Dropping a node removes its sessions and returns those that were available."""
    harness, directory = make()
    bound(directory, "bob@localhost/a", presence="<presence/>")
    bound(directory, "bob@localhost/b")
    [gone] = directory.dropNode("n2")
    assert gone.full == "bob@localhost/a"
    assert harness.sm.sessionsOf("bob@localhost") == []
