"""
Tests for L{jabberd.sm.bookmarkforms}: the XEP-0402 and XEP-0048 forms of a
bookmark, read, checked and written.
"""

import pytest

from jabberd.error import StanzaError
from jabberd.ns import NS_BOOKMARKS, NS_BOOKMARKS2
from jabberd.sm.bookmarkforms import (Bookmark, fromItem, fromStorage, roomKey, storageOthers,
                                      toItemPayload, toStorage)
from tests.sm.helpers import parse

ROOM = "coven@chat.shakespeare.lit"


def condition(call, *args):
    with pytest.raises(StanzaError) as raised:
        call(*args)
    return raised.value.condition


def test_itemRoundTrip():
    """A XEP-0402 item reads into a bookmark and writes back the same fields and extensions."""
    payload = parse(f"<conference xmlns='{NS_BOOKMARKS2}' name='The Coven' autojoin='1'>"
                    f"<nick>hag</nick><password>pw</password>"
                    f"<extensions><x xmlns='urn:example'/></extensions></conference>")
    bookmark = fromItem(ROOM, payload)
    assert (bookmark.name, bookmark.autojoin, bookmark.nick, bookmark.password) == \
        ("The Coven", True, "hag", "pw")
    assert fromItem(ROOM, toItemPayload(bookmark)) == bookmark


def test_storageRoundTripKeepsUrls():
    """A XEP-0048 list reads into bookmarks (JIDs prepared) and writes back with its <url/>s."""
    storage = parse(f"<storage xmlns='{NS_BOOKMARKS}'><conference jid='Coven@Chat.Shakespeare.lit' "
                    f"autojoin='true'><nick>hag</nick></conference>"
                    f"<url name='Docs' url='https://example.org/'/></storage>")
    bookmarks = fromStorage(storage)
    assert bookmarks == [Bookmark(ROOM, autojoin=True, nick="hag")]
    written = toStorage(bookmarks, storageOthers(storage))
    assert fromStorage(written) == bookmarks
    assert [u["url"] for u in written.elements(NS_BOOKMARKS, "url")] == ["https://example.org/"]
    assert next(written.elements(NS_BOOKMARKS, "conference"))["jid"] == ROOM


def test_roomKeyWantsABareRoomJID():
    """Only room@service is a room: no localpart, a resource or bad characters are jid-malformed."""
    assert roomKey("Coven@chat.shakespeare.lit") == ROOM
    for bad in ("chat.shakespeare.lit", ROOM + "/nick", "a@@b", "", None):
        assert condition(roomKey, bad) == "jid-malformed"


def test_malformedForms():
    """Wrong elements, bad autojoin values and repeated children are bad-request."""
    legacy = parse(f"<conference xmlns='{NS_BOOKMARKS}'/>")
    assert condition(fromItem, ROOM, legacy) == "bad-request"
    assert condition(fromItem, ROOM, None) == "bad-request"
    twice = parse(f"<conference xmlns='{NS_BOOKMARKS2}'><nick>a</nick><nick>b</nick></conference>")
    assert condition(fromItem, ROOM, twice) == "bad-request"
    yes = parse(f"<conference xmlns='{NS_BOOKMARKS2}' autojoin='yes'/>")
    assert condition(fromItem, ROOM, yes) == "bad-request"
    assert condition(fromStorage, parse(f"<storage xmlns='{NS_BOOKMARKS2}'/>")) == "bad-request"
