"""Tests for L{jabberd.sm.vcardphoto}: avatar images in vCards and in base64."""

import base64
import hashlib

import pytest

from jabberd.error import StanzaError
from jabberd.ns import NS_VCARD
from jabberd.sm.vcardphoto import (NotBase64, Photo, PhotoTooBig, decodeBase64, isSHA1,
                                   photoOf, photoTextLength, setPhoto)
from tests.sm.helpers import parse


def vcard(inner):
    return parse(f"<vCard xmlns='{NS_VCARD}'>{inner}</vCard>")


def test_decodeAcceptsLineBreaks():
    """Base64 with line feeds and spaces is accepted (XEP-0084 section 4.1)."""
    text = base64.encodebytes(b"x" * 100).decode()
    assert "\n" in text and decodeBase64(" " + text, 100) == b"x" * 100


def test_decodeRefusesNonBase64():
    """Characters outside the base64 alphabet are refused."""
    with pytest.raises(NotBase64):
        decodeBase64("not*base64!", 100)


def test_decodeRefusesBeforeDecodingWhenTooLong():
    """Text longer than the bound allows is refused on its length alone."""
    with pytest.raises(PhotoTooBig):
        decodeBase64("A" * 10000, 30)
    with pytest.raises(PhotoTooBig):
        decodeBase64(base64.b64encode(b"y" * 31).decode(), 30)
    assert decodeBase64(base64.b64encode(b"y" * 30).decode(), 30) == b"y" * 30


def test_photoHashIsSHA1Hex():
    """A photo's hash is the lowercase hex SHA-1 of its bytes (XEP-0153 section 4.2)."""
    assert Photo(b"abc").hash == hashlib.sha1(b"abc").hexdigest()
    assert isSHA1(Photo(b"abc").hash) and not isSHA1("xyz") and not isSHA1("g" * 40)


def test_photoOfVCard():
    """A PHOTO with TYPE and BINVAL is read; EXTVAL only or no PHOTO is no photo."""
    photo = photoOf(vcard(f"<PHOTO><TYPE>image/jpeg</TYPE><BINVAL>"
                          f"{base64.b64encode(b'img').decode()}</BINVAL></PHOTO>"), 100)
    assert photo == Photo(b"img", "image/jpeg")
    assert photoOf(vcard("<PHOTO><EXTVAL>http://x/y.png</EXTVAL></PHOTO>"), 100) is None
    assert photoOf(vcard("<FN>A</FN>"), 100) is None


def test_badPhotosAreStanzaErrors():
    """A BINVAL that is not base64 is bad-request; one over the bound policy-violation."""
    with pytest.raises(StanzaError) as bad:
        photoOf(vcard("<PHOTO><BINVAL>@@@</BINVAL></PHOTO>"), 100)
    assert bad.value.condition == "bad-request"
    big = base64.b64encode(b"z" * 101).decode()
    with pytest.raises(StanzaError) as tooBig:
        photoOf(vcard(f"<PHOTO><BINVAL>{big}</BINVAL></PHOTO>"), 100)
    assert tooBig.value.condition == "policy-violation"


def test_setPhotoReplacesAndRemoves():
    """setPhoto replaces the one PHOTO, keeps the rest, and removes it for None."""
    card = vcard("<FN>A</FN><PHOTO><EXTVAL>http://x</EXTVAL></PHOTO>")
    setPhoto(card, Photo(b"img", "image/png"))
    assert photoOf(card, 100) == Photo(b"img", "image/png")
    assert [c.name for c in card.elements()] == ["FN", "PHOTO"]
    assert photoTextLength(card) == len(base64.b64encode(b"img"))
    setPhoto(card, None)
    assert [c.name for c in card.elements()] == ["FN"] and photoTextLength(card) == 0
