# -*- test-case-name: tests.test_component -*-
"""
C{twistd jabberd-component -c etc/jabberd.ini DOMAIN}: runs the plugin of
C{[component:DOMAIN]} in its own process, connected to the server's
XEP-0114 listener with the section's secret.

The section needs C{plugin}, C{secret} and C{external = yes} (so the server
waits for this process instead of running the plugin itself).  The router
address defaults to the C{[components] listen} endpoint, seen from the
client side; with port 0 the bound port is read from C{DATADIR/ports.json}.
"""

import json
import os
import re

from twisted.application import service
from twisted.python import usage

from jabberd import config as configmod
from jabberd.component.connect import ExternalComponentService
from jabberd.component.internal import addHostServices, loadPlugin, makeComponentHost
from jabberd.web.service import makeComponentHTTPService

__all__ = ["Options", "makeService", "routerEndpoint"]

# Endpoint strings separate fields with unescaped colons.
_FIELDS = re.compile(r"(?<!\\):")
_ANY = {"", "0.0.0.0", "::", "\\:\\:"}


class Options(usage.Options):
    """Command line of C{twistd jabberd-component}."""

    synopsis = "[options] DOMAIN"
    optParameters = [
        ["config", "c", "etc/jabberd.ini", "Path of the configuration file."],
        ["router", "r", None,
         "Client endpoint of the router (default: from [components] listen)."],
    ]

    def parseArgs(self, domain):
        self["domain"] = domain.lower()

    def postOptions(self):
        try:
            config = configmod.load(self["config"])
        except configmod.ConfigError as e:
            raise usage.UsageError(str(e))
        component = config.components.get(self["domain"])
        section = f"[component:{self['domain']}]"
        if component is None:
            raise usage.UsageError(f"{self['config']} has no {section} section")
        if not (component.plugin and component.external):
            raise usage.UsageError(f"{section} needs plugin and external = yes "
                                   "to run out of process")
        try:
            self["plugin"] = loadPlugin(component)
        except configmod.ConfigError as e:
            raise usage.UsageError(str(e))
        self["parsed"], self["component"] = config, component
        if not self["router"]:
            self["router"] = routerEndpoint(config)


def routerEndpoint(config):
    """
    The client endpoint string for the server endpoint C{[components]
    listen} (C{tcp:5347:interface=127.0.0.1} -> C{tcp:host=127.0.0.1:port=5347}).
    """
    kind, *fields = _FIELDS.split(config.componentListen)
    args = [f for f in fields if "=" not in f]
    kwargs = dict(f.split("=", 1) for f in fields if "=" in f)
    if kind == "unix":
        return "unix:path=" + (kwargs.get("address") or args[0])
    if kind != "tcp":
        raise usage.UsageError(f"[components] listen: cannot derive a router address "
                               f"from {config.componentListen!r}; use --router")
    port = kwargs.get("port") or (args[0] if args else "5347")
    if port == "0":
        port = _boundPort(config)
    host = kwargs.get("interface", "")
    if host in _ANY:
        host = "127.0.0.1"
    return f"tcp:host={host}:port={port}"


def _boundPort(config):
    """The port the server's component listener bound, from ports.json."""
    path = os.path.join(config.server.datadir, "ports.json")
    try:
        with open(path, encoding="utf-8") as f:
            return str(json.load(f)["components"])
    except (OSError, ValueError, KeyError):
        raise usage.UsageError(f"[components] listen uses port 0 and {path} does not "
                               "name the bound port; use --router")


class ComponentProcess(service.MultiService):
    """The component's service tree; closes the storage it opened on stop."""

    storage = None

    def stopService(self):
        d = service.MultiService.stopService(self)
        if self.storage is not None:
            d.addBoth(lambda _: self.storage.close())
        return d


def makeService(options):
    """The twistd entry point."""
    config, component, module = options["parsed"], options["component"], options["plugin"]
    top = ComponentProcess()
    if getattr(module, "usesStorage", False):
        from jabberd.storage import openStorage
        top.storage = openStorage(config.server.database)
    host = makeComponentHost(config, component, top.storage, module)
    connection = ExternalComponentService(host, component.domain, component.secret,
                                          options["router"])
    connection.setName("component:" + component.domain)
    connection.setServiceParent(top)
    http = makeComponentHTTPService(config, component, getattr(host, "httpResources", None))
    if http is not None:
        http.setServiceParent(top)
    addHostServices(top, host, http)
    return top
