"""Tests for L{jabberd.cluster.membership}: who is alive."""

from twisted.internet.task import Clock

from jabberd.cluster.membership import Membership


def make():
    clock = Clock()
    deaths = []
    return Membership("n2", 3.0, deaths.append, clock), clock, deaths


def test_heardOnceIsNew():
    """A node's first message is news; later ones from the same process are not."""
    members, _, _ = make()
    assert members.heard("n1", "a")
    assert not members.heard("n1", "a")
    assert members.alive() == ["n1", "n2"]


def test_ownMessagesIgnored():
    """This node is never a member of its own list."""
    members, _, _ = make()
    assert not members.heard("n2", "x")
    assert members.members == {}


def test_silentNodeDies():
    """A node silent for longer than deadAfter is declared dead once."""
    members, clock, deaths = make()
    members.heard("n1", "a")
    clock.advance(2.0)
    members.check()
    assert deaths == []
    clock.advance(1.5)
    members.check()
    members.check()
    assert deaths == ["n1"] and members.alive() == ["n2"]


def test_restartIsDeathOfTheOldProcess():
    """A new process under a known name means the old one is gone."""
    members, _, deaths = make()
    members.heard("n1", "a")
    assert members.heard("n1", "b")
    assert deaths == ["n1"] and members.alive() == ["n1", "n2"]


def test_leftNodeIsNotDead():
    """A node that said bye is forgotten without a death."""
    members, clock, deaths = make()
    members.heard("n1", "a")
    members.left("n1", "a")
    clock.advance(10)
    members.check()
    assert deaths == [] and members.alive() == ["n2"]


def test_reaperIsFirstByName():
    """The first alive node by name acts for the dead."""
    members, _, _ = make()
    assert members.isReaper()
    members.heard("n1", "a")
    assert not members.isReaper()
    members.heard("n3", "c")
    assert not members.isReaper()
