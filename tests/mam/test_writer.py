"""Tests for L{jabberd.mam.writer}: group commits in order, and waiting for them."""

from twisted.internet import defer

from jabberd.mam.writer import GroupCommit


class SlowArchive:
    """An archive whose writes finish when the test says so."""

    def __init__(self):
        self.calls = []

    def appendMany(self, entries):
        d = defer.Deferred()
        self.calls.append((list(entries), d))
        return d


def test_writesQueueBehindTheOneUnderWay():
    """While one write is under way, later messages gather into the next, in order."""
    archive = SlowArchive()
    writer = GroupCommit(lambda: archive)
    writer.write("room@c", "m1")
    writer.write("room@c", "m2")
    writer.write("room@c", "m3")
    assert [entries for entries, _ in archive.calls] == [[("room@c", "m1")]]
    archive.calls[0][1].callback(None)
    assert [entries for entries, _ in archive.calls][1] == [("room@c", "m2"), ("room@c", "m3")]


def test_committedWaitsForEarlierWrites():
    """committed() fires only once every write issued before it finished."""
    archive = SlowArchive()
    writer = GroupCommit(lambda: archive)
    assert writer.committed().called
    writer.write("room@c", "m1")
    writer.write("room@c", "m2")
    done = writer.committed()
    archive.calls[0][1].callback(None)
    assert not done.called
    archive.calls[1][1].callback(None)
    assert done.called


def test_aFailedWriteDoesNotStopTheNext():
    """A write that fails is logged and the queue goes on."""
    archive = SlowArchive()
    writer = GroupCommit(lambda: archive)
    writer.write("room@c", "m1")
    writer.write("room@c", "m2")
    archive.calls[0][1].errback(RuntimeError("disk full"))
    assert len(archive.calls) == 2
