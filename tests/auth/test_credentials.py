"""Tests for L{jabberd.auth.credentials}: SCRAM salted credentials."""

import base64
import hashlib
import hmac

import pytest

from jabberd.auth.credentials import SASLprepError, checkPassword, makeCredentials, scramKeys


def test_noPlaintextByDefault():
    """Credentials hold SCRAM keys for both hashes and no password."""
    creds = makeCredentials("s3cret", iterations=16)
    assert set(creds) == {"SCRAM-SHA-1", "SCRAM-SHA-256"}
    assert "s3cret" not in repr(creds)


def test_plaintextOnRequest():
    """storePlaintext keeps a recoverable copy for XEP-0078 digest."""
    creds = makeCredentials("s3cret", iterations=16, storePlaintext=True)
    assert creds["plain"] == "s3cret"


def test_checkPassword():
    """The right password matches, a wrong one and empty credentials do not."""
    creds = makeCredentials("s3cret", iterations=16)
    assert checkPassword(creds, "s3cret")
    assert not checkPassword(creds, "S3cret")
    assert not checkPassword(None, "s3cret")


def test_rfc5802Vector():
    """scramKeys matches the SCRAM-SHA-1 example of RFC 5802 section 5."""
    salt = base64.b64decode("QSXCR+Q6sek8bf92")
    storedKey, serverKey = scramKeys("sha1", "pencil", salt, 4096)
    authMessage = (b"n=user,r=fyko+d2lbbFgONRv9qkxdawL,"
                   b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,"
                   b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j")
    serverSignature = hmac.new(serverKey, authMessage, hashlib.sha1).digest()
    assert base64.b64encode(serverSignature) == b"rmF9pqV8S7suAoZWja4dJRkFsKQ="


def test_passwordsPreparedWithSASLprep():
    """A password stored in one Unicode form is accepted in the form SASLprep maps it from."""
    creds = makeCredentials("caf\u00e9\u00a0au lait", iterations=64)
    assert checkPassword(creds, "cafe\u0301 au lait")   # decomposed, ASCII space
    assert checkPassword(creds, "caf\u00e9\u2003au l\u00adait")  # em space, soft hyphen
    assert not checkPassword(creds, "cafe au lait")


def test_scramKeysUsePreparedPassword():
    """Stored SCRAM keys are those of the SASLprep'd password, as a SCRAM client derives them."""
    creds = makeCredentials("I\u00adX", iterations=64)
    entry = creds["SCRAM-SHA-1"]
    stored, _ = scramKeys("sha1", "IX", base64.b64decode(entry["salt"]), 64)
    assert base64.b64encode(stored).decode() == entry["storedKey"]


def test_disallowedPasswordRefused():
    """A password SASLprep forbids cannot be stored, and checking one simply fails."""
    with pytest.raises(SASLprepError):
        makeCredentials("bell\u0007", iterations=64)
    assert not checkPassword(makeCredentials("ok", iterations=64), "bell\u0007")
