"""Tests for L{jabberd.cluster.rosters}: a node's roster store keeps no copy."""

from jabberd.cluster.rosters import SharedRoster
from jabberd.storage import RosterItem
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import result


def test_readsSeeWritesMadeElsewhere():
    """A write straight to the shared store (another node) is seen at the next read, pinned or not."""
    storage = MemoryStorage()
    roster = SharedRoster(storage.roster)
    roster.pin("alice")
    assert result(roster.items("alice")) == []
    result(storage.roster.set("alice", RosterItem("bob@localhost", "", "both", "", False, [])))
    assert [i.jid for i in result(roster.items("alice"))] == ["bob@localhost"]
    roster.unpin("alice")
    roster.forget("alice")
    assert result(roster.item("alice", "bob@localhost")).subscription == "both"
