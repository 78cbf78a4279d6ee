# -*- test-case-name: tests.tls.test_records -*-
"""
The TLS 1.3 record layer after the handshake (RFC 8446 sections 5, 6,
4.6.3 and 7.1-7.3), for connections whose handshake OpenSSL has done.

Why: once a TLS 1.3 handshake is over, all a connection needs is two
traffic secrets, two sequence numbers and an AEAD.  OpenSSL keeps about
24 KB per connection for it (its SSL object alone is 16 KB in OpenSSL
3.2+); an idle XMPP client holds that for hours.  L{ProtectedChannel}
keeps the secrets, keys and counters (a few hundred bytes) and builds the
AEAD objects (cryptography's, 2.6 KB each) only while traffic flows
(L{ProtectedChannel.rest} drops them).  The cryptography is OpenSSL's all
the same: the AEADs come from C{cryptography}; only framing, nonces and
key updates are done here, each as the RFC words it.

What it does:

 - records: 5-byte header, C{application_data} outer type, ciphertext at
   most 2^14 + 256 bytes (section 5.2, else C{record_overflow});
 - protection: AEAD with the per-record nonce (the 64-bit sequence number
   XORed into the IV, section 5.3) and the header as additional data;
   inner plaintext is content, type, zero padding (section 5.4), at most
   2^14 + 1 bytes;
 - key updates: a KeyUpdate from the peer moves the read keys to the next
   generation (section 7.2) and, when it asks, ours are announced and
   moved too, once however many requests arrive before we next send
   application data (section 4.6.3: a silent side answers many with a
   single update), so a peer that requests updates in a loop and never
   reads cannot make replies pile up; our write keys are also moved
   before the AES-GCM limit of section 5.5;
 - alerts: close_notify is answered with ours; any other alert but
   user_canceled ends the connection (section 6); what the peer gets
   wrong ends it with the matching fatal alert, sent after the records
   already queued for it (a KeyUpdate answer), so the peer can read it;
 - empty records: zero-length application data is allowed (section
   5.1), and so is user_canceled, but each costs a decryption and carries
   nothing; more than L{ProtectedChannel.maxEmptyRecords} of them in a row
   end the connection with C{unexpected_message} (OpenSSL counts the same
   way, with the same default of 32).

Nothing here does I/O: bytes in, bytes out (see L{jabberd.tls.transport}).
"""

import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.exceptions import InvalidTag

__all__ = ["SUITES", "TLSAlert", "TrafficKeys", "ProtectedChannel", "expandLabel",
           "CLOSE_NOTIFY", "UNEXPECTED_MESSAGE", "BAD_RECORD_MAC", "RECORD_OVERFLOW",
           "ILLEGAL_PARAMETER", "DECODE_ERROR", "USER_CANCELED"]

# content types (section 5.1)
CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23

# alert descriptions (section 6)
CLOSE_NOTIFY = 0
UNEXPECTED_MESSAGE = 10
BAD_RECORD_MAC = 20
RECORD_OVERFLOW = 22
ILLEGAL_PARAMETER = 47
DECODE_ERROR = 50
USER_CANCELED = 90
_WARNING, _FATAL = 1, 2

KEY_UPDATE = 24  # HandshakeType (section 4)

MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = MAX_PLAINTEXT + 256
HEADER = 5
_HEADER = struct.Struct("!BHH")
_LEGACY_VERSION = 0x0303

# Section 5.5: at most 2^24.5 full-size records per AES-GCM key; keys are
# updated well before (ChaCha20-Poly1305's limit is far beyond reach).
UPDATE_AFTER = 1 << 24

# name (as OpenSSL reports it) -> (AEAD class, key length, hash)
SUITES = {
    "TLS_AES_128_GCM_SHA256": (AESGCM, 16, hashes.SHA256),
    "TLS_AES_256_GCM_SHA384": (AESGCM, 32, hashes.SHA384),
    "TLS_CHACHA20_POLY1305_SHA256": (ChaCha20Poly1305, 32, hashes.SHA256),
}


class TLSAlert(Exception):
    """The peer broke the record protocol: end the connection with this alert."""

    def __init__(self, description, reason=""):
        Exception.__init__(self, description, reason)
        self.description = description
        self.reason = reason


def expandLabel(hashClass, secret, label, context, length):
    """HKDF-Expand-Label (RFC 8446 section 7.1)."""
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + struct.pack("!B", len(context)) + context
    return HKDFExpand(hashClass(), length, info).derive(secret)


class TrafficKeys:
    """
    One direction's keys: the traffic secret, the key and IV made from it
    (section 7.3) and the record sequence number.  The AEAD object is made
    on first use and dropped by L{rest}.
    """

    __slots__ = ("suite", "secret", "key", "iv", "seq", "_aead")

    def __init__(self, suite, secret, seq=0):
        self.suite = suite
        self._derive(secret)
        self.seq = seq

    def _derive(self, secret):
        _, keyLength, hashClass = SUITES[self.suite]
        self.secret = secret
        self.key = expandLabel(hashClass, secret, b"key", b"", keyLength)
        self.iv = int.from_bytes(expandLabel(hashClass, secret, b"iv", b"", 12), "big")
        self.seq = 0
        self._aead = None

    def update(self):
        """The next generation of traffic secret and keys (section 7.2)."""
        hashClass = SUITES[self.suite][2]
        self._derive(expandLabel(hashClass, self.secret, b"traffic upd", b"",
                                 hashClass.digest_size))

    def rest(self):
        """Free the AEAD object until the next record."""
        self._aead = None

    def _next(self):
        aead = self._aead
        if aead is None:
            aead = self._aead = SUITES[self.suite][0](self.key)
        nonce = (self.iv ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        return aead, nonce

    def seal(self, contentType, content):
        """One protected record holding C{content} (at most 2^14 bytes)."""
        aead, nonce = self._next()
        header = _HEADER.pack(APPLICATION_DATA, _LEGACY_VERSION, len(content) + 17)
        return header + aead.encrypt(nonce, content + bytes((contentType,)), header)

    def open(self, header, body):
        """(content type, content) of one protected record; L{TLSAlert} if it is not genuine."""
        aead, nonce = self._next()
        try:
            inner = aead.decrypt(nonce, body, header)
        except InvalidTag:
            raise TLSAlert(BAD_RECORD_MAC, "record authentication failed")
        if len(inner) > MAX_PLAINTEXT + 1:
            raise TLSAlert(RECORD_OVERFLOW, "inner plaintext too long")
        content = inner.rstrip(b"\0")
        if not content:
            raise TLSAlert(UNEXPECTED_MESSAGE, "record without a content type")
        return content[-1], content[:-1]


class ProtectedChannel:
    """
    Both directions of a TLS 1.3 connection after its handshake.

    L{receive} takes bytes off the wire and returns the application data
    they held; bytes to send back (a KeyUpdate, a close_notify, an alert)
    collect in L{outgoing}.  L{protect} turns application data into records.

    @ivar closed: None while open; else why it ended (the peer's
        close_notify, or an alert).
    @ivar outgoing: records L{receive} wants sent, taken with L{takeOutgoing}.
    @ivar maxEmptyRecords: records in a row that carry nothing (empty
        application data, user_canceled alerts) allowed before the
        connection ends; C{[connections] tls_max_empty_records}.
    @ivar empty: such records received since the last one with data.
    """

    __slots__ = ("read", "write", "_buffer", "_handshake", "outgoing", "closed", "empty",
                 "_updateSent")

    maxEmptyRecords = 32

    def __init__(self, suite, readSecret, writeSecret, readSeq=0, writeSeq=0):
        self.read = TrafficKeys(suite, readSecret, readSeq)
        self.write = TrafficKeys(suite, writeSecret, writeSeq)
        self._buffer = b""
        self._handshake = b""
        self.outgoing = b""
        self.closed = None
        self.empty = 0
        self._updateSent = False  # a requested update was answered; none more until we send

    def rest(self):
        """The connection is idle: free what is rebuilt on the next record."""
        self.read.rest()
        self.write.rest()

    def takeOutgoing(self):
        data, self.outgoing = self.outgoing, b""
        return data

    # sending

    def protect(self, data):
        """Records carrying application data C{data}."""
        if self.closed is not None:
            return b""
        self._updateSent = False
        write = self.write
        limit = UPDATE_AFTER
        if len(data) <= MAX_PLAINTEXT and write.seq < limit:
            return write.seal(APPLICATION_DATA, data)
        records = []
        for start in range(0, len(data), MAX_PLAINTEXT):
            if write.seq >= limit:
                records.append(self._keyUpdate(0))
            records.append(write.seal(APPLICATION_DATA, data[start:start + MAX_PLAINTEXT]))
        return b"".join(records)

    def _keyUpdate(self, requestUpdate):
        """Announce new write keys (section 4.6.3) and move to them."""
        record = self.write.seal(HANDSHAKE, struct.pack("!BHBB", KEY_UPDATE, 0, 1, requestUpdate))
        self.write.update()
        return record

    def close(self):
        """Our close_notify (section 6.1); nothing is sent after it."""
        if self.closed is not None:
            return b""
        record = self.write.seal(ALERT, bytes((_WARNING, CLOSE_NOTIFY)))
        self.closed = "closed"
        return record

    def alert(self, description):
        """
        A fatal alert ending the connection, after what L{receive} queued
        before the fault: a KeyUpdate answer announces the keys the alert
        is sealed with, and without it the peer could not read the alert.
        """
        if self.closed is not None:
            return b""
        record = self.takeOutgoing() + self.write.seal(ALERT, bytes((_FATAL, description)))
        self.closed = "alert %d sent" % (description,)
        return record

    # receiving

    def receive(self, data):
        """
        Application data in the complete records of C{data} (and what was
        left over before); L{TLSAlert} when the peer broke the protocol.
        After a close, further input is ignored.
        """
        if self.closed is not None:
            return b""
        buffer = self._buffer + data if self._buffer else data
        received = []
        offset = 0
        end = len(buffer)
        while end - offset >= HEADER and self.closed is None:
            outerType, _, length = _HEADER.unpack_from(buffer, offset)
            if length > MAX_CIPHERTEXT:
                raise TLSAlert(RECORD_OVERFLOW, "record of %d bytes" % (length,))
            if end - offset - HEADER < length:
                break
            header = buffer[offset:offset + HEADER]
            body = buffer[offset + HEADER:offset + HEADER + length]
            offset += HEADER + length
            if outerType != APPLICATION_DATA:
                raise TLSAlert(UNEXPECTED_MESSAGE, "unprotected record of type %d" % (outerType,))
            contentType, content = self.read.open(header, body)
            if self._handshake and contentType != HANDSHAKE:
                raise TLSAlert(UNEXPECTED_MESSAGE, "handshake message interrupted")
            if contentType == APPLICATION_DATA:
                if content:
                    self.empty = 0
                    received.append(content)
                else:
                    self._noteEmpty()
            elif contentType == HANDSHAKE:
                self._onHandshake(content)
            elif contentType == ALERT:
                self._onAlert(content)
            else:
                raise TLSAlert(UNEXPECTED_MESSAGE, "content type %d" % (contentType,))
        self._buffer = buffer[offset:]
        return b"".join(received)

    def _onHandshake(self, content):
        """Post-handshake messages (section 4.6): only KeyUpdate is expected from a client."""
        if not content:
            raise TLSAlert(UNEXPECTED_MESSAGE, "empty handshake record")
        pending = self._handshake + content
        while len(pending) >= 4:
            kind = pending[0]
            length = int.from_bytes(pending[1:4], "big")
            if kind != KEY_UPDATE:
                raise TLSAlert(UNEXPECTED_MESSAGE, "handshake message %d after the handshake" % (kind,))
            if length != 1:
                raise TLSAlert(DECODE_ERROR, "KeyUpdate of %d bytes" % (length,))
            if len(pending) < 5:
                break
            request = pending[4]
            if request not in (0, 1):
                raise TLSAlert(ILLEGAL_PARAMETER, "KeyUpdate request %d" % (request,))
            if len(pending) > 5:
                raise TLSAlert(UNEXPECTED_MESSAGE, "data after a KeyUpdate in its record")
            pending = b""
            self.read.update()
            if request and not self._updateSent:
                self.outgoing += self._keyUpdate(0)
                self._updateSent = True
        self._handshake = pending

    def _noteEmpty(self):
        """One more record without data; too many in a row end the connection."""
        self.empty += 1
        if self.empty > self.maxEmptyRecords:
            raise TLSAlert(UNEXPECTED_MESSAGE, "more than %d records without data in a row"
                           % (self.maxEmptyRecords,))

    def _onAlert(self, content):
        if len(content) != 2:
            raise TLSAlert(DECODE_ERROR, "alert of %d bytes" % (len(content),))
        description = content[1]
        if description == USER_CANCELED:
            self._noteEmpty()
            return  # a close_notify follows (section 6.1)
        if description == CLOSE_NOTIFY:
            self.outgoing += self.close()
            self.closed = "close_notify received"
        else:
            self.closed = "alert %d received" % (description,)
