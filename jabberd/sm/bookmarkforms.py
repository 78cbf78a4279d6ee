# -*- test-case-name: tests.sm.test_bookmarkforms -*-
"""
The two forms of a chatroom bookmark, read, checked and written:

 - XEP-0402 (PEP Native Bookmarks) section 3: one PEP item per room, the
   item id the room's JID, the payload C{<conference
   xmlns='urn:xmpp:bookmarks:1' name autojoin>} with optional C{<nick/>},
   C{<password/>} and C{<extensions/>};
 - XEP-0048 (Bookmark Storage) section 3: one C{<storage
   xmlns='storage:bookmarks'>} holding every room as C{<conference jid
   name autojoin>} (with C{<nick/>}, C{<password/>}) and web pages as
   C{<url/>}.

A L{Bookmark} is what the two share, so a conversion is lossless for
rooms; C{<extensions/>} exist only in the XEP-0402 form and are kept from
the item a XEP-0048 list updates; C{<url/>} and other children of a
C{<storage/>} exist only there and are kept with it.  Malformed input is a
L{StanzaError}: C{bad-request} for a wrong element or attribute,
C{jid-malformed} for a room address that is not a bare JID.
"""

from dataclasses import dataclass, replace
from typing import Optional

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.jidutil import parseJID
from jabberd.ns import NS_BOOKMARKS, NS_BOOKMARKS2
from jabberd.stanza import parseElement, serializeElement

__all__ = ["Bookmark", "roomKey", "fromItem", "toItemPayload", "fromStorage", "toStorage",
           "storageOthers"]

#: XML Schema booleans (XEP-0402 section 7, XEP-0048 section 5).
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class Bookmark:
    """
    One bookmarked room.

    @ivar jid: the room's bare JID, prepared (RFC 7622): the XEP-0402 item id.
    @ivar extensions: the serialised XEP-0402 C{<extensions/>}, or None.
    """

    jid: str
    name: Optional[str] = None
    autojoin: bool = False
    nick: Optional[str] = None
    password: Optional[str] = None
    extensions: Optional[str] = None

    def withExtensions(self, extensions):
        """This bookmark with C{extensions} (from the XEP-0402 item it updates)."""
        return replace(self, extensions=extensions)


def roomKey(address, what="the room"):
    """
    The prepared bare JID C{address} names: a room (C{room@service}, no
    resource), or C{jid-malformed}.
    """
    jid = parseJID(address or "")
    if jid is None or jid.user is None or jid.resource is not None:
        raise StanzaError("jid-malformed", text=f"{what} must be a room's bare JID: {address!r}")
    return jid.userhost()


def _boolean(element):
    value = element.getAttribute("autojoin", "false")
    try:
        return _BOOLEANS[value.strip()]
    except KeyError:
        raise StanzaError("bad-request", text=f"autojoin is a boolean, not {value!r}") from None


def _single(element, uri, name):
    """The text of the one optional C{<name/>} child of C{element}, or None."""
    found = list(element.elements(uri, name))
    if len(found) > 1:
        raise StanzaError("bad-request", text=f"one <{name}/> per conference")
    return str(found[0]) if found else None


def _fields(element, uri):
    """name, autojoin, nick and password of a C{<conference/>} in namespace C{uri}."""
    return dict(name=element.getAttribute("name"), autojoin=_boolean(element),
                nick=_single(element, uri, "nick"), password=_single(element, uri, "password"))


def fromItem(itemId, payload):
    """
    The L{Bookmark} of a XEP-0402 item: its id and its payload (an
    element), checked as section 3 describes.
    """
    if payload is None or (payload.uri, payload.name) != (NS_BOOKMARKS2, "conference"):
        raise StanzaError("bad-request", text="the payload is <conference xmlns='%s'/>"
                          % NS_BOOKMARKS2)
    key = roomKey(itemId, "the item id")
    extensions = list(payload.elements(NS_BOOKMARKS2, "extensions"))
    if len(extensions) > 1:
        raise StanzaError("bad-request", text="one <extensions/> per conference")
    return Bookmark(key, extensions=serializeElement(extensions[0]) if extensions else None,
                    **_fields(payload, NS_BOOKMARKS2))


def _conference(uri, bookmark):
    element = domish.Element((uri, "conference"))
    if bookmark.name is not None:
        element["name"] = bookmark.name
    element["autojoin"] = "true" if bookmark.autojoin else "false"
    for name in ("nick", "password"):
        value = getattr(bookmark, name)
        if value is not None:
            element.addElement(name, content=value)
    return element


def toItemPayload(bookmark):
    """The XEP-0402 C{<conference/>} of C{bookmark} (its item id is C{bookmark.jid})."""
    element = _conference(NS_BOOKMARKS2, bookmark)
    if bookmark.extensions is not None:
        element.addChild(parseElement(bookmark.extensions))
    return element


def fromStorage(storage):
    """
    The L{Bookmark}s of a XEP-0048 C{<storage/>}, in order, each room once
    (a room listed twice is C{bad-request}).
    """
    if storage is None or (storage.uri, storage.name) != (NS_BOOKMARKS, "storage"):
        raise StanzaError("bad-request", text="bookmarks are <storage xmlns='%s'/>" % NS_BOOKMARKS)
    bookmarks = {}
    for conference in storage.elements(NS_BOOKMARKS, "conference"):
        key = roomKey(conference.getAttribute("jid"), "a conference's jid")
        if key in bookmarks:
            raise StanzaError("bad-request", text=f"{key} is bookmarked twice")
        bookmarks[key] = Bookmark(key, **_fields(conference, NS_BOOKMARKS))
    return list(bookmarks.values())


def storageOthers(storage):
    """What a XEP-0048 C{<storage/>} holds besides rooms (C{<url/>}s), serialised."""
    if storage is None:
        return []
    return [serializeElement(child) for child in storage.elements()
            if (child.uri, child.name) != (NS_BOOKMARKS, "conference")]


def toStorage(bookmarks, others=()):
    """The XEP-0048 C{<storage/>} of C{bookmarks}, then the serialised C{others}."""
    storage = domish.Element((NS_BOOKMARKS, "storage"))
    for bookmark in bookmarks:
        conference = storage.addChild(_conference(NS_BOOKMARKS, bookmark))
        conference["jid"] = bookmark.jid
    for other in others:
        storage.addChild(parseElement(other))
    return storage
