# -*- test-case-name: tests.test_tap -*-
"""
C{twistd jabberd -c etc/jabberd.ini}: builds the server as a tree of small
named services around one router (the shape of jabberd 1.4).

 - C{router}: the L{Router}, with the session manager attached for the local
   domains;
 - C{c2s} / C{c2s-tls}: client listeners (RFC 6120 STARTTLS, XEP-0368 direct
   TLS);
 - C{components}: the XEP-0114 listener for components connecting over TCP;
 - C{s2s}: the listener for other servers, when C{[s2s] listen} is set; the
   router then sends every domain it does not serve to s2s (XEP-0220);
 - one service per in-process component (C{[component:DOMAIN] plugin = ...}).

When a listener is given port 0 the bound ports are written to
C{DATADIR/ports.json} so tests and tools can find them.
"""

import json
import os

from twisted.application import service
from twisted.internet import defer, reactor, task
from jabberd.logs import Logger
from twisted.python import usage

import jabberd
from jabberd import config as configmod
from jabberd import gcpolicy, logs
from jabberd import openfiles
from jabberd.tls import certificates
from jabberd.tls.records import ProtectedChannel
from jabberd.listening import ListenerService
from jabberd.router import Router

__all__ = ["Options", "makeService", "buildServer"]

log = Logger()


class Options(usage.Options):
    """Command line of C{twistd jabberd}."""

    optParameters = [
        ["config", "c", "etc/jabberd.ini", "Path of the configuration file."],
    ]

    def __init__(self):
        usage.Options.__init__(self)
        self["overrides"] = {}

    def opt_set(self, value):
        """SECTION.KEY=VALUE: override one configuration value (worker processes get theirs so)."""
        name, sep, setting = value.partition("=")
        section, dot, key = name.partition(".")
        if not sep or not dot:
            raise usage.UsageError(f"--set takes SECTION.KEY=VALUE, not {value!r}")
        self["overrides"][(section, key)] = setting

    def postOptions(self):
        try:
            self["parsed"] = configmod.load(self["config"], self["overrides"])
        except configmod.ConfigError as e:
            raise usage.UsageError(str(e))


class Server(service.MultiService):
    """
    The whole server: router, storage, session manager and listeners.

    @ivar ports: listener name -> bound port number.
    """

    def __init__(self, config):
        service.MultiService.__init__(self)
        self.config = config
        self.ports = {}
        self.router = Router()
        self.storage = None
        self.sm = None
        self.http = None
        self.hashing = None
        self.cluster = None

    def portBound(self, name, port):
        """Record a listener's port and publish all of them in ports.json."""
        self.ports[name] = port
        path = os.path.join(self.config.server.datadir, "ports.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.ports, f)
        os.replace(tmp, path)

    def closeClients(self):
        """
        End every client stream with C{system-shutdown} (RFC 6120 section
        4.9.3.21) and end their sessions now, while storage is still open,
        so contacts get unavailable presence and last activity is saved.
        """
        for child in self:
            closeAll = getattr(getattr(child, "factory", None), "closeAll", None)
            if closeAll is not None:
                closeAll("system-shutdown")
        if self.sm is not None:
            for resources in list(self.sm.sessions.values()):
                for session in list(resources.values()):
                    self.sm.unbindSession(session)

    def stopService(self):
        self.closeClients()
        # One short pause lets the presence work just started reach storage,
        # then what handlers still queue for it (the "stopping" hook) is written.
        d = task.deferLater(reactor, 0.2, self._handlersStopped)
        d.addCallback(lambda _: service.MultiService.stopService(self))
        if self.hashing is not None:
            d.addBoth(lambda _: self.hashing.stop())
        if self.storage is not None:
            d.addBoth(lambda _: self.storage.close())
        return d

    def _handlersStopped(self):
        """Wait for the session manager's C{stopping} work (storage is still open)."""
        if self.sm is None:
            return None
        return defer.DeferredList(self.sm.collect("stopping"), consumeErrors=True)


def buildServer(config):
    """Assemble the L{Server} for C{config} (blocking start-up work included)."""
    from jabberd.c2s.listener import C2SFactory, makeAuthentication
    from jabberd.component import ComponentServerFactory, startInternalComponents
    from jabberd.web.service import makeHTTPService
    from jabberd.sm.modules import buildSessionManager
    from jabberd.storage import openStorage

    logs.setLevel(config.server.logLevel)
    openfiles.raiseLimit(config.server.maxOpenFiles)
    os.makedirs(config.server.datadir, exist_ok=True)
    try:
        os.unlink(os.path.join(config.server.datadir, "ports.json"))
    except FileNotFoundError:
        pass
    server = Server(config)
    ListenerService.reusePort = config.cluster is not None and config.cluster.reusePort
    server.storage = openStorage(config.server.database)
    server.sm = buildSessionManager(config, server.storage, server.router)
    server.router.attachHost(server.sm, trusted=True)
    if config.cluster is not None:
        from jabberd.cluster import joinCluster

        joinCluster(server)

    contextFactory = certificates.serverContextFactory(config)
    ProtectedChannel.maxEmptyRecords = config.connections.tlsMaxEmptyRecords
    authentication = makeAuthentication(config, server.storage.accounts)
    server.hashing = authentication[0].hashing
    c2s = C2SFactory(config, server.sm, contextFactory, authentication=authentication)
    ListenerService(config.c2s.listen, c2s, "c2s", server.portBound).setServiceParent(server)
    if config.c2s.listenTLS:
        direct = C2SFactory(config, server.sm, contextFactory, directTLS=True,
                            limiter=c2s.limiter, authentication=authentication)
        ListenerService(config.c2s.listenTLS, direct, "c2s-tls", server.portBound).setServiceParent(server)
    if config.s2s.listen:
        startS2S(server, contextFactory)
    if config.componentListen:
        factory = ComponentServerFactory(server.router, config)
        ListenerService(config.componentListen, factory, "components",
                        server.portBound).setServiceParent(server)
    if config.http.listen or config.http.listenTLS:
        server.http = makeHTTPService(config, portBound=server.portBound)
        server.http.setServiceParent(server)
        mountWebClients(server.http, config, c2s)
    startInternalComponents(server)
    if server.cluster is not None:
        server.cluster.routeRooms()  # each room on one node (XEP-0045 across the cluster)
        if config.cluster.workers > 1:
            from jabberd.cluster.workers import WorkerPool

            WorkerPool(server, config.cluster.workers - 1).setServiceParent(server)
    trimming = gcpolicy.periodicTrim(config.server.trimInterval)
    if trimming is not None:
        trimming.setServiceParent(server)
    log.info("jabberd {version} serving {domains}", version=jabberd.__version__,
             domains=", ".join(config.server.domains))
    return server


def startS2S(server, contextFactory):
    """Federation (RFC 6120 section 10.4): the listener, and s2s as the router's default route."""
    from jabberd.s2s import S2SFactory, S2SService

    service = S2SService(server.router, server.config)
    server.router.defaultRoute = service.route
    factory = S2SFactory(service, contextFactory)
    ListenerService(server.config.s2s.listen, factory, "s2s", server.portBound).setServiceParent(server)


def mountWebClients(http, config, c2s):
    """
    Serve BOSH (XEP-0206), WebSocket (RFC 7395) and the web chat page on the
    HTTP service, per C{[http]}; their streams belong to the client
    listener's factory C{c2s} (its negotiators, and its shutdown).
    """
    from jabberd.web.bosh import BOSHResource
    from jabberd.web.webchat import mountWebChat
    from jabberd.web.websocketmount import WebSocketMount

    h = config.http
    if h.boshPath:
        http.attach(h.boshPath, BOSHResource(c2s))
    if h.websocketPath:
        http.attach(h.websocketPath, WebSocketMount(c2s))
    if h.webchat:
        mountWebChat(http, config)


def makeService(options):
    """The twistd entry point."""
    config = options["parsed"]
    gcpolicy.mapLargeAllocations(config.server.mmapThreshold)
    server = buildServer(config)
    gcpolicy.settle()  # the long-lived start-up objects are made by now
    return server
