# -*- test-case-name: tests.tls.test_transport -*-
"""
Server-side TLS for client connections (STARTTLS, RFC 6120 section 5;
direct TLS, XEP-0368): OpenSSL does the handshake, and a TLS 1.3
connection then continues on L{jabberd.tls.records.ProtectedChannel}
with OpenSSL's per-connection state freed.

Why not Twisted's C{startTLS}: its TLS layer keeps the OpenSSL connection
for the life of the stream, about 24 KB each, more than all the rest an
idle authenticated client costs.  Here the handshake runs on a pyOpenSSL
connection over memory BIOs, fed one record at a time, so when the
client's Finished has been read the next byte is the first byte of the
first application data record.  The traffic secrets come from OpenSSL's
key log callback (the NSS key log lines C{CLIENT_TRAFFIC_SECRET_0} and
C{SERVER_TRAFFIC_SECRET_0}); the records OpenSSL wrote after the client's
Finished (session tickets) are counted to know our first write sequence
number.  Anything but TLS 1.3 with one of the three AEAD suites of RFC
8446 (an old TLS 1.2 client, say) keeps OpenSSL's record layer.

L{ServerTLS} sits between the TCP transport (to which it is the protocol)
and the stream (to which it is the transport), as Twisted's own TLS layer
does.  Like Twisted's, it gathers what the stream writes during one reactor
turn into one record: a room message fanned out with nine others to the same
occupant is one record to decrypt, not ten (L{_Coalescer}).
"""

import weakref

from OpenSSL import SSL
from twisted.internet import interfaces
from jabberd.listening import hasQueuedOutput
from jabberd.logs import Logger
from zope.interface import implementer

from jabberd.tls.records import HEADER, MAX_CIPHERTEXT, SUITES, ProtectedChannel, TLSAlert

__all__ = ["ServerTLS", "startTLS", "serverContext"]

log = Logger()

_SECRETS = (b"CLIENT_TRAFFIC_SECRET_0", b"SERVER_TRAFFIC_SECRET_0")
_prepared = weakref.WeakSet()


def _keylog(connection, line):
    """OpenSSL's key log callback: hand the application traffic secrets to their L{ServerTLS}."""
    owner = connection.get_app_data()
    if isinstance(owner, ServerTLS):
        label, _, rest = line.partition(b" ")
        if label in _SECRETS:
            owner.noteSecret(label, bytes.fromhex(rest.partition(b" ")[2].decode("ascii")))


#: ALPN protocol ids of XMPP (XEP-0368 section 3), in the server's order of preference.
ALPN_PROTOCOLS = (b"xmpp-client", b"xmpp-server")


def _selectALPN(connection, offered):
    """
    Answer a client's ALPN offer (RFC 7301): C{xmpp-client} or
    C{xmpp-server} if offered (XEP-0368), else no protocol, and the
    handshake goes on.  Twisted's own callback expects its TLS protocol
    (with a factory) as the connection's app data, and would abort every
    handshake with ALPN, such as Prosody's outgoing s2s or a direct TLS
    client's.
    """
    for protocol in ALPN_PROTOCOLS:
        if protocol in offered:
            return protocol
    return SSL.NO_OVERLAPPING_PROTOCOLS


def serverContext(contextFactory):
    """The factory's OpenSSL context, with the key log and ALPN callbacks L{ServerTLS} needs."""
    context = contextFactory.getContext()
    if context not in _prepared:
        context.set_keylog_callback(_keylog)
        context.set_alpn_select_callback(_selectALPN)
        _prepared.add(context)
    return context


class _Coalescer:
    """
    Flushes the L{ServerTLS} layers written to during a reactor turn, all
    at the start of the next one (one delayed call for all of them, not
    one per connection).
    """

    def __init__(self, clock):
        self.clock = clock
        self.pending = []
        self.call = None

    def add(self, tls):
        self.pending.append(tls)
        if self.call is None:
            self.call = self.clock.callLater(0, self.flush)

    def flush(self):
        self.call = None
        pending, self.pending = self.pending, []
        for tls in pending:
            tls.flush()


_coalescers = {}


def startTLS(transport, contextFactory, protocol, clock=None):
    """
    Put a TLS server layer between the TCP C{transport} and C{protocol};
    return the layer, which is C{protocol}'s transport from now on.
    Nothing may have been received after the STARTTLS <proceed/>.
    C{clock} (the reactor by default) runs the flushes of gathered writes.
    """
    if clock is None:
        from twisted.internet import reactor as clock
    coalescer = _coalescers.get(clock)
    if coalescer is None:
        coalescer = _coalescers[clock] = _Coalescer(clock)
    tls = ServerTLS(serverContext(contextFactory), transport, protocol, coalescer)
    transport.protocol = tls
    return tls


def _sendNow(transport, data):
    """
    Send C{data} at once when the TCP transport has nothing queued, else
    queue it.  A flush is already once per connection and reactor turn;
    going through Twisted's write buffer would add a poll round and two
    epoll_ctl calls (start and stop writing) per connection, which for a
    room message fanned out to 100 occupants is 200 system calls.
    """
    if transport.disconnecting or hasQueuedOutput(transport):
        transport.write(data)
        return
    sent = transport.writeSomeData(data)
    if isinstance(sent, int) and sent < len(data):
        transport.write(data[sent:])  # the kernel buffer is full: Twisted sends the rest
    elif not isinstance(sent, int):
        transport.write(data)  # the connection is going; Twisted notices and closes it


def _countRecords(data):
    count = offset = 0
    while offset + HEADER <= len(data):
        offset += HEADER + int.from_bytes(data[offset + 3:offset + 5], "big")
        count += 1
    return count


@implementer(interfaces.ITCPTransport, interfaces.ISSLTransport)
class ServerTLS:
    """
    The TLS layer of one client connection.

    @ivar transport: the TCP transport beneath.
    @ivar protocol: the stream above.
    @ivar channel: the L{ProtectedChannel} once a TLS 1.3 handshake is
        over; None before, and for connections OpenSSL keeps.
    @ivar version: the negotiated protocol (e.g. C{"TLSv1.3"}), once known.
    @ivar coalescer: the L{_Coalescer} that flushes this layer's writes.
    """

    __slots__ = ("transport", "protocol", "channel", "version", "disconnecting", "coalescer",
                 "_ssl", "_secrets", "_buffer", "_pending", "_out", "__weakref__")

    def __init__(self, context, transport, protocol, coalescer):
        self.transport = transport
        self.protocol = protocol
        self.coalescer = coalescer
        self._out = None
        self.channel = None
        self.version = None
        self.disconnecting = False
        self._ssl = SSL.Connection(context, None)
        self._ssl.set_accept_state()
        self._ssl.set_app_data(self)
        self._secrets = {}  # traffic secrets from the key log, until the handshake is over
        self._buffer = b""  # the start of a record not yet given to OpenSSL
        self._pending = []  # writes before the handshake is over; None after it

    def noteSecret(self, label, secret):
        if self._secrets is not None:
            self._secrets[label] = secret

    # input (IProtocol, called by the TCP transport)

    def makeConnection(self, transport):
        """The TCP connection exists already: nothing to do."""

    def dataReceived(self, data):
        channel = self.channel
        if channel is not None:
            try:
                plain = channel.receive(data)
            except TLSAlert as alert:
                self._fail(alert)
                return
            if channel.outgoing:
                self.transport.write(channel.takeOutgoing())
            if plain:
                self.protocol.dataReceived(plain)
            if channel.closed is not None and not self.disconnecting:
                self._drop()
        elif self._ssl is None:
            return
        elif self._pending is not None:
            self._handshakeReceived(data)
        else:
            self._opensslReceived(data)

    def _handshakeReceived(self, data):
        """Feed OpenSSL whole records until its handshake is done."""
        buffer = self._buffer + data
        ssl = self._ssl
        while len(buffer) >= HEADER:
            size = HEADER + int.from_bytes(buffer[3:5], "big")
            if size > HEADER + MAX_CIPHERTEXT:
                size = len(buffer)  # OpenSSL refuses the header with its own alert
            elif len(buffer) < size:
                break
            ssl.bio_write(buffer[:size])
            buffer = buffer[size:]
            try:
                ssl.do_handshake()
            except SSL.WantReadError:
                self._flushSSL()
                continue
            except SSL.Error as e:
                self._opensslFailed("handshake", e)
                return
            except Exception:
                # A failing callback (SNI, ALPN, key log) must not leave the peer hanging.
                log.failure("TLS handshake callback failed for {peer}",
                            peer=self.transport.getPeer())
                self._opensslFailed("handshake", "internal error")
                return
            self._buffer = b""
            self._handshakeDone(self._flushSSL())
            if buffer:
                self.dataReceived(buffer)
            return
        self._buffer = buffer

    def _handshakeDone(self, written):
        """Move a TLS 1.3 connection to L{ProtectedChannel}; then send what waited."""
        ssl = self._ssl
        self.version = ssl.get_protocol_version_name()
        suite = ssl.get_cipher_name()
        secrets, self._secrets = self._secrets, None
        if self.version == "TLSv1.3" and suite in SUITES and len(secrets) == 2:
            self.channel = ProtectedChannel(suite, secrets[_SECRETS[0]], secrets[_SECRETS[1]],
                                            writeSeq=_countRecords(written))
            ssl.set_app_data(None)
            self._ssl = None
        pending, self._pending = self._pending, None
        for data in pending:
            self.write(data)

    def _opensslReceived(self, data):
        """OpenSSL's record layer (connections L{ProtectedChannel} does not take)."""
        ssl = self._ssl
        ssl.bio_write(data)
        chunks = []
        closed = False
        while True:
            try:
                chunks.append(ssl.recv(65536))
            except SSL.WantReadError:
                break
            except SSL.ZeroReturnError:
                closed = True
                break
            except SSL.Error as e:
                self._opensslFailed("record", e)
                return
        self._flushSSL()
        if chunks:
            self.protocol.dataReceived(b"".join(chunks))
        if closed:
            self.loseConnection()

    def _flushSSL(self):
        """Send what OpenSSL wrote; return it."""
        chunks = []
        while True:
            try:
                chunks.append(self._ssl.bio_read(65536))
            except SSL.WantReadError:
                break
        data = b"".join(chunks)
        if data:
            _sendNow(self.transport, data)
        return data

    def _opensslFailed(self, stage, error):
        """OpenSSL refused the peer: send its alert, forget the connection, close."""
        self._flushSSL()
        log.info("TLS {stage} error with {peer}: {error}", stage=stage,
                 peer=self.transport.getPeer(), error=error)
        self._ssl = None
        self._drop()

    def _fail(self, alert):
        """The peer broke the record protocol: our fatal alert, then close."""
        log.info("TLS alert {alert} to {peer}: {reason}", alert=alert.description,
                 peer=self.transport.getPeer(), reason=alert.reason)
        self.transport.write(self.channel.alert(alert.description))
        self._drop()

    def _drop(self):
        """Close the TCP connection; the stream is told by connectionLost."""
        self.disconnecting = True
        self.transport.loseConnection()

    def connectionLost(self, reason):
        self.channel = self._ssl = self._out = None
        protocol, self.protocol = self.protocol, None
        if protocol is not None:
            protocol.connectionLost(reason)

    # output (ITransport, called by the stream)

    def write(self, data):
        if self.disconnecting:
            return
        if self.channel is not None:
            out = self._out
            if out is None:
                self._out = [data]
                self.coalescer.add(self)
            else:
                out.append(data)
        elif self._pending is not None:
            self._pending.append(data)
        elif self._ssl is not None:
            self._ssl.sendall(data)
            self._flushSSL()

    def writeSequence(self, data):
        self.write(b"".join(data))

    def flush(self):
        """Protect and send what was written since the last flush."""
        out, self._out = self._out, None
        if out and self.channel is not None:
            _sendNow(self.transport, self.channel.protect(b"".join(out)))

    def rest(self):
        """The stream is idle: free the per-record crypto state until traffic resumes."""
        if self.channel is not None:
            self.channel.rest()

    def loseConnection(self):
        """Send close_notify (RFC 8446 section 6.1), then close the TCP connection."""
        if self.disconnecting:
            return
        if self.channel is not None:
            self.flush()
            self.transport.write(self.channel.close())
        elif self._ssl is not None and self._pending is None:
            try:
                self._ssl.shutdown()
            except SSL.Error:
                pass
            self._flushSSL()
        self._drop()

    def abortConnection(self):
        self.disconnecting = True
        self.transport.abortConnection()

    def getPeer(self):
        return self.transport.getPeer()

    def getHost(self):
        return self.transport.getHost()

    def getHandle(self):
        return self.transport.getHandle()

    def getPeerCertificate(self):
        """Clients are not asked for certificates."""
        return None

    def registerProducer(self, producer, streaming):
        self.transport.registerProducer(producer, streaming)

    def unregisterProducer(self):
        self.transport.unregisterProducer()

    def pauseProducing(self):
        self.transport.pauseProducing()

    def resumeProducing(self):
        self.transport.resumeProducing()

    def stopProducing(self):
        self.transport.stopProducing()

    def getTcpNoDelay(self):
        return self.transport.getTcpNoDelay()

    def setTcpNoDelay(self, enabled):
        self.transport.setTcpNoDelay(enabled)

    def getTcpKeepAlive(self):
        return self.transport.getTcpKeepAlive()

    def setTcpKeepAlive(self, enabled):
        self.transport.setTcpKeepAlive(enabled)

    def loseWriteConnection(self):
        self.loseConnection()
