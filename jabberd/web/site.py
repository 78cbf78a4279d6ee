# -*- test-case-name: tests.web.test_site -*-
"""
The server's one HTTP site (RFC 9110), shared by every feature that speaks
HTTP: HTTP File Upload (XEP-0363) at C{/upload}, BOSH (XEP-0206) at
C{/http-bind}, WebSocket (RFC 7395) at C{/xmpp-websocket} and the web chat
page at C{/}.  Features attach a C{twisted.web} resource by path.

Two things C{twisted.web.server.Site} does not do are added here:

 - a limit on request bodies, checked on the C{Content-Length} header before
   any of the body is kept and again while it arrives (for chunked bodies),
   answered with 413.  Each attached resource may declare its own limit
   (C{maxBodySize}), which holds for its path only: the upload component's
   10 MB never applies to BOSH's C{/http-bind};
 - large bodies are spooled to a I{named} file, so a resource can move an
   upload into place with a rename instead of copying it.

And one thing it does is left out: parsing C{POST} bodies into
C{request.args}.  No resource here reads form fields (BOSH bodies are XML,
uploads are C{PUT}), and Twisted parses every C{POST}'s C{Content-Type}
header for it with the C{email} package: about a quarter of the server's
CPU per BOSH request (see C{bench/README.md}).

Browsers call these resources from other origins (a web chat page uploading
a file), so L{setCORSHeaders} answers the Fetch standard's CORS headers from
the C{[http] cors_origins} setting.
"""

import os
import tempfile
from io import BytesIO

from twisted.application import service
from twisted.web import resource, server

from jabberd.listening import ListenerService

__all__ = ["HTTPRequest", "HTTPSite", "HTTPService", "setCORSHeaders",
           "makeHTTPService", "makeComponentHTTPService", "mountHost"]

SPOOL_THRESHOLD = 100000
"""Bodies of at least this many bytes (or of unknown length) go to a file."""

DEFAULT_MAX_BODY = 1024 * 1024
"""Body limit of a site whose resources declare no larger C{maxBodySize}."""


class HTTPRequest(server.Request):
    """
    A request that enforces its site's C{maxBodySize} and spools large
    bodies to a named file.

    @ivar contentPath: the file holding the body when it was spooled, or
        None when the body is in memory; a resource may rename it away, and
        whatever is left is removed when the request ends.
    @ivar bodyTooLarge: the body exceeded the limit and was discarded.
    """

    contentPath = None
    bodyTooLarge = False
    _limit = None
    _received = 0

    def gotLength(self, length):
        site = getattr(self.channel, "site", None)
        limitFor = getattr(site, "bodyLimitFor", None)
        # The request line is parsed, the body not yet: the channel holds the path.
        path = getattr(self.channel, "_path", b"")
        self._limit = limitFor(path) if limitFor else getattr(site, "maxBodySize", None)
        if self._limit is not None and length is not None and length > self._limit:
            self._refuseBody()
        elif length is not None and length < SPOOL_THRESHOLD:
            self.content = BytesIO()
        else:
            self._spool(getattr(site, "spoolDirectory", None))

    def _spool(self, directory):
        fd, self.contentPath = tempfile.mkstemp(prefix="body-", dir=directory)
        self.content = os.fdopen(fd, "w+b")
        # Fires on finish and on a lost connection alike: no spool file outlives its request.
        self.notifyFinish().addBoth(self._dropSpool)

    def _dropSpool(self, _result=None):
        path, self.contentPath = self.contentPath, None
        if path is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass  # the resource moved it into place

    def _refuseBody(self):
        self.bodyTooLarge = True
        if self.content is not None:
            self.content.close()
        self._dropSpool()
        self.content = BytesIO()

    def handleContentChunk(self, data):
        if self.bodyTooLarge:
            return
        self._received += len(data)
        if self._limit is not None and self._received > self._limit:
            self._refuseBody()
            return
        self.content.write(data)

    def process(self):
        if not self.bodyTooLarge:
            return server.Request.process(self)
        # Answered without dispatching: no resource may see a truncated body.
        self.site = self.channel.site
        self.setResponseCode(413)
        setCORSHeaders(self)
        self.finish()


def setCORSHeaders(request, methods=b"GET, PUT, OPTIONS",
                   headers=b"Content-Type, Authorization"):
    """
    Allow the request's origin to read the response (Fetch standard, CORS
    protocol) when the site's C{corsOrigins} lists it or is C{*}.
    """
    origins = getattr(getattr(request, "site", None), "corsOrigins", ["*"])
    if "*" in origins:
        allowed = b"*"
    else:
        allowed = request.getHeader(b"origin")
        if allowed is None or allowed.decode("latin-1") not in origins:
            return
        request.setHeader(b"vary", b"Origin")
    request.setHeader(b"access-control-allow-origin", allowed)
    request.setHeader(b"access-control-allow-methods", methods)
    request.setHeader(b"access-control-allow-headers", headers)


class HTTPRoot(resource.Resource):
    """The site's root: features attach as children; C{/} itself is 404 until one does."""

    def render(self, request):
        return resource.NoResource().render(request)


class HTTPSite(server.Site):
    """
    The shared site.

    @ivar maxBodySize: largest request body accepted on a path whose
        resource declares no limit of its own, in bytes (None: no limit).
    @ivar bodyLimits: first path segment (bytes) to the body limit of the
        resource attached there.
    @ivar spoolDirectory: where large bodies are spooled (None: the system's).
    @ivar corsOrigins: origins allowed by L{setCORSHeaders}.
    @ivar accessLog: log every request (off: BOSH polls would flood the log).
    """

    requestFactory = HTTPRequest
    noisy = False

    def __init__(self, root=None, maxBodySize=DEFAULT_MAX_BODY, spoolDirectory=None,
                 corsOrigins=("*",), accessLog=False):
        server.Site.__init__(self, root if root is not None else HTTPRoot(),
                             parsePOSTFormSubmission=False)
        self.maxBodySize = maxBodySize
        self.bodyLimits = {}
        self.spoolDirectory = spoolDirectory
        self.corsOrigins = list(corsOrigins)
        self.accessLog = accessLog

    def bodyLimitFor(self, path):
        """The body limit of the request path C{path} (bytes, query included)."""
        segment = path.split(b"?", 1)[0].lstrip(b"/").split(b"/", 1)[0]
        return self.bodyLimits.get(segment, self.maxBodySize)

    def log(self, request):
        if self.accessLog:
            server.Site.log(self, request)


class HTTPService(service.MultiService):
    """
    The HTTP site and its listeners.

    @ivar site: the L{HTTPSite}.
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
    site = HTTPSite(spoolDirectory=_spoolDirectory(config),
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
