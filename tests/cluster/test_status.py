"""Tests for L{jabberd.cluster.status}: the text of C{jabberdctl cluster status}."""

from jabberd.cluster.status import formatStatus


def test_oneLinePerNode():
    """Each node's line shows its own sessions, rooms, components and counters."""
    replies = [{"node": "n1", "alive": ["n1", "n2"], "sessions": {"n1": 3, "n2": 1},
                "rooms": {"n1": 2}, "components": {"echo.localhost": "n1"},
                "counters": {"sent": 10, "received": 7, "relayed": 1, "retried": 0,
                             "reaped": 0}},
               {"node": "n2", "alive": ["n1", "n2"], "sessions": {"n2": 1}, "rooms": {},
                "components": {"echo.localhost": "n1"}, "counters": {}}]
    lines = formatStatus(replies).splitlines()
    assert lines[0].split()[:4] == ["node", "sessions", "rooms", "components"]
    assert lines[1].split() == ["n1", "3", "2", "1", "10", "7", "1", "0", "0", "n1,n2"]
    assert lines[2].split()[:4] == ["n2", "1", "0", "0"]


def test_nobodyAnswered():
    """With no answer the text says so."""
    assert "no node answered" in formatStatus([])
