# -*- test-case-name: tests.web.test_site -*-
"""
CORS response headers (the Fetch standard's CORS protocol) for the
resources browsers call from other origins (a web chat page uploading a
file, a BOSH client on another site), from C{[http] cors_origins}.

On its own so the resources that answer them need nothing of
C{twisted.web.server} when they are made, only when a request arrives.
"""

__all__ = ["setCORSHeaders"]


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
