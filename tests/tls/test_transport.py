"""
Tests for L{jabberd.tls.transport}: the server TLS layer against a real TLS
client (Python's C{ssl}, i.e. the system's OpenSSL) over in-memory
buffers, for the TLS 1.3 record layer of L{jabberd.tls.records} and for
the OpenSSL record layer kept for TLS 1.2.
"""

import ssl

import pytest
from OpenSSL._util import lib as _lib
from twisted.internet import task
from twisted.internet.testing import StringTransport

from jabberd import config as configmod
from jabberd.tls import certificates as tls, records as tlsrecords, transport as tlstransport


class Recorder:
    """The stream above the TLS layer: keeps what it is given."""

    def __init__(self):
        self.received = b""
        self.lost = None

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        self.lost = reason


@pytest.fixture(scope="module")
def contextFactory(tmp_path_factory):
    config = configmod.parse("[server]\ndomains = localhost\ndatadir = %s\n"
                             % (tmp_path_factory.mktemp("tls"),))
    return tls.serverContextFactory(config)


class Pair:
    """A client C{ssl.SSLObject} and a L{tlstransport.ServerTLS} joined by buffers."""

    def __init__(self, contextFactory, maximumVersion=None, chunk=None, alpn=None):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if maximumVersion is not None:
            context.maximum_version = maximumVersion
        if alpn is not None:
            context.set_alpn_protocols(alpn)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.client = context.wrap_bio(self.incoming, self.outgoing)
        self.raw = StringTransport()
        self.stream = Recorder()
        self.clock = task.Clock()
        self.server = tlstransport.startTLS(self.raw, contextFactory, self.stream, self.clock)
        self.chunk = chunk

    def toServer(self):
        data = self.outgoing.read()
        if self.chunk is None:
            self.server.dataReceived(data)
        else:
            for i in range(0, len(data), self.chunk):
                self.server.dataReceived(data[i:i + self.chunk])
        return data

    def toClient(self):
        self.clock.advance(0)  # the writes gathered during this turn
        data = self.raw.value()
        self.raw.clear()
        self.incoming.write(data)
        return data

    def handshake(self, thenSend=b""):
        """Run the handshake; C{thenSend} leaves with the client's Finished."""
        for _ in range(10):
            try:
                self.client.do_handshake()
            except ssl.SSLWantReadError:
                pass
            else:
                break
            self.toServer()
            self.toClient()
        if thenSend:
            self.client.write(thenSend)
        self.toServer()
        self.toClient()

    def clientRead(self):
        chunks = []
        while True:
            try:
                chunk = self.client.read(65536)
            except ssl.SSLWantReadError:
                chunk = b""
            if not chunk:  # nothing more for now, or the end (close_notify)
                return b"".join(chunks)
            chunks.append(chunk)

    def clientSends(self, data):
        self.client.write(data)
        self.toServer()
        self.toClient()


def test_tls13MovesToTheNativeRecordLayer(contextFactory):
    """After a TLS 1.3 handshake OpenSSL's connection is freed and data flows both ways."""
    pair = Pair(contextFactory)
    pair.handshake()
    assert pair.server.version == "TLSv1.3"
    assert pair.server.channel is not None and pair.server._ssl is None
    pair.clientSends(b"<stream:stream>")
    assert pair.stream.received == b"<stream:stream>"
    pair.server.write(b"<stream:features/>")
    pair.toClient()
    assert pair.clientRead() == b"<stream:features/>"


@pytest.mark.parametrize("offered, selected", [
    (["xmpp-client"], "xmpp-client"),
    (["h2", "xmpp-server"], "xmpp-server"),
    (["h2", "http/1.1"], None),
])
def test_alpn(contextFactory, offered, selected):
    """A client offering ALPN gets xmpp-client/xmpp-server (XEP-0368) or none, never an aborted handshake."""
    pair = Pair(contextFactory, alpn=offered)
    pair.handshake(thenSend=b"<stream:stream>")
    assert pair.client.selected_alpn_protocol() == selected
    assert pair.stream.received == b"<stream:stream>"


def test_failingCallbackClosesTheConnection(tmp_path, monkeypatch):
    """An exception in a handshake callback closes the connection instead of leaving it hanging."""
    def broken(connection, offered):
        raise RuntimeError("callback bug")
    monkeypatch.setattr(tlstransport, "_selectALPN", broken)
    config = configmod.parse("[server]\ndomains = localhost\ndatadir = %s\n" % (tmp_path,))
    pair = Pair(tls.serverContextFactory(config), alpn=["xmpp-client"])
    with pytest.raises(ssl.SSLError, match="no application protocol"):
        pair.handshake()  # the client gets OpenSSL's alert
    assert pair.raw.disconnecting
    assert pair.stream.received == b""


def test_dataWithTheFinishedFlight(contextFactory):
    """Application data in the same TCP chunk as the client's Finished is not lost."""
    pair = Pair(contextFactory)
    pair.handshake(thenSend=b"<stream:stream to='localhost'>")
    assert pair.stream.received == b"<stream:stream to='localhost'>"


def test_byteByByte(contextFactory):
    """Records arriving one byte at a time are reassembled, in the handshake and after."""
    pair = Pair(contextFactory, chunk=1)
    pair.handshake(thenSend=b"hello")
    pair.clientSends(b" world")
    assert pair.stream.received == b"hello world"


def test_largeWritesAreSplitIntoRecords(contextFactory):
    """More than 2^14 bytes go out as several records; the client reads them all."""
    pair = Pair(contextFactory)
    pair.handshake()
    payload = bytes(range(256)) * 400
    pair.server.write(payload)
    pair.toClient()
    assert pair.clientRead() == payload
    pair.clientSends(payload)
    assert pair.stream.received == payload


def test_writesDuringTheHandshakeWait(contextFactory):
    """What the stream writes before the handshake is over goes out once it is."""
    pair = Pair(contextFactory)
    pair.server.write(b"early")
    pair.handshake()
    assert pair.clientRead() == b"early"


def test_restFreesAndRebuildsTheCipher(contextFactory):
    """An idle connection drops its AEAD objects; traffic afterwards still works."""
    pair = Pair(contextFactory)
    pair.handshake()
    pair.clientSends(b"a")
    pair.server.rest()
    assert pair.server.channel.read._aead is None and pair.server.channel.write._aead is None
    pair.clientSends(b"b")
    pair.server.write(b"c")
    pair.toClient()
    assert (pair.stream.received, pair.clientRead()) == (b"ab", b"c")


def test_writesOfOneTurnShareARecord(contextFactory):
    """What the stream writes in one reactor turn leaves as one record, at the turn's end."""
    pair = Pair(contextFactory)
    pair.handshake()
    for i in range(10):
        pair.server.write(b"<message id='%d'/>" % (i,))
    assert pair.raw.value() == b""
    records = pair.toClient()
    assert records[:3] == b"\x17\x03\x03" and len(records) == 5 + int.from_bytes(records[3:5], "big")
    assert pair.clientRead() == b"".join(b"<message id='%d'/>" % (i,) for i in range(10))


def test_keyUpdateBothWays(contextFactory):
    """
    Our KeyUpdate asking for the client's is followed by OpenSSL's client:
    it moves to our new keys and answers with its own, which we follow
    (RFC 8446 section 4.6.3).
    """
    pair = Pair(contextFactory)
    pair.handshake()
    channel = pair.server.channel
    readSecret, writeSecret = channel.read.secret, channel.write.secret
    pair.raw.write(channel._keyUpdate(1))
    pair.server.write(b"after ")
    pair.server.write(b"update")
    pair.toClient()
    assert pair.clientRead() == b"after update"
    pair.clientSends(b"client after update")
    assert pair.stream.received == b"client after update"
    assert channel.read.secret != readSecret and channel.write.secret != writeSecret


def test_keysUpdatedBeforeTheLimit(contextFactory, monkeypatch):
    """At the record limit for one key our keys move on by themselves (section 5.5)."""
    assert tlsrecords.UPDATE_AFTER <= 2 ** 24.5
    pair = Pair(contextFactory)
    pair.handshake()
    channel = pair.server.channel
    monkeypatch.setattr(tlsrecords, "UPDATE_AFTER", channel.write.seq + 1)
    secret = channel.write.secret
    pair.server.write(b"x" * 20000)  # two records: the second needs new keys
    pair.toClient()
    assert pair.clientRead() == b"x" * 20000
    assert channel.write.secret != secret and channel.write.seq == 1


def test_closeNotifyFromUs(contextFactory):
    """loseConnection sends close_notify, which the client reads as a clean end."""
    pair = Pair(contextFactory)
    pair.handshake()
    pair.server.write(b"last words")
    pair.server.loseConnection()
    assert pair.raw.disconnecting
    pair.toClient()
    assert pair.clientRead() == b"last words"
    assert pair.client.read(10) == b""  # the end of a TLS connection, not a truncation
    pair.server.write(b"too late")
    assert pair.raw.value() == b""


def test_closeNotifyFromTheClient(contextFactory):
    """The client's close_notify is answered with ours and the connection closed."""
    pair = Pair(contextFactory)
    pair.handshake()
    pair.clientSends(b"bye")
    try:
        pair.client.unwrap()
    except ssl.SSLWantReadError:
        pass
    pair.toServer()
    assert pair.raw.disconnecting
    pair.toClient()
    pair.client.unwrap()  # our close_notify arrived: the shutdown completes
    assert pair.stream.received == b"bye"


def test_tamperedRecordEndsTheConnection(contextFactory):
    """A record that fails authentication is answered with bad_record_mac, not delivered."""
    pair = Pair(contextFactory)
    pair.handshake()
    pair.client.write(b"<message>secret</message>")
    record = bytearray(pair.outgoing.read())
    record[10] ^= 1
    pair.server.dataReceived(bytes(record))
    assert pair.stream.received == b""
    assert pair.raw.disconnecting
    pair.toClient()
    with pytest.raises(ssl.SSLError) as caught:
        pair.client.read(10)
    assert "BAD_RECORD_MAC" in str(caught.value).upper()


def test_notTLSAtAll(contextFactory):
    """Plain XML where a ClientHello belongs ends the connection."""
    raw = StringTransport()
    stream = Recorder()
    server = tlstransport.startTLS(raw, contextFactory, stream, task.Clock())
    server.dataReceived(b"<stream:stream xmlns='jabber:client' to='localhost'>")
    assert raw.disconnecting
    assert stream.received == b""
    server.dataReceived(b"<more/>")
    assert stream.received == b""


def test_tls12KeepsOpenSSL(contextFactory):
    """A TLS 1.2 client works through OpenSSL's record layer."""
    pair = Pair(contextFactory, maximumVersion=ssl.TLSVersion.TLSv1_2)
    pair.handshake(thenSend=b"<stream:stream>")
    assert pair.server.version == "TLSv1.2" and pair.server.channel is None
    assert pair.stream.received == b"<stream:stream>"
    pair.server.write(b"<stream:features/>")
    pair.toClient()
    assert pair.clientRead() == b"<stream:features/>"
    pair.server.loseConnection()
    pair.toClient()
    assert pair.client.read(10) == b""


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256"])
def test_everyTLS13Suite(tmp_path, suite):
    """Each AEAD suite of RFC 8446 section B.4 that OpenSSL offers by default works natively."""
    config = configmod.parse("[server]\ndomains = localhost\ndatadir = %s\n" % (tmp_path,))
    factory = tls.serverContextFactory(config)
    assert _lib.SSL_CTX_set_ciphersuites(factory.getContext()._context, suite.encode()) == 1
    pair = Pair(factory)
    pair.handshake(thenSend=b"ping")
    assert pair.server.channel.read.suite == suite
    pair.server.write(b"pong")
    pair.toClient()
    assert (pair.stream.received, pair.clientRead()) == (b"ping", b"pong")


class FakeTCP:
    """What L{tlstransport._sendNow} looks at in Twisted's TCP transport."""

    def __init__(self, accepts, queued=b""):
        self.accepts = accepts
        self.disconnecting = False
        self._tempDataLen = len(queued)
        self.dataBuffer, self.offset = b"", 0
        self.sent, self.queued = [], [queued] if queued else []

    def writeSomeData(self, data):
        self.sent.append(data[:self.accepts])
        return min(self.accepts, len(data))

    def write(self, data):
        self.queued.append(data)


def test_sendNowWhenNothingIsQueued():
    """With an empty buffer the bytes go straight to the socket."""
    tcp = FakeTCP(accepts=100)
    tlstransport._sendNow(tcp, b"x" * 10)
    assert (tcp.sent, tcp.queued) == ([b"x" * 10], [])


def test_sendNowQueuesWhatTheKernelDidNotTake():
    """What the socket did not take is queued with Twisted, which sends it later."""
    tcp = FakeTCP(accepts=4)
    tlstransport._sendNow(tcp, b"abcdefgh")
    assert (tcp.sent, tcp.queued) == ([b"abcd"], [b"efgh"])


def test_sendNowKeepsOrderBehindQueuedBytes():
    """Bytes already queued go first: new ones are queued behind them."""
    tcp = FakeTCP(accepts=100, queued=b"first")
    tlstransport._sendNow(tcp, b"second")
    assert (tcp.sent, tcp.queued) == ([], [b"first", b"second"])
