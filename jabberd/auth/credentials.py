# -*- test-case-name: tests.auth.test_credentials -*-
"""
Stored credentials: SCRAM salted hashes (RFC 5802 section 3, RFC 7677) by
default, so the server never keeps a password it could leak.  A plaintext
copy is kept only where the configuration chooses recoverable passwords
(needed by XEP-0078 digest authentication).

Passwords are prepared with SASLprep (RFC 4013) first, as SCRAM clients
prepare them (RFC 5802 section 2.2), so the keys agree.

Credentials are a dict, stored as it is by the account store::

    {"SCRAM-SHA-1":   {"salt": b64, "iterations": n, "storedKey": b64, "serverKey": b64},
     "SCRAM-SHA-256": {...},
     "plain": "..."}            # only with store_plaintext
"""

import base64
import hashlib
import hmac
import os

from jabberd.auth.saslprep import SASLprepError, saslprep

__all__ = ["SCRAM_HASHES", "makeCredentials", "checkPassword", "scramKeys", "SASLprepError"]

SCRAM_HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def scramKeys(hashName, password, salt, iterations):
    """
    Derive (StoredKey, ServerKey) from a password (RFC 5802 section 3):
    SaltedPassword = Hi(password, salt, i); ClientKey = HMAC(SP, "Client Key");
    StoredKey = H(ClientKey); ServerKey = HMAC(SP, "Server Key").
    """
    salted = hashlib.pbkdf2_hmac(hashName, password.encode("utf-8"), salt, iterations)
    clientKey = hmac.new(salted, b"Client Key", hashName).digest()
    storedKey = hashlib.new(hashName, clientKey).digest()
    serverKey = hmac.new(salted, b"Server Key", hashName).digest()
    return storedKey, serverKey


def makeCredentials(password, iterations=4096, storePlaintext=False):
    """
    Make the credentials dict for C{password} (a fresh salt per mechanism);
    L{SASLprepError} if SASLprep does not allow it.
    """
    password = saslprep(password)
    creds = {}
    for mechanism, hashName in SCRAM_HASHES.items():
        salt = os.urandom(16)
        storedKey, serverKey = scramKeys(hashName, password, salt, iterations)
        creds[mechanism] = {
            "salt": _b64(salt),
            "iterations": iterations,
            "storedKey": _b64(storedKey),
            "serverKey": _b64(serverKey),
        }
    if storePlaintext:
        creds["plain"] = password
    return creds


def checkPassword(credentials, password):
    """
    Whether C{password} matches C{credentials} (for PLAIN and XEP-0078
    plaintext): recompute a SCRAM StoredKey and compare in constant time.
    """
    if not credentials:
        return False
    try:
        password = saslprep(password, stored=False)
    except SASLprepError:
        return False
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
        entry = credentials.get(mechanism)
        if entry:
            salt = base64.b64decode(entry["salt"])
            storedKey, _ = scramKeys(SCRAM_HASHES[mechanism], password, salt,
                                     int(entry["iterations"]))
            return hmac.compare_digest(storedKey, base64.b64decode(entry["storedKey"]))
    plain = credentials.get("plain")
    return plain is not None and hmac.compare_digest(plain.encode("utf-8"), password.encode("utf-8"))
