"""
Client side of SASL SCRAM-SHA-1 (RFC 5802 section 3 and 5), without channel
binding (gs2 header C{n,,}).  L{ScramClient} caches nothing: every login
derives its own salted password, as a real client logging in for the first
time does.  L{CachingScramClient} keeps each salted password it derived
(RFC 5802 section 5.1 lets a client store it), as a client reconnecting
with its stored keys does.
"""

import base64
import hashlib
import hmac
import os

__all__ = ["ScramError", "ScramClient", "CachingScramClient"]


class ScramError(Exception):
    """The server's SCRAM messages are malformed or its signature is wrong."""


def _hmac(key, data):
    return hmac.new(key, data, hashlib.sha1).digest()


def _attrs(message):
    """Split C{a=1,b=2} into a dict (values may contain '=')."""
    return dict(part.split("=", 1) for part in message.split(",") if "=" in part)


def _saslname(name):
    # RFC 5802 section 5.1: ',' and '=' are escaped in the username.
    return name.replace("=", "=3D").replace(",", "=2C")


class ScramClient:
    """
    One SCRAM-SHA-1 exchange: L{first}, then L{final} with the server's
    challenge, then L{verify} with the data of C{<success/>}.
    """

    gs2Header = "n,,"

    def __init__(self, username, password):
        self.password = password.encode("utf-8")
        self.nonce = base64.b64encode(os.urandom(18)).decode("ascii")
        self.firstBare = f"n={_saslname(username)},r={self.nonce}"
        self.serverSignature = None

    def first(self):
        """The client-first-message."""
        return (self.gs2Header + self.firstBare).encode("ascii")

    def final(self, serverFirst):
        """The client-final-message answering C{serverFirst} (bytes)."""
        text = serverFirst.decode("ascii")
        attrs = _attrs(text)
        nonce, salt, iterations = attrs.get("r", ""), attrs.get("s"), attrs.get("i")
        if not nonce.startswith(self.nonce) or salt is None or iterations is None:
            raise ScramError(f"bad server-first-message {text!r}")
        salted = self.saltedPassword(base64.b64decode(salt), int(iterations))
        clientKey = _hmac(salted, b"Client Key")
        storedKey = hashlib.sha1(clientKey).digest()
        channel = base64.b64encode(self.gs2Header.encode("ascii")).decode("ascii")
        withoutProof = f"c={channel},r={nonce}"
        authMessage = f"{self.firstBare},{text},{withoutProof}".encode("ascii")
        signature = _hmac(storedKey, authMessage)
        proof = bytes(a ^ b for a, b in zip(clientKey, signature))
        self.serverSignature = _hmac(_hmac(salted, b"Server Key"), authMessage)
        return f"{withoutProof},p={base64.b64encode(proof).decode('ascii')}".encode("ascii")

    def saltedPassword(self, salt, iterations):
        """SaltedPassword (RFC 5802 section 3): PBKDF2 with HMAC-SHA-1."""
        return hashlib.pbkdf2_hmac("sha1", self.password, salt, iterations)

    def verify(self, serverFinal):
        """Check the server-final-message (bytes); raise L{ScramError} if wrong."""
        attrs = _attrs(serverFinal.decode("ascii"))
        if "e" in attrs:
            raise ScramError(f"server error {attrs['e']}")
        expected = base64.b64encode(self.serverSignature).decode("ascii")
        if attrs.get("v") != expected:
            raise ScramError("wrong server signature")


class CachingScramClient(ScramClient):
    """SCRAM-SHA-1 deriving each (password, salt, iterations) once per process."""

    _salted = {}

    def saltedPassword(self, salt, iterations):
        key = (self.password, salt, iterations)
        if key not in self._salted:
            self._salted[key] = ScramClient.saltedPassword(self, salt, iterations)
        return self._salted[key]
