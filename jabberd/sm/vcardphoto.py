# -*- test-case-name: tests.sm.test_vcardphoto -*-
"""
Avatar images as the vCard and PEP protocols carry them: the vCard
C{<PHOTO/>} of vcard-temp (XEP-0054 section 3.2: C{<TYPE/>} and
C{<BINVAL/>}, or C{<EXTVAL/>}) and the base64 data of XEP-0084 section
4.1, identified by the SHA-1 of the image bytes (XEP-0153 section 4.2,
XEP-0084 section 4.2.1).

Base64 is read strictly (RFC 4648 section 4, line breaks and other
whitespace allowed as XEP-0084 asks) and bounded before it is decoded: an
image over the limit is refused without decoding it.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.ns import NS_VCARD
from jabberd.stanza import firstChild

__all__ = ["Photo", "PhotoTooBig", "NotBase64", "decodeBase64", "photoOf", "setPhoto",
           "photoTextLength", "isSHA1", "DEFAULT_MAX_BYTES"]

#: The default bound on one avatar image, in bytes ([avatars] max_bytes).
DEFAULT_MAX_BYTES = 65536


class NotBase64(ValueError):
    """The text is not base64 (RFC 4648 section 4)."""


class PhotoTooBig(ValueError):
    """The image is larger than allowed."""


@dataclass(frozen=True)
class Photo:
    """
    One avatar image.

    @ivar data: the image bytes.
    @ivar type: its media type (C{image/png}), or "" when unknown.
    """

    data: bytes
    type: str = ""

    @property
    def hash(self):
        """The SHA-1 of the image, in lowercase hex (XEP-0153 section 4.2)."""
        return hashlib.sha1(self.data).hexdigest()

    @property
    def base64(self):
        """The image in base64, on one line (XEP-0084 section 4.1: no line feeds)."""
        return base64.b64encode(self.data).decode("ascii")


def decodeBase64(text, maxBytes):
    """
    The bytes of base64 C{text}: L{NotBase64} if it is not base64,
    L{PhotoTooBig} if they would be more than C{maxBytes} (checked on the
    length of the text, before decoding).
    """
    compact = "".join(text.split())
    if len(compact) > 4 * ((maxBytes + 2) // 3):
        raise PhotoTooBig(f"images are limited to {maxBytes} bytes")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise NotBase64("not base64") from None
    if len(data) > maxBytes:
        raise PhotoTooBig(f"images are limited to {maxBytes} bytes")
    return data


def _text(parent, name):
    child = firstChild(parent, NS_VCARD, name)
    return str(child).strip() if child is not None else ""


def photoOf(vcard, maxBytes):
    """
    The L{Photo} of a vcard-temp C{<vCard/>}'s C{<PHOTO/>} with a
    C{<BINVAL/>}, or None (no photo, or only an C{<EXTVAL/>}).  A
    C{<BINVAL/>} that is not base64 is C{bad-request}; one over
    C{maxBytes} is C{policy-violation}.
    """
    photo = firstChild(vcard, NS_VCARD, "PHOTO")
    if photo is None or firstChild(photo, NS_VCARD, "BINVAL") is None:
        return None
    try:
        data = decodeBase64(_text(photo, "BINVAL"), maxBytes)
    except NotBase64:
        raise StanzaError("bad-request", text="PHOTO BINVAL is not base64") from None
    except PhotoTooBig as e:
        raise StanzaError("policy-violation", text=str(e)) from None
    return Photo(data, _text(photo, "TYPE")) if data else None


def photoTextLength(vcard):
    """The characters of the C{<BINVAL/>} text of C{vcard}'s photo (0 without one)."""
    photo = firstChild(vcard, NS_VCARD, "PHOTO")
    binval = firstChild(photo, NS_VCARD, "BINVAL") if photo is not None else None
    return len(str(binval)) if binval is not None else 0


def setPhoto(vcard, photo):
    """Replace C{vcard}'s C{<PHOTO/>} with L{Photo} C{photo} (or remove it, for None)."""
    vcard.children = [c for c in vcard.children if not (
        isinstance(c, domish.Element) and c.uri == NS_VCARD and c.name == "PHOTO")]
    if photo is not None:
        element = vcard.addElement((NS_VCARD, "PHOTO"))
        if photo.type:
            element.addElement("TYPE", content=photo.type)
        element.addElement("BINVAL", content=photo.base64)
    return vcard


def isSHA1(text):
    """Whether C{text} is a SHA-1 in hex (40 hex digits), as avatar ids are."""
    return len(text) == 40 and all(c in "0123456789abcdefABCDEF" for c in text)
