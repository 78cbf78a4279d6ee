# -*- test-case-name: tests.cluster.test_link -*-
"""
The node's connection to NATS (core publish/subscribe, nats.io protocol),
run by the asyncio client C{nats-py} in a thread of its own.

Why a thread and not Twisted's asyncio reactor: the whole server, its TLS
layer and its tests run on Twisted's default (epoll) reactor, and a node
must behave exactly as a single server does; swapping the reactor for
every process that has a C{[cluster]} section would change the timing of
everything else.  The thread owns one asyncio loop and the NATS
connection; the reactor and the loop hand each other messages through two
queues, waking the other side once per batch rather than once per message
(C{call_soon_threadsafe} one way, C{callFromThread} the other), so order is
kept and a burst costs one wake-up.
"""

import asyncio
import collections
import threading

from twisted.internet import defer, reactor as _reactor

from jabberd.logs import Logger

__all__ = ["NATSLink", "LinkError"]


class LinkError(Exception):
    """NATS could not be reached."""


class NATSLink:
    """
    Publish and subscribe on one NATS server from the reactor thread.

    @ivar url: the NATS server's URL.
    @ivar connected: whether the connection is up.
    """

    log = Logger()

    def __init__(self, url, reactor=_reactor, connectTimeout=5):
        self.url = url
        self.reactor = reactor
        self.connectTimeout = connectTimeout
        self.connected = False
        self._loop = None
        self._thread = None
        self._nc = None
        self._subscriptions = {}
        self._outbox = collections.deque()
        self._outWake = False
        self._inbox = collections.deque()
        self._inWake = False
        self._outReady = None
        self._writer = None

    # --- reactor side ---

    def connect(self):
        """
        Connect, blocking (start-up work, before the reactor runs);
        L{LinkError} if NATS does not answer within C{connectTimeout}.
        """
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="nats-link", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._connect(), self._loop)
        try:
            future.result(self.connectTimeout + 1)
        except Exception as e:
            future.cancel()
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise LinkError(f"NATS at {self.url} is unreachable: {e!r}") from None
        self.connected = True
        return self

    def subscribe(self, subject, callback):
        """Call C{callback(subject, data)} in the reactor thread for every message on C{subject}."""
        self._loop.call_soon_threadsafe(self._subscribe, subject, callback)

    def publish(self, subject, data):
        """Send C{data} (bytes) on C{subject}; messages leave in the order published."""
        self._outbox.append((subject, data))
        if not self._outWake:
            self._outWake = True
            self._loop.call_soon_threadsafe(self._outReady.set)

    def close(self):
        """Send what is queued, close the connection, end the thread: a Deferred."""
        if self._loop is None or not self._loop.is_running():
            return defer.succeed(None)
        self.connected = False
        future = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
        d = defer.Deferred()
        future.add_done_callback(lambda f: self.reactor.callFromThread(d.callback, None))
        d.addCallback(lambda _: self._loop.call_soon_threadsafe(self._loop.stop))
        return d

    def _deliverInbox(self):
        self._inWake = False
        while self._inbox:
            callback, subject, data = self._inbox.popleft()
            try:
                callback(subject, data)
            except Exception:
                self.log.failure("cluster message on {subject} failed", subject=subject)

    # --- loop side ---

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _connect(self):
        import nats

        self._nc = await nats.connect(
            self.url, connect_timeout=self.connectTimeout, max_reconnect_attempts=-1,
            allow_reconnect=True,
            reconnect_time_wait=0.5, error_cb=self._onError,
            disconnected_cb=self._onDisconnected, reconnected_cb=self._onReconnected)
        self._outReady = asyncio.Event()
        self._outReady.set()  # what was published before the connection
        self._writer = asyncio.ensure_future(self._write())

    async def _onError(self, error):
        self.log.warn("NATS: {error}", error=error)

    async def _onDisconnected(self):
        self.log.warn("NATS connection lost; reconnecting")

    async def _onReconnected(self):
        self.log.info("NATS connection back")

    def _subscribe(self, subject, callback):
        async def onMessage(msg):
            self._inbox.append((callback, msg.subject, msg.data))
            if not self._inWake:
                self._inWake = True
                self.reactor.callFromThread(self._deliverInbox)

        self._subscriptions[subject] = asyncio.ensure_future(
            self._nc.subscribe(subject, cb=onMessage))

    async def _write(self):
        """The one writer: publishes the outbox in order, woken once per batch."""
        while True:
            await self._outReady.wait()
            self._outReady.clear()
            await self._flushOutbox()

    async def _flushOutbox(self):
        self._outWake = False
        while self._outbox:
            subject, data = self._outbox.popleft()
            try:
                await self._nc.publish(subject, data)
            except Exception as e:
                self.log.warn("NATS publish on {subject} failed: {error}", subject=subject,
                              error=e)

    async def _close(self):
        self._writer.cancel()
        await self._flushOutbox()
        try:
            await self._nc.flush(timeout=2)
            await self._nc.close()
        except Exception as e:
            self.log.warn("NATS close: {error}", error=e)
