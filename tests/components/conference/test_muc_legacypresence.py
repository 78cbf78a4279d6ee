"""
Tests for L{components.conference.legacypresence}: presence to a room's bare
address without the MUC extension is kept bounded per room, in all and in size.
"""

from twisted.words.xish import domish

from components.conference.legacypresence import LegacyPresences
from tests.components.conference.muchelpers import ROOM, Conference

OTHER_ROOM = "other@" + ROOM.split("@")[1]


def _status(text):
    status = domish.Element((None, "status"))
    status.addContent(text)
    return status


def test_perRoomBoundDropsOldest():
    """Past the per-room bound the oldest sender's entry gives way."""
    store = LegacyPresences(maxPerRoom=2, maxTotal=100)
    for n in range(3):
        store.put(ROOM, f"u{n}@localhost/r", [_status(str(n))])
    assert store.countFor(ROOM) == 2
    assert (ROOM, "u0@localhost/r") not in store
    assert store.pop((ROOM, "u2@localhost/r"))[0].children == ["2"]


def test_totalBoundAcrossRooms():
    """Past the total bound the oldest entry of any room gives way."""
    store = LegacyPresences(maxPerRoom=10, maxTotal=3)
    store.put(ROOM, "a@localhost/r", [])
    for n in range(3):
        store.put(OTHER_ROOM, f"u{n}@localhost/r", [])
    assert len(store) == 3 and store.countFor(ROOM) == 0


def test_entrySizeBound():
    """Children are kept while they fit in the entry size; the rest are dropped."""
    store = LegacyPresences(maxEntryBytes=100)
    store.put(ROOM, "a@localhost/r", [_status("x" * 20), _status("y" * 200), _status("z")])
    assert [str(c) for c in store.pop((ROOM, "a@localhost/r"))] == ["x" * 20]


def test_repeatReplacesOwnEntry():
    """A sender's second presence replaces its entry and does not count twice."""
    store = LegacyPresences(maxPerRoom=2)
    store.put(ROOM, "a@localhost/r", [_status("1")])
    store.put(ROOM, "a@localhost/r", [_status("2")])
    assert store.countFor(ROOM) == 1 and len(store) == 1


def test_unavailableForgets():
    """Unavailable presence to the bare room address removes the sender's entry (real stanzas)."""
    c = Conference()
    c.send(f"<presence from='old@localhost/g' to='{ROOM}'><status>here</status></presence>")
    assert (ROOM, "old@localhost/g") in c.service.legacyPresence
    c.send(f"<presence from='old@localhost/g' to='{ROOM}' type='unavailable'/>")
    assert len(c.service.legacyPresence) == 0


def test_floodOfSendersBounded():
    """Many senders' presences to one room keep at most the configured number (real stanzas)."""
    c = Conference("max_legacy_presences_per_room = 5\nmax_legacy_presence_bytes = 64\n")
    for n in range(50):
        c.send(f"<presence from='u{n}@remote.test/r' to='{ROOM}'>"
               f"<status>{'s' * 1000}</status></presence>")
    assert c.service.legacyPresence.countFor(ROOM) == 5
    assert c.service.legacyPresence.pop((ROOM, "u49@remote.test/r")) == []
