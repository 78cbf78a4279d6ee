"""
Tests for components.conference.history: the XEP-0045 section 7.2.15
history limits.
"""

from twisted.words.xish import domish

from components.conference.history import History, HistoryRequest


def message(text):
    element = domish.Element((None, "message"))
    element.addElement("body", content=text)
    return element


def filled(count, start=1000.0):
    history = History(50)
    for i in range(count):
        history.add(message(f"m{i}"), stamp=start + i)
    return history


def bodies(entries):
    return [str(next(e.stanza.elements())) for e in entries]


def test_keepsOnlyTheLastMessages():
    """The history is bounded; the oldest messages go first."""
    history = History(3)
    for i in range(5):
        history.add(message(f"m{i}"), stamp=float(i))
    assert bodies(history.select(HistoryRequest(), 10)) == ["m2", "m3", "m4"]


def test_maxstanzasAndRoomLimit():
    """maxstanzas picks the newest messages, never more than the room's limit."""
    history = filled(10)
    assert bodies(history.select(HistoryRequest(maxstanzas=2), 20)) == ["m8", "m9"]
    assert len(history.select(HistoryRequest(maxstanzas=100), 4)) == 4
    assert history.select(HistoryRequest(maxstanzas=0), 20) == []


def test_maxchars():
    """maxchars counts whole serialised stanzas; zero means no history."""
    history = filled(5)
    size = len(message("m0").toXml())
    assert len(history.select(HistoryRequest(maxchars=size * 2), 20)) == 2
    assert history.select(HistoryRequest(maxchars=0), 20) == []


def test_secondsAndSince():
    """seconds and since select messages no older than the limit."""
    history = filled(10, start=1000.0)
    assert bodies(history.select(HistoryRequest(seconds=2), 20, now=1009.5)) == ["m8", "m9"]
    assert bodies(history.select(HistoryRequest(since=1007.0), 20)) == ["m7", "m8", "m9"]
