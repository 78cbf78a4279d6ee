# -*- test-case-name: tests.web.test_service -*-
"""
The server's HTTP service (RFC 9110): the listeners and the resources
features attach by path (HTTP File Upload, XEP-0363; BOSH, XEP-0206;
WebSocket, RFC 7395; the web chat page).

What answers requests, L{jabberd.web.site.HTTPSite} on C{twisted.web.server},
is made at the first connection (L{SiteOnDemand}): C{twisted.web.server}
with what it imports (C{twisted.web.http}, C{twisted.spread.pb},
hyperlink, the templates) is about 3 MB resident, held for nothing by a
server whose HTTP listener nobody has used yet.  Until then the service
keeps the site's root resource, its body limits and its settings, and
hands them to the site when it is made.
"""

import os

from twisted.application import service
from twisted.internet import protocol
from twisted.web import resource

from jabberd.listening import ListenerService

__all__ = ["HTTPRoot", "SiteOnDemand", "HTTPService", "makeHTTPService",
           "makeComponentHTTPService", "mountHost", "bodyLimit", "DEFAULT_MAX_BODY"]

DEFAULT_MAX_BODY = 1024 * 1024
"""Body limit of a site whose resources declare no larger C{maxBodySize}."""


class HTTPRoot(resource.Resource):
    """The site's root: features attach as children; C{/} itself is 404 until one does."""

    def render(self, request):
        return resource.NoResource().render(request)


def bodyLimit(limits, default, path):
    """
    The body limit of the request path C{path} (bytes, query included):
    C{limits[segment]} for its first path segment, else C{default}.
    """
    segment = path.split(b"?", 1)[0].lstrip(b"/").split(b"/", 1)[0]
    return limits.get(segment, default)


_SETTINGS = ("maxBodySize", "spoolDirectory", "corsOrigins", "accessLog")


def _setting(name):
    """A setting of L{SiteOnDemand}: its own until the site is made, the site's after."""
    def get(self):
        return getattr(self._site if self._site is not None else self._settings, name)

    def set(self, value):
        setattr(self._site if self._site is not None else self._settings, name, value)

    return property(get, set)


class _Settings:
    """The settings a L{SiteOnDemand} keeps until its site is made."""


class SiteOnDemand(protocol.Factory):
    """
    The factory the HTTP listeners listen with: the first connection makes
    the L{jabberd.web.site.HTTPSite} (with the root, body limits and
    settings given here) and every connection is the site's.

    @ivar resource: the site's root resource.
    @ivar bodyLimits: first path segment (bytes) to its body limit, shared with the site.
    """

    noisy = False

    maxBodySize = _setting("maxBodySize")
    spoolDirectory = _setting("spoolDirectory")
    corsOrigins = _setting("corsOrigins")
    accessLog = _setting("accessLog")

    def __init__(self, root=None, maxBodySize=DEFAULT_MAX_BODY, spoolDirectory=None,
                 corsOrigins=("*",), accessLog=False):
        self._site = None
        self._settings = _Settings()
        self.resource = root if root is not None else HTTPRoot()
        self.bodyLimits = {}
        self.maxBodySize = maxBodySize
        self.spoolDirectory = spoolDirectory
        self.corsOrigins = list(corsOrigins)
        self.accessLog = accessLog

    def site(self):
        """The site, made on the first call."""
        if self._site is None:
            from jabberd.web.site import HTTPSite

            made = HTTPSite(self.resource, **{name: getattr(self._settings, name)
                                              for name in _SETTINGS})
            made.bodyLimits = self.bodyLimits
            for _ in range(self.numPorts):
                made.doStart()  # the ports that started before it was made
            self._site = made
        return self._site

    def bodyLimitFor(self, path):
        """The body limit of the request path C{path} (bytes, query included)."""
        return bodyLimit(self.bodyLimits, self.maxBodySize, path)

    def logPrefix(self):
        return "HTTPSite"

    def doStart(self):
        protocol.Factory.doStart(self)
        if self._site is not None:
            self._site.doStart()

    def doStop(self):
        protocol.Factory.doStop(self)
        if self._site is not None:
            self._site.doStop()

    def buildProtocol(self, addr):
        return self.site().buildProtocol(addr)


class HTTPService(service.MultiService):
    """
    The HTTP site and its listeners.

    @ivar site: the L{SiteOnDemand} (or an L{jabberd.web.site.HTTPSite}
        given ready-made).
    @ivar ports: listener name (C{http}, C{https}) to bound port number.
    @ivar host: host name of the default public URL.
    @ivar configuredURL: the configured public URL, or empty.
    """

    def __init__(self, site, host, configuredURL="", portBound=None):
        service.MultiService.__init__(self)
        self.setName("http")
        self.site = site
        self.host = host
        self.configuredURL = configuredURL.rstrip("/")
        self.ports = {}
        self._portBound = portBound

    def listen(self, description, name):
        """Listen on the endpoint C{description} while the service runs."""
        ListenerService(description, self.site, name, self._bound).setServiceParent(self)

    def _bound(self, name, port):
        self.ports[name] = port
        if self._portBound is not None:
            self._portBound(name, port)

    def publicURL(self):
        """
        The base URL clients reach the site at, without a trailing slash;
        None while nothing listens and no URL is configured.
        """
        if self.configuredURL:
            return self.configuredURL
        for name, default in (("http", 80), ("https", 443)):
            if name in self.ports:
                port = self.ports[name]
                suffix = "" if port == default else f":{port}"
                return f"{name}://{self.host}{suffix}"
        return None

    def attach(self, path, child):
        """
        Serve C{child} at C{/path}.  A child with a C{maxBodySize} gets that
        body limit under C{/path} (and only there); a child with
        C{mounted(urlOf)} is told how to find its own public URL (C{urlOf()}
        returns it, or None).
        """
        segment = path.encode("utf-8")
        self.site.resource.putChild(segment, child)
        limit = getattr(child, "maxBodySize", None)
        if limit is not None:
            self.site.bodyLimits[segment] = limit
        mounted = getattr(child, "mounted", None)
        if mounted is not None:
            mounted(lambda: self._urlOf(path))

    def _urlOf(self, path):
        base = self.publicURL()
        return None if base is None else f"{base}/{path}"


def mountHost(httpService, host):
    """Attach every resource a component host offers in C{host.httpResources}."""
    for path, child in getattr(host, "httpResources", {}).items():
        httpService.attach(path, child)


def _tlsDescription(description, config):
    from jabberd.tls import certificates

    return certificates.wrapEndpoint(description, config)


def _spoolDirectory(config):
    path = os.path.join(config.server.datadir, "http-spool")
    os.makedirs(path, exist_ok=True)
    return path


def _build(config, listen, listenTLS, publicURL, resources, portBound):
    site = SiteOnDemand(spoolDirectory=_spoolDirectory(config),
                        corsOrigins=config.http.corsOrigins,
                        accessLog=config.server.logTraffic)
    http = HTTPService(site, config.server.domains[0], publicURL, portBound)
    for path, child in (resources or {}).items():
        http.attach(path, child)
    if listen:
        http.listen(listen, "http")
    if listenTLS:
        http.listen(_tlsDescription(listenTLS, config), "https")
    return http


def makeHTTPService(config, resources=None, portBound=None):
    """
    The server's HTTP service from C{config.http}: an L{HTTPService} with
    C{resources} (path to resource) attached; more may attach later with
    L{HTTPService.attach}.  C{portBound(name, port)} hears of bound ports.
    """
    h = config.http
    return _build(config, h.listen, h.listenTLS, h.publicURL, resources, portBound)


def makeComponentHTTPService(config, componentConfig, resources, portBound=None):
    """
    The HTTP service of a component running in its own process, from its
    section's C{http_listen} and C{http_listen_tls} options; None when it
    has neither (or no resources to serve).  Its default public URL is
    built like the server's; a component with other needs (a reverse proxy)
    takes its own URL option, as the upload component's C{public_url}.
    """
    options = componentConfig.options
    listen = options.get("http_listen", "").strip()
    listenTLS = options.get("http_listen_tls", "").strip()
    if not resources or not (listen or listenTLS):
        return None
    return _build(config, listen, listenTLS, "", resources, portBound)
