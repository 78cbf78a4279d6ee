"""
A minimal XMPP client for the load generator, on a bare asyncio Protocol.

Stream negotiation follows RFC 6120: stream header and features (section 4),
STARTTLS (section 5, via C{loop.start_tls} with an unverified context),
SASL SCRAM-SHA-1 (section 6, L{bench.scram}), stream restart, resource
binding (section 7) and, where a server still marks it mandatory, the
RFC 3921 session; then initial presence (RFC 6121 section 4.2).  In-band
registration (XEP-0077) provisions accounts; L{mamQuery} asks a message
archive (XEP-0313) for a page.

Nothing is parsed as XML: the negotiation matches a few byte patterns, and
after login a scenario installs a callback that sees the raw decrypted bytes
(see L{Connection.setHandler}); scenarios scan them with C{bytes.find}.
"""

import asyncio
import base64
import re
import ssl
import time

from bench.scram import ScramClient, ScramError

__all__ = ["Target", "XMPPError", "Connection", "connect", "login", "register",
           "tlsContext", "StanzaBuffer", "loginMany", "closeAll", "mamQuery", "AckCounter",
           "enableFeatures", "DEPLOYMENT_FEATURES"]

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_SM = "urn:xmpp:sm:3"
NS_CARBONS = "urn:xmpp:carbons:2"

#: What a client of the deployment profile turns on after binding.
DEPLOYMENT_FEATURES = ("sm", "carbons")

_FEATURES = re.compile(rb"<(?:stream:)?features\b[^>]*?(?:/>|>.*?</(?:stream:)?features>)", re.S)
_PROCEED = re.compile(rb"<(proceed|failure)\b[^>]*>")
_SASL = re.compile(rb"<(challenge|success|failure)\b[^>]*?(?:/>|>(.*?)</\1>)", re.S)
_JID = re.compile(rb"<jid>([^<]*)</jid>")
_TYPE = re.compile(rb"\btype=['\"]([a-z]+)['\"]")
_COUNT = re.compile(rb"<count>(\d+)</count>")
_ENABLED = re.compile(rb"<(enabled|failed)\b[^>]*?(?:/>|>.*?</\1>)", re.S)


def takeMatch(buf, pattern):
    """
    Search the bytearray C{buf} for C{pattern}; on a match consume the
    input through it and return the match (made on a copy, since a match on
    the bytearray would see it change), else None.
    """
    match = pattern.search(buf)
    if match is None:
        return None
    data = bytes(buf[:match.end()])
    del buf[:match.end()]
    return pattern.search(data)


class XMPPError(Exception):
    """The server refused or broke off a negotiation step."""


class Target:
    """
    Where to connect: address, port, XMPP domain, MUC service, password;
    C{features}: what every login turns on after binding (C{"sm"}: stream
    management, XEP-0198; C{"carbons"}: XEP-0280), none by default;
    C{source}: the local address to connect from (None for the system's
    choice; a 127.0.0.x of its own gives a generator another ephemeral
    port range).
    """

    def __init__(self, host="127.0.0.1", port=5222, domain="localhost",
                 mucDomain="conference.localhost", password="benchpass1", features=(),
                 source=None):
        self.host, self.port, self.domain = host, port, domain
        self.mucDomain, self.password = mucDomain, password
        self.features = frozenset(features)
        self.source = source


class AckCounter:
    """
    The client side of stream management (XEP-0198 section 4) without a
    parser: counts the stanzas received since C{<enabled/>} by their start
    tags (a C{<forwarded/>} wraps one more C{<message/>}, which is no
    stanza of its own) and answers every C{<r/>} with C{<a h/>}.  Input
    after the last C{>} waits for the next chunk, so no tag is counted in
    halves; h never exceeds what the server sent.
    """

    _STANZAS = (b"<message", b"<presence", b"<iq ", b"<iq>")

    def __init__(self, conn):
        self.conn = conn
        self.h = 0
        self.rest = b""

    def __call__(self, data):
        data = self.rest + data
        cut = data.rfind(b">") + 1
        self.rest, data = data[cut:], data[:cut]
        if not data:
            return
        self.h += sum(data.count(tag) for tag in self._STANZAS) - data.count(b"<forwarded")
        if b"<r xmlns" in data or b"<r/>" in data:
            self.conn.send(f"<a xmlns='{NS_SM}' h='{self.h % 2 ** 32}'/>".encode())


def tlsContext():
    """One client context for every connection: no verification, as in a lab."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def iqPattern(iqId):
    """A pattern matching the whole C{<iq/>} whose id is C{iqId} (bytes)."""
    return re.compile(rb"<iq\b[^>]*\bid=['\"]" + re.escape(iqId)
                      + rb"['\"][^>]*?(?:/>|>.*?</iq>)", re.S)


class Connection(asyncio.Protocol):
    """
    One client connection.  During negotiation incoming bytes collect in
    C{buf} and L{expect} waits for a pattern; after L{setHandler} every
    chunk goes straight to the handler.
    """

    def __init__(self):
        self.transport = None
        self.buf = bytearray()
        self.waiter = None
        self.handler = None
        self.lost = False
        self.jid = None
        self.acks = None  # an AckCounter once stream management is on

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.acks is not None:
            self.acks(data)
        if self.handler is not None:
            self.handler(data)
            return
        self.buf += data
        self._wake()

    def connection_lost(self, exc):
        self.lost = True
        self._wake()

    def eof_received(self):
        # Let the transport close; waiters see C{lost}.
        return False

    def _wake(self):
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def send(self, data):
        self.transport.write(data)

    async def expect(self, pattern, timeout=30.0):
        """Wait for C{pattern} in the input; consume through it; the match."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            match = takeMatch(self.buf, pattern)
            if match is not None:
                return match
            if b"<stream:error" in self.buf or b"</stream:stream>" in self.buf:
                tail = bytes(self.buf[-300:]).decode("utf-8", "replace")
                raise XMPPError("stream error: " + tail)
            if self.lost:
                raise XMPPError("connection closed by the server")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise XMPPError(f"timeout waiting for {pattern.pattern[:40]!r}")
            self.waiter = loop.create_future()
            try:
                await asyncio.wait_for(self.waiter, remaining)
            except asyncio.TimeoutError:
                pass

    def setHandler(self, handler):
        """From now on hand every incoming chunk to C{handler} (leftovers first)."""
        self.handler = handler
        if self.buf:
            data, self.buf = bytes(self.buf), bytearray()
            handler(data)

    def close(self):
        if self.transport is not None and not self.lost:
            try:
                self.transport.write(b"</stream:stream>")
            except (RuntimeError, ConnectionError):
                pass
            self.transport.close()

    async def startTLS(self, context, hostname):
        loop = asyncio.get_running_loop()
        self.transport = await loop.start_tls(self.transport, self, context,
                                              server_hostname=hostname)


def _header(domain):
    return (f"<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' "
            "xml:lang='en' xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams'>").encode("ascii")


async def _restart(conn, domain, timeout):
    conn.send(_header(domain))
    return (await conn.expect(_FEATURES, timeout)).group(0)


async def connect(target, context, timeout=30.0):
    """Open a stream and negotiate STARTTLS; the connection and its features."""
    loop = asyncio.get_running_loop()
    local = (target.source, 0) if target.source else None
    _, conn = await asyncio.wait_for(
        loop.create_connection(Connection, target.host, target.port, local_addr=local), timeout)
    features = await _restart(conn, target.domain, timeout)
    if NS_TLS.encode() in features:
        conn.send(f"<starttls xmlns='{NS_TLS}'/>".encode())
        if (await conn.expect(_PROCEED, timeout)).group(1) != b"proceed":
            raise XMPPError("STARTTLS refused")
        await conn.startTLS(context, target.domain)
        features = await _restart(conn, target.domain, timeout)
    return conn, features


async def authenticate(conn, features, username, password, timeout=30.0, scram=ScramClient):
    """
    SASL SCRAM-SHA-1 (RFC 6120 section 6) with a client made by C{scram};
    raise L{XMPPError} on failure.
    """
    if b">SCRAM-SHA-1<" not in features:
        raise XMPPError("SCRAM-SHA-1 not offered")
    scram = scram(username, password)
    conn.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-1'>".encode()
              + base64.b64encode(scram.first()) + b"</auth>")
    reply = await conn.expect(_SASL, timeout)
    if reply.group(1) != b"challenge":
        raise XMPPError(f"SASL: {reply.group(0)[:200]!r}")
    final = scram.final(base64.b64decode(reply.group(2) or b""))
    conn.send(f"<response xmlns='{NS_SASL}'>".encode() + base64.b64encode(final)
              + b"</response>")
    reply = await conn.expect(_SASL, timeout)
    if reply.group(1) == b"challenge":
        # COMPAT: RFC 4422 servers may send the verifier as a last challenge.
        scram.verify(base64.b64decode(reply.group(2) or b""))
        conn.send(f"<response xmlns='{NS_SASL}'/>".encode())
        reply = await conn.expect(_SASL, timeout)
        if reply.group(1) != b"success":
            raise XMPPError(f"SASL: {reply.group(0)[:200]!r}")
    elif reply.group(1) == b"success":
        scram.verify(base64.b64decode(reply.group(2) or b""))
    else:
        raise XMPPError(f"SASL failure for {username}: {reply.group(0)[:200]!r}")


async def bind(conn, features, resource, timeout=30.0):
    """Bind C{resource} (RFC 6120 section 7) and open a session if required."""
    # The explicit xmlns matters over BOSH, where the default is httpbind's.
    conn.send(f"<iq type='set' id='bind1' xmlns='jabber:client'><bind xmlns='{NS_BIND}'>"
              f"<resource>{resource}</resource></bind></iq>".encode())
    reply = (await conn.expect(iqPattern(b"bind1"), timeout)).group(0)
    jid = _JID.search(reply)
    if jid is None:
        raise XMPPError(f"bind failed: {reply[:200]!r}")
    conn.jid = jid.group(1).decode()
    session = features.find(NS_SESSION.encode())
    if session >= 0 and b"optional" not in features[session:session + 80]:
        conn.send(f"<iq type='set' id='sess1' xmlns='jabber:client'>"
                  f"<session xmlns='{NS_SESSION}'/></iq>".encode())
        await conn.expect(iqPattern(b"sess1"), timeout)


async def enableFeatures(conn, features, wanted, timeout=30.0):
    """
    After binding, what a deployed client turns on (C{wanted}): stream
    management (XEP-0198 section 3, C{<enable resume/>}), then message
    carbons (XEP-0280 section 4); a server that offers neither fails.
    """
    if "sm" in wanted:
        if NS_SM.encode() not in features:
            raise XMPPError("stream management not offered")
        conn.send(f"<enable xmlns='{NS_SM}' resume='true'/>".encode())
        reply = await conn.expect(_ENABLED, timeout)
        if reply.group(1) != b"enabled":
            raise XMPPError(f"stream management refused: {reply.group(0)[:200]!r}")
        conn.acks = AckCounter(conn)
    if "carbons" in wanted:
        conn.send(f"<iq type='set' id='carbons1'><enable xmlns='{NS_CARBONS}'/></iq>".encode())
        reply = (await conn.expect(iqPattern(b"carbons1"), timeout)).group(0)
        kind = _TYPE.search(reply)
        if kind is None or kind.group(1) != b"result":
            raise XMPPError(f"carbons refused: {reply[:200]!r}")


async def login(target, context, username, resource="bench", presence=True,
                rosterGet=False, timeout=30.0, scram=ScramClient):
    """
    Connect, STARTTLS, SCRAM-SHA-1, bind, roster, initial presence
    (C{presence}: true for a bare C{<presence/>}, or the bytes to send).
    """
    conn, features = await connect(target, context, timeout)
    try:
        await authenticate(conn, features, username, target.password, timeout, scram)
        features = await _restart(conn, target.domain, timeout)
        await bind(conn, features, resource, timeout)
        await enableFeatures(conn, features, target.features, timeout)
        if rosterGet:
            conn.send(b"<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>")
            await conn.expect(iqPattern(b"roster1"), timeout)
        if presence:
            conn.send(presence if isinstance(presence, bytes) else b"<presence/>")
    except BaseException:
        conn.close()
        raise
    return conn


async def register(target, context, username, timeout=30.0):
    """
    Create C{username} by in-band registration (XEP-0077 section 3.1) on an
    encrypted, unauthenticated stream.  True if created or already there.
    """
    conn, features = await connect(target, context, timeout)
    try:
        conn.send(f"<iq type='set' id='reg1'><query xmlns='jabber:iq:register'>"
                  f"<username>{username}</username><password>{target.password}"
                  "</password></query></iq>".encode())
        reply = (await conn.expect(iqPattern(b"reg1"), timeout)).group(0)
    finally:
        conn.close()
    kind = _TYPE.search(reply)
    if kind is not None and kind.group(1) == b"result":
        return True
    if b"<conflict" in reply:
        return True
    raise XMPPError(f"registration of {username} refused: {reply[:300]!r}")


class StanzaBuffer:
    """
    Hands complete top-level stanzas of one kind to a scanner: bytes after
    the last C{end} marker wait for the next chunk, so a stanza split by TCP
    or TLS records is never scanned in halves.
    """

    def __init__(self, end, scan):
        self.end = end
        self.scan = scan
        self.rest = b""

    def __call__(self, data):
        if self.rest:
            data = self.rest + data
        cut = data.rfind(self.end)
        if cut < 0:
            self.rest = data
            return
        cut += len(self.end)
        self.rest = data[cut:]
        self.scan(data[:cut])


async def loginMany(target, context, names, concurrency, onLogin=None, timeout=60.0, **kwargs):
    """
    Log C{names} in, at most C{concurrency} at a time.  C{onLogin(i, conn)}
    runs right after each login, so a scenario's handler sees what arrives
    first.  Returns (connections or None, login seconds, error strings).
    """
    gate = asyncio.Semaphore(concurrency)
    conns, latencies, errors = [None] * len(names), [], []

    async def one(index, name):
        async with gate:
            started = time.perf_counter()  # uvloop's loop.time() has 1 ms steps
            try:
                conn = await login(target, context, name, timeout=timeout, **kwargs)
            except (XMPPError, ScramError, OSError, asyncio.TimeoutError) as e:
                errors.append(f"{name}: {e}")
                return
            latencies.append(time.perf_counter() - started)
            conns[index] = conn
            if onLogin is not None:
                onLogin(index, conn)

    await asyncio.gather(*(one(i, name) for i, name in enumerate(names)))
    return conns, latencies, errors


def closeAll(conns):
    """Close every open connection in C{conns} (None entries are skipped)."""
    for conn in conns:
        if conn is not None:
            conn.close()


def _upToIq(iqId):
    """A pattern matching everything up to and including the C{<iq/>} C{iqId}."""
    return re.compile(rb"\A(.*?)(<iq\b[^>]*\bid=['\"]" + re.escape(iqId)
                      + rb"['\"][^>]*?(?:/>|>.*?</iq>))", re.S)


async def mamQuery(conn, iqId, pageSize, timeout=30.0):
    """
    Ask the user's own archive for its newest page (XEP-0313 section 4 with
    XEP-0059 section 2.5: C{<max/>} and an empty C{<before/>}, "the last
    page"); the results arrive as messages before the C{<iq type='result'/>}
    that ends the query (XEP-0313 section 4).  Returns the number of
    results and the archive's size from the C{<fin/>}'s RSM C{<count/>}
    (None when the server gives none); raises L{XMPPError} when the server
    answers with an error.
    """
    conn.send(f"<iq type='set' id='{iqId}'><query xmlns='{NS_MAM}' queryid='{iqId}'>"
              f"<set xmlns='{NS_RSM}'><max>{pageSize}</max><before/></set>"
              "</query></iq>".encode())
    match = await conn.expect(_upToIq(iqId.encode()), timeout)
    kind = _TYPE.search(match.group(2))
    if kind is None or kind.group(1) != b"result":
        raise XMPPError(f"archive query refused: {match.group(2)[:300]!r}")
    total = _COUNT.search(match.group(2))
    return match.group(1).count(b"<result "), int(total.group(1)) if total else None
