"""In-memory peers and a configured service for the s2s unit tests."""

from twisted.internet.testing import MemoryReactorClock

from jabberd import config as configmod
from jabberd.router import Router
from jabberd.s2s import S2SFactory, S2SService
from tests.routes import Collector

CONFIG = """
[server]
domains = a.test
[s2s]
listen = tcp:0
secret = sekrit
hosts = b.test=127.0.0.1:5999
allowed_networks = 127.0.0.0/8
connect_timeout = 5
"""

HEADER = ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns:db='jabber:server:dialback' from='{sender}' to='{to}' {extra}>")


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


def makeListener(text=CONFIG):
    """A listener without TLS (no context) and its service."""
    service, router, local, clock = makeService(text)
    return S2SFactory(service, None, clock=clock), service, local
