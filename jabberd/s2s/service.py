# -*- test-case-name: tests.s2s.test_outbound -*-
"""
Server-to-server delivery (RFC 6120 sections 10.4 and 13.8; XEP-0220).

L{S2SService} is the router's route for every domain it does not serve
(L{RemoteRoute}).  A stanza from one of our domains to a remote domain
waits in a queue for that (local, remote) pair while a stream is opened
and dialback proves our domain; then the queue and everything after it go
out on that stream.  When no stream can be had (no server, TLS refused,
key rejected, no answer within C{[s2s] connect_timeout}) every queued
stanza bounces with C{remote-server-not-found} or
C{remote-server-timeout} (RFC 6120 sections 8.3.3.15 and 8.3.3.16).

It also checks the keys other servers present to our listener, by asking
their authoritative server on a stream of its own (L{verifyKey}).  Each
check is a connection we open because a peer asked, so at most
C{[s2s] max_verifications} run at once, and at most
C{max_verifications_per_domain} for one claimed domain; past that the
key is answered with a C{resource-constraint} dialback error (XEP-0220
section 2.4).  Likewise at most C{[s2s] max_connecting} outgoing streams
are being set up at once; a stanza for yet another remote domain bounces
with C{resource-constraint}.  Where we connect to at all is the address policy's
decision (L{jabberd.s2s.addresses}).
"""

import secrets

from twisted.internet import defer, protocol, reactor as defaultReactor
from twisted.internet import ssl, task

from jabberd.admission import ConnectionLimiter
from jabberd.tls import transport as tlstransport
from jabberd.error import errorReply, isErrorable
from jabberd.jidutil import domainOf, parseJID
from jabberd.logs import Logger
from jabberd.router import Route
from jabberd.s2s.inbound import InboundStream
from jabberd.s2s.outbound import OutboundFactory, S2SError, VerifyRequest
from jabberd.s2s.addresses import AddressPolicy
from jabberd.s2s.resolver import connectServer
from jabberd.xmlparser import ParserLimits

__all__ = ["S2SService", "S2SFactory", "RemoteRoute"]


class RemoteRoute(Route):
    """The router's route to every domain it does not serve: hands stanzas to s2s."""

    domain = None

    def __init__(self, service):
        self.service = service

    def deliver(self, stanza):
        self.service.send(stanza)


class _Pair:
    """The outgoing stream for one (local, remote) pair and what waits for it."""

    def __init__(self):
        self.stream = None
        self.queue = []
        self.factory = None
        self.timeout = None


class S2SService:
    """
    @ivar router: the server's L{Router}.
    @ivar secret: the dialback secret (XEP-0185); random per start when
        the configuration has none.
    @ivar pairs: (local, remote) -> L{_Pair}.
    @ivar clientTLS: the TLS context for streams we open.
    """

    log = Logger()
    maxQueue = 1000

    def __init__(self, router, config, clock=None):
        self.router = router
        s2s = config.s2s
        self.requireTLS = s2s.requireTLS
        self.secret = s2s.secret or secrets.token_hex(32)
        self.hostsMap = s2s.hosts
        self.connectTimeout = s2s.connectTimeout
        self.idleTimeout = s2s.idleTimeout
        self.maxStanzaSize = config.server.maxStanzaSize
        self.parserLimits = ParserLimits.fromConfig(config.parser)
        self.connections = config.connections
        self.defaultDomain = config.server.domains[0]
        self.clock = clock if clock is not None else defaultReactor
        self.clientTLS = ssl.CertificateOptions()
        self.pairs = {}
        self.route = RemoteRoute(self)
        self.policy = AddressPolicy.fromConfig(s2s)
        self.maxVerifications = s2s.maxVerifications
        self.maxVerificationsPerDomain = s2s.maxVerificationsPerDomain
        self.maxConnecting = s2s.maxConnecting
        self.verifications = {}  # originating domain -> checks under way
        self.verificationsTotal = 0
        self._refusedSince = 0  # checks refused since the last warning
        self._refusalWarned = None  # when that warning was logged

    def hosts(self, domain):
        """Whether C{domain} is ours: the router serves it (local domain or component)."""
        return domain in self.router.routes

    # outgoing stanzas

    def send(self, stanza):
        """Send C{stanza} (from one of our domains) to its remote domain."""
        local = domainOf(stanza.getAttribute("from") or "")
        to = parseJID(stanza.getAttribute("to") or "")
        if not self.hosts(local) or to is None or self.policy.refusesDomain(to.host):
            self._bounce(stanza, "remote-server-not-found")
            return
        pair = self.pairs.get((local, to.host))
        if pair is None:
            if self.connecting() >= self.maxConnecting:
                # Each new remote domain costs a DNS query and a socket: local users
                # addressing thousands of domains must not exhaust descriptors.
                self._bounce(stanza, "resource-constraint")
                return
            pair = self.pairs[(local, to.host)] = _Pair()
            self._connect(local, to.host, pair)
        if pair.stream is not None and not pair.stream.closing:
            pair.stream.send(stanza)
        elif len(pair.queue) >= self.maxQueue:
            self._bounce(stanza, "resource-constraint")
        else:
            pair.queue.append(stanza)

    def connecting(self):
        """How many outgoing streams are being set up (connected or not, dialback not done)."""
        return sum(1 for pair in self.pairs.values() if pair.stream is None)

    def _connect(self, local, remote, pair):
        pair.factory = OutboundFactory(self, local, remote)
        pair.timeout = self.clock.callLater(self.connectTimeout, self._timedOut, local, remote)
        connectServer(self.clock, remote, pair.factory, self.hostsMap, self.connectTimeout,
                      self.policy)

    def _timedOut(self, local, remote):
        pair = self.pairs.get((local, remote))
        if pair is None or pair.stream is not None:
            return
        pair.timeout = None
        stream = pair.factory.stream
        self._drop(local, remote, S2SError("remote-server-timeout"))
        if stream is not None:
            stream.fail("connection-timeout")

    def outboundReady(self, stream):
        """Dialback succeeded on C{stream}: send what waited, and route future stanzas there."""
        pair = self.pairs.get((stream.local, stream.remote))
        if pair is None or pair.factory is None or pair.factory.stream is not stream:
            stream.closeStream()
            return
        self._cancelTimeout(pair)
        pair.stream = stream
        queue, pair.queue = pair.queue, []
        self.log.info("s2s: {local} -> {remote} ready", local=stream.local, remote=stream.remote)
        for stanza in queue:
            stream.send(stanza)

    def outboundLost(self, stream, failure):
        """An outgoing stream closed; a verification stream is no pair's."""
        if stream.verifying:
            return
        key = (stream.local, stream.remote)
        pair = self.pairs.get(key)
        if pair is None or (pair.stream is not stream and pair.factory.stream is not stream):
            return
        if pair.stream is stream and pair.queue:
            # A stream that worked closed while stanzas waited: dial again for them.
            pair.stream = None
            self._connect(stream.local, stream.remote, pair)
        else:
            self._drop(stream.local, stream.remote, failure)

    def connectFailed(self, factory, failure):
        """No connection could be made for C{factory}."""
        if factory.request is not None:
            return
        pair = self.pairs.get((factory.local, factory.remote))
        if pair is not None and pair.factory is factory:
            self._drop(factory.local, factory.remote, failure)

    def _drop(self, local, remote, failure):
        """Forget the pair; bounce what still waited (a pair that was ready has nothing)."""
        pair = self.pairs.pop((local, remote))
        self._cancelTimeout(pair)
        if pair.queue:
            self.log.info("s2s: {local} -> {remote} failed ({why}); {count} stanza(s) bounced",
                          local=local, remote=remote, why=failure, count=len(pair.queue))
        condition = ("remote-server-timeout" if getattr(failure, "condition", None)
                     == "remote-server-timeout" else "remote-server-not-found")
        for stanza in pair.queue:
            self._bounce(stanza, condition)

    def _cancelTimeout(self, pair):
        if pair.timeout is not None and pair.timeout.active():
            pair.timeout.cancel()
        pair.timeout = None

    def _bounce(self, stanza, condition):
        # From the address that could not be reached (RFC 6120 8.3.3.15).
        if isErrorable(stanza) and stanza.getAttribute("from"):
            self.router.route(errorReply(stanza, condition))

    # verifying other servers' keys

    def verifyKey(self, receiving, originating, streamID, key):
        """
        Ask C{originating}'s authoritative server whether C{key} is right
        for our stream C{streamID} (XEP-0220 section 2.2); a Deferred of
        True or False, failing with L{S2SError} when it cannot say
        (C{resource-constraint} when too many checks are under way).
        """
        under = self.verifications.get(originating, 0)
        if (self.verificationsTotal >= self.maxVerifications
                or under >= self.maxVerificationsPerDomain):
            self._noteRefusal(originating)
            return defer.fail(S2SError("resource-constraint", "too many checks under way"))
        self.verifications[originating] = under + 1
        self.verificationsTotal += 1

        def cancel(d):
            if factory.stream is not None:
                factory.stream.fail("connection-timeout")

        d = defer.Deferred(cancel)
        factory = OutboundFactory(self, receiving, originating,
                                  VerifyRequest(streamID, key, d))
        connectServer(self.clock, originating, factory, self.hostsMap, self.connectTimeout,
                      self.policy)
        d.addTimeout(self.connectTimeout, self.clock)
        return d.addBoth(self._verificationDone, originating)

    REFUSAL_LOG_INTERVAL = 10.0
    """Seconds between warnings of refused checks: a flood of claims must not flood the log."""

    def _noteRefusal(self, originating):
        """Warn of a refused check: the first, then at most once an interval with the count."""
        self._refusedSince += 1
        now = self.clock.seconds()
        if self._refusalWarned is not None and now - self._refusalWarned < self.REFUSAL_LOG_INTERVAL:
            return
        self.log.warn("s2s: too many dialback checks under way; refused {count} "
                      "(the last for {remote})", count=self._refusedSince, remote=originating)
        self._refusalWarned, self._refusedSince = now, 0

    def _verificationDone(self, result, originating):
        self.verificationsTotal -= 1
        left = self.verifications.pop(originating) - 1
        if left:
            self.verifications[originating] = left
        return result

    def outboundStreams(self):
        """The outgoing streams that carry stanzas (dialback done)."""
        return [pair.stream for pair in self.pairs.values() if pair.stream is not None]

    def closeAll(self, condition="system-shutdown"):
        """End every outgoing stream (at shutdown)."""
        for pair in list(self.pairs.values()):
            if pair.stream is not None:
                pair.stream.closeWithError(condition)


class S2SFactory(protocol.ServerFactory):
    """
    The listener for other servers (port 5269).  While it listens it also
    closes streams to and from other servers that were quiet for
    C{[s2s] idle_timeout} (RFC 6120 section 4.4: either side may close a
    stream it no longer needs; the next stanza opens a new one).

    @ivar streams: the connected L{InboundStream}s.
    @ivar limiter: admits connections per address and in total, with the
        C{[connections]} limits, counted apart from client connections.
    """

    def __init__(self, service, contextFactory, clock=None):
        self.service = service
        self.contextFactory = contextFactory
        self.clock = clock if clock is not None else defaultReactor
        self.streams = set()
        self.limiter = ConnectionLimiter.fromConfig(service.connections)
        self._sweep = None

    def startFactory(self):
        timeout = self.service.idleTimeout
        if timeout:
            self._sweep = task.LoopingCall(self.closeIdle)
            self._sweep.clock = self.clock
            self._sweep.start(max(timeout / 4, 1), now=False)

    def stopFactory(self):
        if self._sweep is not None and self._sweep.running:
            self._sweep.stop()
        self._sweep = None

    def closeIdle(self):
        """Close the streams, both ways, without traffic for the idle timeout."""
        cutoff = self.clock.seconds() - self.service.idleTimeout
        for stream in list(self.streams) + self.service.outboundStreams():
            if stream.lastActive <= cutoff and not stream.closing:
                self.service.log.info("s2s: closing idle stream {local} / {remote}",
                                      local=stream.local, remote=stream.remote)
                stream.closeStream()

    def startTLS(self, transport, stream):
        """Put the server TLS layer on C{transport}; return it, C{stream}'s new transport."""
        return tlstransport.startTLS(transport, self.contextFactory, stream, self.clock)

    def buildProtocol(self, addr):
        return InboundStream(self)

    def closeAll(self, condition="system-shutdown", text=None):
        """End every inbound stream and the service's outgoing ones (e.g. at shutdown)."""
        for stream in list(self.streams):
            stream.closeWithError(condition, text)
        self.service.closeAll(condition)
