"""In-memory peers and a configured service for the s2s unit tests."""

from twisted.internet.testing import MemoryReactorClock
from twisted.internet.testing import StringTransport
from twisted.words.xish import domish

from jabberd import config as configmod
from jabberd.ns import NS_STREAMS, NS_XMPP_STREAMS
from jabberd.router import Route, Router
from jabberd.s2s import S2SFactory, S2SService

CONFIG = """
[server]
domains = a.test
[s2s]
listen = tcp:0
secret = sekrit
hosts = b.test=127.0.0.1:5999
connect_timeout = 5
"""

HEADER = ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns:db='jabber:server:dialback' from='{sender}' to='{to}' {extra}>")


class Collector(Route):
    """A route that keeps what it is given."""

    def __init__(self, domain):
        self.domain = domain
        self.stanzas = []

    def deliver(self, stanza):
        self.stanzas.append(stanza)


def makeService(text=CONFIG):
    """An L{S2SService} for a.test on a router with a collecting local route, on a memory reactor."""
    config = configmod.parse(text)
    router = Router()
    local = Collector("a.test")
    router.addRoute("a.test", local)
    clock = MemoryReactorClock()
    service = S2SService(router, config, clock=clock)
    router.defaultRoute = service.route
    return service, router, local, clock


class Wire:
    """What one side of an in-memory stream wrote, parsed element by element."""

    def __init__(self, protocol):
        self.protocol = protocol
        self.transport = StringTransport()
        self.root = None
        self.elements = []
        self._reparse()

    def _reparse(self):
        self.parser = domish.elementStream()
        self.parser.DocumentStartEvent = self._started
        self.parser.ElementEvent = self.elements.append
        self.parser.DocumentEndEvent = lambda: None

    def _started(self, root):
        self.root = root

    def connect(self):
        self.protocol.makeConnection(self.transport)
        return self

    def feed(self, text):
        self.protocol.dataReceived(text.encode("utf-8"))

    def read(self):
        """Parse what was written since the last read."""
        data = self.transport.value()
        self.transport.clear()
        del self.elements[:]
        self.parser.parse(data)
        return list(self.elements)

    def restart(self):
        """The writer started a new stream (after TLS): parse from scratch."""
        self._reparse()

    def streamError(self, elements=None):
        """The condition of a stream error in C{elements} (or the next read), or None."""
        for el in self.read() if elements is None else elements:
            if (el.uri, el.name) == (NS_STREAMS, "error"):
                return next(el.elements(NS_XMPP_STREAMS)).name
        return None


def makeListener(text=CONFIG):
    """A listener without TLS (no context) and its service."""
    service, router, local, clock = makeService(text)
    return S2SFactory(service, None, clock=clock), service, local
