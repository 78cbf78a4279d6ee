"""
Tests for L{jabberd.tls.records}: what the TLS 1.3 record layer refuses and
how it answers (RFC 8446 sections 4.6.3, 5 and 6), with a peer built from
the same class with the secrets swapped.  Interoperation with a real TLS
stack is in C{tests/tls/test_transport.py}.
"""

import struct

import pytest

from jabberd.tls import records as tlsrecords
from jabberd.tls.records import (ALERT, APPLICATION_DATA, HANDSHAKE, KEY_UPDATE, ProtectedChannel,
                                TLSAlert)

SUITE = "TLS_AES_128_GCM_SHA256"
CLIENT_SECRET = bytes(range(32))
SERVER_SECRET = bytes(range(32, 64))


def pair(suite=SUITE):
    """(server, client) channels that understand each other."""
    return (ProtectedChannel(suite, CLIENT_SECRET, SERVER_SECRET),
            ProtectedChannel(suite, SERVER_SECRET, CLIENT_SECRET))


def refused(channel, data):
    with pytest.raises(TLSAlert) as caught:
        channel.receive(data)
    return caught.value.description


@pytest.mark.parametrize("suite", sorted(tlsrecords.SUITES))
def test_roundTrip(suite):
    """Application data crosses both ways, records split at 2^14 bytes."""
    server, client = pair(suite)
    assert server.receive(client.protect(b"<presence/>")) == b"<presence/>"
    big = b"y" * 40000
    records = server.protect(big)
    assert records.count(b"\x17\x03\x03") >= 3
    assert client.receive(records) == big


def test_partialRecordsWait():
    """A record is only opened once all of it has arrived."""
    server, client = pair()
    data = client.protect(b"hello") + client.protect(b" world")
    assert server.receive(data[:3]) == b""
    assert server.receive(data[3:20]) == b""
    assert server.receive(data[20:]) == b"hello world"


def test_sequenceNumbersMatter():
    """A replayed record fails authentication: each nonce is used once (section 5.3)."""
    server, client = pair()
    record = client.protect(b"once")
    assert server.receive(record) == b"once"
    assert refused(server, record) == tlsrecords.BAD_RECORD_MAC


def test_oversizedRecordRefused():
    """A record longer than 2^14 + 256 bytes is record_overflow (section 5.2)."""
    server, _ = pair()
    header = struct.pack("!BHH", APPLICATION_DATA, 0x0303, tlsrecords.MAX_CIPHERTEXT + 1)
    assert refused(server, header) == tlsrecords.RECORD_OVERFLOW


def test_unprotectedRecordRefused():
    """After the handshake every record is protected (section 5)."""
    server, _ = pair()
    assert refused(server, b"\x15\x03\x03\x00\x02\x01\x00") == tlsrecords.UNEXPECTED_MESSAGE


def test_paddingIsRemoved():
    """Zero padding after the content type is stripped (section 5.4)."""
    server, client = pair()
    header = struct.pack("!BHH", APPLICATION_DATA, 0x0303, 5 + 1 + 10 + 16)
    aead, nonce = client.write._next()
    record = header + aead.encrypt(nonce, b"hello\x17" + b"\0" * 10, header)
    assert server.receive(record) == b"hello"


def test_allPaddingRefused():
    """An inner plaintext of zeros only has no content type: unexpected_message."""
    server, client = pair()
    header = struct.pack("!BHH", APPLICATION_DATA, 0x0303, 4 + 16)
    aead, nonce = client.write._next()
    assert refused(server, header + aead.encrypt(nonce, b"\0" * 4, header)) == \
        tlsrecords.UNEXPECTED_MESSAGE


def test_clientKeyUpdate():
    """A KeyUpdate moves the read keys; one asking for ours gets our KeyUpdate back."""
    server, client = pair()
    update = client._keyUpdate(1)
    assert server.receive(update + client.protect(b"new keys")) == b"new keys"
    answer = server.takeOutgoing()
    assert answer
    assert client.receive(answer + server.protect(b"ours too")) == b"ours too"
    assert client.takeOutgoing() == b""  # update_not_requested: no answer to an answer


def test_keyUpdateRequestsInALoopGetOneAnswer():
    """Requests while we send nothing get one KeyUpdate back; after our next data, the next request is answered again."""
    server, client = pair()
    requests = b"".join(client._keyUpdate(1) for _ in range(100))
    assert server.receive(requests) == b""
    answer = server.takeOutgoing()
    assert len(answer) == len(pair()[0]._keyUpdate(0))  # one record
    assert server.receive(client._keyUpdate(1)) == b"" and server.takeOutgoing() == b""
    data = server.protect(b"hello")
    assert server.receive(client._keyUpdate(1)) == b"" and server.takeOutgoing()
    assert client.receive(answer + data) == b"hello"


def test_keyUpdateSplitAcrossRecords():
    """A handshake message may arrive in pieces (section 5.1)."""
    server, client = pair()
    message = struct.pack("!BHBB", KEY_UPDATE, 0, 1, 0)
    first = client.write.seal(HANDSHAKE, message[:2])
    second = client.write.seal(HANDSHAKE, message[2:])
    client.write.update()
    assert server.receive(first + second + client.protect(b"x")) == b"x"


def test_keyUpdateWithBadRequestRefused():
    """A KeyUpdate request other than 0 or 1 is illegal_parameter (section 4.6.3)."""
    server, client = pair()
    record = client.write.seal(HANDSHAKE, struct.pack("!BHBB", KEY_UPDATE, 0, 1, 7))
    assert refused(server, record) == tlsrecords.ILLEGAL_PARAMETER


def test_dataAfterKeyUpdateInItsRecordRefused():
    """A KeyUpdate must end its record: no message may span a key change."""
    server, client = pair()
    record = client.write.seal(HANDSHAKE, struct.pack("!BHBB", KEY_UPDATE, 0, 1, 0) + b"\x18")
    assert refused(server, record) == tlsrecords.UNEXPECTED_MESSAGE


def test_otherHandshakeMessagesRefused():
    """A client sends no handshake message but KeyUpdate after the handshake."""
    server, client = pair()
    ticket = client.write.seal(HANDSHAKE, b"\x04\x00\x00\x01\x00")
    assert refused(server, ticket) == tlsrecords.UNEXPECTED_MESSAGE


def test_interruptedHandshakeMessageRefused():
    """Application data in the middle of a handshake message is unexpected."""
    server, client = pair()
    data = client.write.seal(HANDSHAKE, b"\x18\x00") + client.protect(b"x")
    assert refused(server, data) == tlsrecords.UNEXPECTED_MESSAGE


def test_closeNotifyAnswered():
    """close_notify gets ours back; later input is ignored (section 6.1)."""
    server, client = pair()
    data = client.protect(b"last") + client.close() + client.protect(b"ignored")
    client.closed = None  # the test's peer keeps talking past its own close
    assert server.receive(data) == b"last"
    assert server.closed == "close_notify received"
    assert client.receive(server.takeOutgoing()) == b""
    assert client.closed == "close_notify received"
    assert server.protect(b"more") == b"" and server.receive(b"\x17") == b""


def test_userCanceledIsNotTheEnd():
    """user_canceled is followed by close_notify (section 6.1): on its own it ends nothing."""
    server, client = pair()
    canceled = client.write.seal(ALERT, bytes((1, tlsrecords.USER_CANCELED)))
    assert server.receive(canceled + client.protect(b"still here")) == b"still here"
    assert server.closed is None


def test_fatalAlertEnds():
    """Any other alert from the peer ends the connection (section 6.2)."""
    server, client = pair()
    assert server.receive(client.write.seal(ALERT, bytes((2, 40)))) == b""
    assert server.closed == "alert 40 received"


def test_malformedAlertRefused():
    """An alert that is not two bytes is decode_error."""
    server, client = pair()
    assert refused(server, client.write.seal(ALERT, b"\x02")) == tlsrecords.DECODE_ERROR


def test_restKeepsTheKeys():
    """rest() drops only the AEAD objects: the stream continues afterwards."""
    server, client = pair()
    assert server.receive(client.protect(b"a")) == b"a"
    server.rest()
    assert server.read._aead is None and server.write._aead is None
    assert server.receive(client.protect(b"b")) == b"b"
    assert client.receive(server.protect(b"c")) == b"c"


def test_emptyRecordsAllowedInModeration():
    """Zero-length application data is allowed (section 5.1); data resets the count."""
    server, client = pair()
    empty = b"".join(client.write.seal(APPLICATION_DATA, b"") for i in range(32))
    assert server.receive(empty + client.protect(b"data")) == b"data"
    again = b"".join(client.write.seal(APPLICATION_DATA, b"") for i in range(32))
    assert server.receive(again) == b"" and server.closed is None


def test_tooManyEmptyRecordsRefused():
    """More than maxEmptyRecords records without data in a row end the connection."""
    server, client = pair()
    empty = b"".join(client.write.seal(APPLICATION_DATA, b"") for i in range(33))
    assert refused(server, empty) == tlsrecords.UNEXPECTED_MESSAGE


def test_userCanceledAlertsCountAsEmpty(monkeypatch):
    """A run of user_canceled alerts, mixed with empty records, is bounded the same way."""
    monkeypatch.setattr(ProtectedChannel, "maxEmptyRecords", 4)  # as the configuration sets it
    server, client = pair()
    records = [client.write.seal(*record) for i in range(3)
               for record in ((ALERT, bytes((1, tlsrecords.USER_CANCELED))), (APPLICATION_DATA, b""))]
    assert refused(server, b"".join(records)) == tlsrecords.UNEXPECTED_MESSAGE


def test_alertAfterQueuedKeyUpdate():
    """The KeyUpdate answer queued before a bad record goes out first, so the alert is readable."""
    server, client = pair()
    with pytest.raises(TLSAlert) as caught:
        server.receive(client._keyUpdate(1) + b"\x17\x03\x03\x00\x20" + b"\0" * 32)
    data = server.alert(caught.value.description)
    assert server.outgoing == b""
    assert client.receive(data) == b""
    assert client.closed == "alert %d received" % (tlsrecords.BAD_RECORD_MAC,)
