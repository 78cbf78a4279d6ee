# -*- test-case-name: tests.c2s.test_mechanisms -*-
"""
The server side of the SASL mechanisms, free of XML: bytes in, a
L{Challenge} or L{Success} out, or a L{SASLFailure} naming the RFC 6120
section 6.5 condition.

 - PLAIN (RFC 4616): authzid NUL authcid NUL password;
 - SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) against the stored
   salted keys of L{jabberd.auth.credentials}; no channel binding, so the gs2 flags
   C{n} and C{y} are accepted and C{p} is refused.

An unknown user gets a challenge with a salt derived from the server's
persistent secret (L{jabberd.auth.secret}), stable across connections and
restarts like a real one, and fails only at the end; a PLAIN password for
an unknown user is checked against stand-in credentials at the same cost
as a real check.  All secret comparisons are constant time.

PBKDF2 runs through the source's C{hashing} (L{jabberd.auth.hashing}), off
the reactor thread in the server; before the password of an account is
checked, the source's C{throttle} (L{jabberd.c2s.throttle}) may make the
attempt wait.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re

from twisted.internet import defer

from jabberd.auth.credentials import SCRAM_HASHES, checkPassword, scramKeys
from jabberd.auth.hashing import HashingBusy, InlineHashing
from jabberd.jidutil import prepLocalpart

__all__ = ["SASLFailure", "Challenge", "Success", "CredentialSource", "PlainMechanism",
           "ScramMechanism", "makeMechanism"]


class SASLFailure(Exception):
    """Authentication failed with the SASL C{condition} (RFC 6120 section 6.5)."""

    def __init__(self, condition, text=None):
        Exception.__init__(self, condition, text)
        self.condition = condition
        self.text = text


class Challenge:
    """The server needs another response; C{data} goes to the client."""

    def __init__(self, data):
        self.data = data


class Success:
    """
    Authenticated as C{username} (prepared localpart), asking to act as
    C{authzid} (empty: itself); C{data} is the additional data with success.
    """

    def __init__(self, username, authzid="", data=None):
        self.username = username
        self.authzid = authzid
        self.data = data


def _utf8(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SASLFailure("malformed-request", "not UTF-8")


def _b64(data):
    return base64.b64encode(data).decode("ascii")


class CredentialSource:
    """
    Where mechanisms get credentials: the account store, plus stand-ins for
    unknown users and SCRAM keys derived from a stored plaintext password.

    @ivar accounts: the L{jabberd.storage.interfaces.IAccountStore}.
    @ivar secret: key for the stand-in salts: the server's persistent
        secret (random per process when none is given, in tests).
    @ivar hashing: where PBKDF2 runs (L{jabberd.auth.hashing}).
    @ivar throttle: the L{jabberd.c2s.throttle.AuthThrottle} gating
        attempts per account, or None.
    """

    def __init__(self, accounts, iterations, secret=None, hashing=None, throttle=None):
        self.accounts = accounts
        self.iterations = iterations
        self.secret = secret or os.urandom(32)
        self.hashing = hashing if hashing is not None else InlineHashing()
        self.throttle = throttle

    def lookup(self, username):
        """Deferred credentials dict of C{username}, or None, once its throttle allows."""
        if username is None:
            return defer.succeed(None)
        if self.throttle is not None and self.throttle.waitFor(account=username):
            d = self.throttle.gate(account=username)
            d.addCallback(lambda _: self.accounts.get(username))
            return d
        return self.accounts.get(username)

    def verify(self, credentials, username, password):
        """
        Deferred: whether C{password} matches C{credentials} (None for an
        unknown account, checked against a stand-in at the same cost).
        Fails with L{SASLFailure} C{temporary-auth-failure} when the hashing
        queue is full.
        """
        if username is None or credentials is None:
            d = self.hashing.run(checkPassword, self.standIn(username), password)
            d.addCallback(lambda _: False)
        else:
            d = self.hashing.run(checkPassword, credentials, password)
        d.addErrback(_busy)
        return d

    def _salt(self, mechanism, username):
        message = (mechanism + "\0" + username).encode("utf-8")
        return hmac.digest(self.secret, message, "sha256")[:16]

    def scramEntry(self, credentials, mechanism, username):
        """
        Deferred (entry, real): the stored SCRAM entry for C{mechanism}, one
        derived from a stored plaintext password, or a stand-in that can
        never verify (real False).
        """
        credentials = credentials or {}
        if credentials.get(mechanism):
            return defer.succeed((credentials[mechanism], True))
        salt = self._salt(mechanism, username)
        if credentials.get("plain") is not None:
            d = self.hashing.run(scramKeys, SCRAM_HASHES[mechanism], credentials["plain"], salt,
                                 self.iterations)
            d.addCallbacks(lambda keys: (self._entry(salt, *keys), True), _busy)
            return d
        size = hashlib.new(SCRAM_HASHES[mechanism]).digest_size
        return defer.succeed((self._entry(salt, os.urandom(size), os.urandom(size)), False))

    def _entry(self, salt, storedKey, serverKey):
        return {"salt": _b64(salt), "iterations": self.iterations,
                "storedKey": _b64(storedKey), "serverKey": _b64(serverKey)}

    def standIn(self, username):
        """Credentials that fail any password, at the cost of a real check."""
        mechanism = "SCRAM-SHA-256"
        size = hashlib.new(SCRAM_HASHES[mechanism]).digest_size
        entry = self._entry(self._salt(mechanism, username or ""), os.urandom(size),
                            os.urandom(size))
        return {mechanism: entry}


def _busy(failure):
    """The hashing queue is full: a temporary failure (RFC 6120 section 6.5.12)."""
    failure.trap(HashingBusy)
    raise SASLFailure("temporary-auth-failure", "the server is busy; try again later")


class PlainMechanism:
    """PLAIN (RFC 4616); the negotiator offers it only over TLS."""

    name = "PLAIN"

    def __init__(self, source):
        self.source = source
        self.username = None

    def step(self, data):
        """Deferred L{Success}; fails with L{SASLFailure}."""
        return defer.maybeDeferred(self._step, data)

    def _step(self, data):
        fields = data.split(b"\0")
        if len(fields) != 3:
            raise SASLFailure("malformed-request")
        authzid, authcid, password = (_utf8(f) for f in fields)
        username = prepLocalpart(authcid)
        d = self.source.lookup(username)
        d.addCallback(self._check, username, authzid, password)
        return d

    def _check(self, credentials, username, authzid, password):
        self.username = username
        d = self.source.verify(credentials, username, password)  # same cost either way
        d.addCallback(self._checked, username, authzid)
        return d

    def _checked(self, matches, username, authzid):
        if not matches:
            raise SASLFailure("not-authorized")
        return Success(username, authzid)


def _saslname(value):
    """Decode RFC 5802 saslname escapes (=2C and =3D); others are malformed."""
    if "=" in value.replace("=2C", "").replace("=3D", ""):
        raise SASLFailure("malformed-request", "bad escape in name")
    return value.replace("=2C", ",").replace("=3D", "=")


def _parseGS2(text):
    """Split the client-first-message into (gs2 header, authzid, bare message)."""
    flag, sep, rest = text.partition(",")
    if flag.startswith("p="):
        raise SASLFailure("malformed-request", "channel binding is not supported")
    authzField, sep2, bare = rest.partition(",")
    if flag not in ("n", "y") or not sep or not sep2:
        raise SASLFailure("malformed-request")
    if authzField and not authzField.startswith("a="):
        raise SASLFailure("malformed-request")
    authzid = _saslname(authzField[2:]) if authzField else ""
    return text[:len(flag) + len(authzField) + 2], authzid, bare


# RFC 5802 section 7: printable = %x21-2B / %x2D-7E (no comma).
_PRINTABLE = re.compile(r"[\x21-\x2b\x2d-\x7e]+")


def _parseBare(bare):
    """Return (name, nonce) of client-first-message-bare."""
    attrs = bare.split(",")
    if attrs[0].startswith("m="):
        raise SASLFailure("malformed-request", "unsupported mandatory extension")
    if len(attrs) < 2 or not attrs[0].startswith("n=") or not attrs[1].startswith("r="):
        raise SASLFailure("malformed-request")
    nonce = attrs[1][2:]
    if not _PRINTABLE.fullmatch(nonce):
        raise SASLFailure("malformed-request", "bad nonce")
    return _saslname(attrs[0][2:]), nonce


class ScramMechanism:
    """
    SCRAM-SHA-1 / SCRAM-SHA-256 without channel binding (RFC 5802 section
    5, RFC 7677): client-first, server-first, client-final, then success
    carrying the server signature.
    """

    def __init__(self, name, source):
        self.name = name
        self.hashName = SCRAM_HASHES[name]
        self.source = source
        self.username = None
        self._next = self._clientFirst

    def step(self, data):
        """Deferred L{Challenge} or L{Success}; fails with L{SASLFailure}."""
        return defer.maybeDeferred(self._next, data)

    def _clientFirst(self, data):
        self._next = self._unexpected
        self.gs2Header, self.authzid, self.bare = _parseGS2(_utf8(data))
        name, clientNonce = _parseBare(self.bare)
        self.username = prepLocalpart(name)
        self.nonce = clientNonce + _b64(os.urandom(18))
        d = self.source.lookup(self.username)
        d.addCallback(self._serverFirst)
        return d

    def _serverFirst(self, credentials):
        d = self.source.scramEntry(credentials, self.name, self.username or "")
        d.addCallback(self._challenge)
        return d

    def _challenge(self, found):
        entry, self.real = found
        self.storedKey = base64.b64decode(entry["storedKey"])
        self.serverKey = base64.b64decode(entry["serverKey"])
        self.serverFirst = "r=%s,s=%s,i=%d" % (self.nonce, entry["salt"], int(entry["iterations"]))
        self._next = self._clientFinal
        return Challenge(self.serverFirst.encode("ascii"))

    def _clientFinal(self, data):
        self._next = self._unexpected
        withoutProof, sep, proof = _utf8(data).rpartition(",p=")
        attrs = withoutProof.split(",")
        if not sep or len(attrs) < 2 or not attrs[0].startswith("c=") \
                or not attrs[1].startswith("r="):
            raise SASLFailure("malformed-request")
        try:
            binding = base64.b64decode(attrs[0][2:], validate=True)
            proof = base64.b64decode(proof, validate=True)
        except binascii.Error:
            raise SASLFailure("malformed-request", "bad base64 in SCRAM message")
        if binding != self.gs2Header.encode("utf-8") or attrs[1][2:] != self.nonce:
            raise SASLFailure("not-authorized")
        authMessage = ",".join((self.bare, self.serverFirst, withoutProof)).encode("utf-8")
        if not (self._verify(proof, authMessage) and self.real and self.username):
            raise SASLFailure("not-authorized")
        verifier = hmac.digest(self.serverKey, authMessage, self.hashName)
        return Success(self.username, self.authzid, b"v=" + base64.b64encode(verifier))

    def _verify(self, proof, authMessage):
        """ClientKey = proof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey."""
        signature = hmac.digest(self.storedKey, authMessage, self.hashName)
        if len(proof) != len(signature):
            return False
        clientKey = (int.from_bytes(proof, "big") ^ int.from_bytes(signature, "big")).to_bytes(
            len(signature), "big")
        return hmac.compare_digest(hashlib.new(self.hashName, clientKey).digest(), self.storedKey)

    def _unexpected(self, data):
        raise SASLFailure("malformed-request", "unexpected response")


def makeMechanism(name, source):
    """A fresh server mechanism object for the SASL mechanism C{name}."""
    if name == "PLAIN":
        return PlainMechanism(source)
    return ScramMechanism(name, source)
