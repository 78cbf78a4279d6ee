# -*- test-case-name: tests.web.test_site -*-
"""
The server's one HTTP site (RFC 9110), shared by every feature that speaks
HTTP: HTTP File Upload (XEP-0363) at C{/upload}, BOSH (XEP-0206) at
C{/http-bind}, WebSocket (RFC 7395) at C{/xmpp-websocket} and the web chat
page at C{/}.  Features attach a C{twisted.web} resource by path on the
L{jabberd.web.service.HTTPService}, which makes the site here at the first
connection.

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
a file), so L{jabberd.web.cors.setCORSHeaders} answers the Fetch standard's
CORS headers from the C{[http] cors_origins} setting.  The service's names
are importable from here too.
"""

import os
import tempfile
from io import BytesIO

from twisted.web import server

from jabberd.web.cors import setCORSHeaders
from jabberd.web.service import (DEFAULT_MAX_BODY, HTTPRoot, HTTPService, bodyLimit,
                                 makeComponentHTTPService, makeHTTPService, mountHost)

__all__ = ["HTTPRequest", "HTTPSite", "HTTPService", "setCORSHeaders",
           "makeHTTPService", "makeComponentHTTPService", "mountHost"]

SPOOL_THRESHOLD = 100000
"""Bodies of at least this many bytes (or of unknown length) go to a file."""


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
        return bodyLimit(self.bodyLimits, self.maxBodySize, path)

    def log(self, request):
        if self.accessLog:
            server.Site.log(self, request)
