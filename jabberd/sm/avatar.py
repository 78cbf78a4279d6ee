# -*- test-case-name: tests.sm.test_avatar -*-
"""
User Avatar (XEP-0084): the rules of the two PEP nodes, checked as a
client publishes to them (the C{pepPublishCheck} hook of L{jabberd.sm.pep});
PEP itself stores, notifies and serves them with the access model the
client asked for (publish-options, XEP-0060 section 7.1.5).

 - Data (section 4.1): C{<data xmlns='urn:xmpp:avatar:data'/>} with the
   image in base64 and no attributes; the item id must be the SHA-1 of the
   image bytes (section 3.1: subscribers find cached copies by it).  An
   image over L{AvatarHandler.maxBytes} is C{not-acceptable} +
   C{payload-too-big} and is not decoded (XEP-0060 section 7.1.3.4);
   anything else wrong is C{bad-request} + C{invalid-payload} (7.1.3.5).
 - Metadata (section 4.2): C{<metadata xmlns='urn:xmpp:avatar:metadata'/>}
   holding C{<info/>} elements (C{bytes}, C{id} a SHA-1, C{type}; C{width},
   C{height} numbers; C{url} optional), then C{<pointer/>}s; or one
   C{<stop/>}, or nothing at all, to disable the avatar (section 3.5).
   Anything else is C{bad-request} + C{invalid-payload}.
"""

from dataclasses import dataclass

from jabberd.handler import Handler
from jabberd.ns import NS_AVATAR_DATA, NS_AVATAR_METADATA
from jabberd.pubsub.errors import pubsubError
from jabberd.sm.vcardphoto import (DEFAULT_MAX_BYTES, NotBase64, Photo, PhotoTooBig,
                                   decodeBase64, isSHA1)

__all__ = ["AvatarHandler", "AvatarInfo", "readMetadata", "readData", "InvalidAvatar"]

_NUMBERS = ("bytes", "width", "height")


class InvalidAvatar(ValueError):
    """A data or metadata payload breaks XEP-0084 section 4."""


@dataclass(frozen=True)
class AvatarInfo:
    """One C{<info/>} of the metadata (section 4.2.1)."""

    id: str
    type: str
    bytes: int
    url: str = ""


def _elements(element):
    return [c for c in element.children if hasattr(c, "name")]


def _info(element):
    for name in ("bytes", "id", "type"):
        if not element.getAttribute(name):
            raise InvalidAvatar(f"<info/> needs a '{name}' attribute")
    for name in _NUMBERS:
        value = element.getAttribute(name)
        if value is not None and not value.isdigit():
            raise InvalidAvatar(f"<info/> '{name}' must be a number")
    if not isSHA1(element["id"]):
        raise InvalidAvatar("<info/> 'id' must be a SHA-1 in hex")
    if _elements(element) or str(element).strip():
        raise InvalidAvatar("<info/> must be empty")
    return AvatarInfo(element["id"].lower(), element["type"], int(element["bytes"]),
                      element.getAttribute("url", ""))


def readMetadata(metadata):
    """
    The L{AvatarInfo}s of a C{<metadata/>} element: an empty list
    disables the avatar (C{<stop/>} or no children).  L{InvalidAvatar}
    for anything section 4.2 does not allow.
    """
    if (metadata.uri, metadata.name) != (NS_AVATAR_METADATA, "metadata"):
        raise InvalidAvatar("expected <metadata xmlns='urn:xmpp:avatar:metadata'/>")
    children = _elements(metadata)
    if [c.name for c in children] == ["stop"]:
        if _elements(children[0]) or children[0].attributes:
            raise InvalidAvatar("<stop/> must be empty")
        return []
    infos, pointers = [], False
    for child in children:
        if child.uri != NS_AVATAR_METADATA or child.name not in ("info", "pointer"):
            raise InvalidAvatar(f"<{child.name}/> does not belong in <metadata/>")
        if child.name == "pointer":
            pointers = True
        elif pointers:
            raise InvalidAvatar("<info/> elements come before <pointer/>s")
        else:
            infos.append(_info(child))
    if pointers and not infos:
        raise InvalidAvatar("a <pointer/> needs an <info/> before it (section 4.2.2)")
    return infos


def readData(data, itemId, maxBytes):
    """
    The L{Photo} (type C{image/png}, section 4.1) of a C{<data/>} payload
    published as item C{itemId}: L{PhotoTooBig} past C{maxBytes},
    L{InvalidAvatar} if it is not base64 or the id is not its SHA-1.
    """
    if (data.uri, data.name) != (NS_AVATAR_DATA, "data"):
        raise InvalidAvatar("expected <data xmlns='urn:xmpp:avatar:data'/>")
    if data.attributes or _elements(data):
        raise InvalidAvatar("<data/> holds base64 text only")
    try:
        photo = Photo(decodeBase64(str(data), maxBytes), "image/png")
    except NotBase64:
        raise InvalidAvatar("<data/> is not base64") from None
    if not photo.data:
        raise InvalidAvatar("<data/> is empty")
    if (itemId or "").lower() != photo.hash:
        raise InvalidAvatar("the item id must be the SHA-1 of the image (XEP-0084 3.1)")
    return photo


class AvatarHandler(Handler):
    """
    Checks what clients publish to the avatar nodes.

    @ivar maxBytes: the largest avatar image accepted, in bytes.
    """

    handlerName = "avatar"
    requires = ("pep",)

    def __init__(self, maxBytes=DEFAULT_MAX_BYTES):
        self.maxBytes = maxBytes

    @classmethod
    def fromConfig(cls, config):
        """The handler with C{[avatars] max_bytes} of C{config}."""
        return cls(config.avatars.maxBytes)

    def pepPublishCheck(self, service, node, itemId, payload):
        """The error refusing C{payload} at an avatar node, if any."""
        try:
            if node == NS_AVATAR_DATA:
                readData(payload, itemId, self.maxBytes)
            elif node == NS_AVATAR_METADATA:
                readMetadata(payload)
        except PhotoTooBig as e:
            return [pubsubError("not-acceptable", "payload-too-big", text=str(e))]
        except InvalidAvatar as e:
            return [pubsubError("bad-request", "invalid-payload", text=str(e))]
        return []
