"""
Real XMPP clients for integration tests: slixmpp, and raw XML over a socket
for what a well-behaved library will not send.
"""

import asyncio
import socket
import ssl

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

TIMEOUT = 10


def insecureContext(context):
    """Accept the server's self-signed test certificate."""
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE


class Client(slixmpp.ClientXMPP):
    """
    A slixmpp client that records what it receives.

    @ivar messages: queue of received message stanzas.
    @ivar presences: queue of received presence stanzas.
    """

    def __init__(self, jid, password, mechanism=None, directTLS=False, plugins=()):
        super().__init__(jid, password)
        self.directTLS = directTLS
        self.enable_direct_tls = directTLS
        self.enable_starttls = not directTLS
        self.enable_plaintext = False
        insecureContext(self.ssl_context)
        if mechanism:
            self["feature_mechanisms"].use_mech = mechanism
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        for plugin in plugins:
            self.register_plugin(plugin)
        self.messages = asyncio.Queue()
        self.presences = asyncio.Queue()
        self.streamErrors = asyncio.Queue()
        # Every stanza, whatever slixmpp's plugins make of it (bodiless room
        # subjects, invitations, MUC presence), lands in these queues.
        self.register_handler(Callback("test messages", MatchXPath("{jabber:client}message"),
                                       self.messages.put_nowait))
        self.register_handler(Callback("test presences", MatchXPath("{jabber:client}presence"),
                                       self.presences.put_nowait))
        self.add_event_handler("stream_error", self.streamErrors.put_nowait)

    async def login(self, port, presence=True):
        """Connect, authenticate and bind; send initial presence if asked."""
        started = self.loop.create_future()
        self.add_event_handler("session_start", lambda _: started.done() or started.set_result(True),
                               disposable=True)
        for failure in ("failed_all_auth", "failed_auth"):
            self.add_event_handler(failure, lambda *_: started.done() or started.set_result(False),
                                   disposable=True)
        self.connect("127.0.0.1", port)
        ok = await asyncio.wait_for(started, TIMEOUT)
        if ok and presence:
            self.send_presence()
        return ok

    async def nextMessage(self, predicate=lambda m: True):
        """The next received message satisfying C{predicate}."""
        while True:
            message = await asyncio.wait_for(self.messages.get(), TIMEOUT)
            if predicate(message):
                return message

    async def nextPresence(self, predicate=lambda p: True):
        """The next received presence satisfying C{predicate}."""
        while True:
            presence = await asyncio.wait_for(self.presences.get(), TIMEOUT)
            if predicate(presence):
                return presence

    async def close(self):
        """Disconnect and wait until the connection is gone."""
        if self.transport is None:
            return
        done = self.loop.create_future()
        self.add_event_handler("disconnected", lambda *_: done.done() or done.set_result(True),
                               disposable=True)
        self.disconnect()
        await asyncio.wait_for(done, TIMEOUT)


async def assertRosterPushReaches(first, second):
    """A roster item set by C{first} is pushed to C{second}, another resource of the account."""
    await first.get_roster()
    await second.get_roster()
    pushed = asyncio.get_running_loop().create_future()
    second.add_event_handler("roster_update", lambda iq: pushed.done() or pushed.set_result(iq))
    await first.update_roster("someone@example.org", name="Someone", groups=["Friends"])
    iq = await asyncio.wait_for(pushed, TIMEOUT)
    item = iq["roster"]["items"]["someone@example.org"]
    assert item["name"] == "Someone" and item["groups"] == ["Friends"]


def run(coroutine, timeout=60):
    """Run an async test body to completion in a fresh event loop, within C{timeout} seconds."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(asyncio.wait_for(coroutine, timeout))
    finally:
        # slixmpp leaves filter tasks behind; end them before closing the loop.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)


class RawStream:
    """Raw XML over a blocking TCP socket (optionally direct TLS)."""

    def __init__(self, port, tls=False, host="127.0.0.1"):
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
        if tls:
            context = ssl.create_default_context()
            insecureContext(context)
            sock = context.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock

    def send(self, data):
        self.sock.sendall(data.encode("utf-8") if isinstance(data, str) else data)

    def readUntil(self, marker, limit=65536):
        """Read until C{marker} appears or the peer closes; return all text read."""
        data = b""
        while marker.encode() not in data and len(data) < limit:
            try:
                chunk = self.sock.recv(4096)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
        return data.decode("utf-8", "replace")

    def readAll(self):
        """Read until the server closes the connection."""
        return self.readUntil("\0never\0")

    def close(self):
        self.sock.close()
