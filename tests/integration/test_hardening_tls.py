"""
Hardening of the TLS record layer (issue 14, item 12) against the real
server: a TLS 1.3 peer's records that carry nothing (zero-length
application data, which RFC 8446 section 5.1 allows, and C{user_canceled}
alerts) are counted in a row and end the connection past
C{[connections] tls_max_empty_records} with C{unexpected_message}; a fatal
alert for a bad record is sent after the KeyUpdate answer queued before
it, under the keys that answer announces, so the peer can read it.  An
honest client's ping is answered within 2 s throughout.
"""

import socket
import struct

import pytest

from jabberd.tls.records import (ALERT, APPLICATION_DATA, BAD_RECORD_MAC, HANDSHAKE, HEADER,
                                 KEY_UPDATE, UNEXPECTED_MESSAGE, USER_CANCELED, TLSAlert)
from tests.integration.clients import Client, run
from tests.integration.watch import PING_LIMIT, cpuSeconds, startServer, tls13Connection, whilePinging

RECORDS = 100_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = startServer(tmp_path_factory, users=("bob",))
    yield proc
    proc.stop()


def serverRecords(sock, channel):
    """
    The (content type, content) of the records the server sends until it
    closes, read with its keys, KeyUpdates followed; C{(None, None)} last if
    a record could not be opened.
    """
    sock.settimeout(10)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    records, offset = [], 0
    while len(data) - offset >= HEADER:
        length = struct.unpack_from("!H", data, offset + 3)[0]
        header, body = data[offset:offset + HEADER], data[offset + HEADER:offset + HEADER + length]
        offset += HEADER + length
        try:
            contentType, content = channel.read.open(header, body)
        except TLSAlert:
            records.append((None, None))
            break
        records.append((contentType, content))
        if contentType == HANDSHAKE and content[:1] == bytes((KEY_UPDATE,)):
            channel.read.update()
    return records


def sendRecords(port, keylog, make):
    """A TLS 1.3 connection sending C{RECORDS} records C{make(channel)} makes; what the server sent back."""
    sock, channel = tls13Connection(port, keylog)
    try:
        sock.sendall(b"".join(make(channel) for _ in range(RECORDS)))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed while we were still sending: it refused early
    records = serverRecords(sock, channel)
    sock.close()
    return records


def alertsIn(records):
    return [content[1] for contentType, content in records if contentType == ALERT]


def attackWhilePinging(server, tmp_path, make):
    async def main():
        honest = Client("bob@localhost/tls", "bobpw")
        assert await honest.login(server.ports["c2s"])
        cpu = cpuSeconds(server.process.pid)
        records, pings = await whilePinging(honest, sendRecords, server.ports["c2s-tls"],
                                            str(tmp_path / "keys.log"), make)
        spent = cpuSeconds(server.process.pid) - cpu
        assert pings and max(pings) < PING_LIMIT
        await honest.close()
        return records, spent
    return run(main())


def test_emptyRecordsEndTheConnection(server, tmp_path):
    """100,000 empty application-data records: the server ends the connection with unexpected_message, at little CPU cost."""
    records, spent = attackWhilePinging(
        server, tmp_path, lambda channel: channel.write.seal(APPLICATION_DATA, b""))
    assert alertsIn(records) == [UNEXPECTED_MESSAGE]
    assert spent < 5.0  # opening all 100,000 would take longer; it stops after 33


def test_userCanceledAlertsEndTheConnection(server, tmp_path):
    """100,000 user_canceled alerts never followed by close_notify end the connection with unexpected_message."""
    records, _ = attackWhilePinging(
        server, tmp_path, lambda channel: channel.write.seal(ALERT, bytes((1, USER_CANCELED))))
    assert alertsIn(records) == [UNEXPECTED_MESSAGE]


def test_alertAfterKeyUpdateAnswerIsReadable(server, tmp_path):
    """A KeyUpdate request then a forged record: the KeyUpdate answer comes first, then bad_record_mac the peer can open."""
    sock, channel = tls13Connection(server.ports["c2s-tls"], str(tmp_path / "keys.log"))
    request = channel._keyUpdate(1)
    forged = bytes((APPLICATION_DATA, 3, 3, 0, 40)) + b"\0" * 40
    sock.sendall(request + forged)
    records = serverRecords(sock, channel)
    sock.close()
    keyUpdates = [i for i, (t, c) in enumerate(records)
                  if t == HANDSHAKE and c[:1] == bytes((KEY_UPDATE,))]
    assert keyUpdates and (None, None) not in records, records
    assert alertsIn(records) == [BAD_RECORD_MAC]
    assert records.index((ALERT, bytes((2, BAD_RECORD_MAC)))) > keyUpdates[-1]
