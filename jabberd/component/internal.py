# -*- test-case-name: tests.test_component -*-
"""
Component plugins and in-process components.

A C{[component:DOMAIN]} section with C{plugin = NAME} names a module
(C{components.NAME}, or any dotted module path) whose
C{makeHost(config, componentConfig, storage)} returns a
L{jabberd.host.Host}; see the C{components} package for the interface.
Without C{external = yes} the server runs that host in process, attached
straight to the router; with it, C{twistd jabberd-component} runs the same
host in its own process over XEP-0114 (L{jabberd.component.tap}).
"""

import importlib

from twisted.application import service

from jabberd.config import ConfigError
from jabberd.host import MissingHandler

__all__ = ["loadPlugin", "makeComponentHost", "runsInProcess",
           "InternalComponentService", "startInternalComponents"]


def runsInProcess(component):
    """Whether the server itself runs C{component} (a L{ComponentConfig})."""
    return bool(component.plugin) and not component.external


def loadPlugin(component):
    """
    Import the plugin module of C{component}; a bare name is looked up in
    the C{components} package.

    @raise ConfigError: it cannot be imported or has no C{makeHost}.
    """
    name = component.plugin if "." in component.plugin else "components." + component.plugin
    where = f"[component:{component.domain}] plugin"
    try:
        module = importlib.import_module(name)
    except ImportError as e:
        raise ConfigError(f"{where}: cannot import {name}: {e}")
    if not callable(getattr(module, "makeHost", None)):
        raise ConfigError(f"{where}: {name} has no makeHost(config, componentConfig, storage)")
    return module


def makeComponentHost(config, component, storage, module=None):
    """
    Build the host of C{component} with its plugin's C{makeHost}, and check
    that its handlers' requirements are attached (a start-up error if not).
    """
    module = module or loadPlugin(component)
    host = module.makeHost(config, component, storage)
    if component.domain not in host.domains:
        raise ConfigError(f"[component:{component.domain}] plugin: {module.__name__}."
                          f"makeHost returned a host for {', '.join(host.domains)}")
    try:
        host.checkRequirements()
    except MissingHandler as e:
        raise ConfigError(f"[component:{component.domain}] plugin: {e}")
    return host


class InternalComponentService(service.Service):
    """
    An in-process component: its host is attached to the router while the
    service runs (and from L{attach} on, so it is routable at once).
    """

    def __init__(self, router, host, trusted=False):
        self.router = router
        self.host = host
        self.trusted = trusted
        self.routes = []
        self.setName("component:" + host.domain)

    def attach(self):
        """Route the host's domains to it (once)."""
        if not self.routes:
            self.routes = self.router.attachHost(self.host, trusted=self.trusted)

    def detach(self):
        """Remove the host's routes; what it still sends goes nowhere."""
        for route in self.routes:
            self.router.removeRoute(route.domain, route)
        self.routes = []
        self.host.output = _discard

    def startService(self):
        service.Service.startService(self)
        self.attach()

    def stopService(self):
        self.detach()
        return service.Service.stopService(self)


def _discard(stanza):
    """Output of a detached host: the router is gone, so is the stanza."""


def addHostServices(parent, host, http=None):
    """
    Start what a component host needs beside its stanzas, the same way in
    process and out of process: its own services (C{host.services}, e.g. a
    sweeper) as children of C{parent}, and its web resources
    (C{host.httpResources}) on the HTTP service C{http}.
    """
    for child in getattr(host, "services", ()):
        child.setServiceParent(parent)
    if http is not None:
        from jabberd.web.service import mountHost

        mountHost(http, host)


def startInternalComponents(server):
    """
    Build and attach every in-process component of C{server.config} as a
    child service of C{server}; return those services.
    """
    started = []
    for component in server.config.components.values():
        if not runsInProcess(component):
            continue
        host = makeComponentHost(server.config, component, server.storage)
        child = InternalComponentService(server.router, host, component.trusted)
        child.attach()
        child.setServiceParent(server)
        addHostServices(server, host, getattr(server, "http", None))
        started.append(child)
    return started
