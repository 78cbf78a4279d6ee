# -*- test-case-name: tests.components.upload.test_upload_resource -*-
"""
The HTTP side of HTTP File Upload (XEP-0363 section 6): C{PUT} fills a
slot, C{GET} serves the file, C{OPTIONS} answers browsers' CORS preflight.

URLs are C{BASE/TOKEN/FILENAME}.  A PUT must carry exactly the size of its
slot (413 when larger, 400 when smaller) and, when it names one, the slot's
content type (400 otherwise); a slot takes one upload only.  The body was
already received by the HTTP layer (L{jabberd.web.site.HTTPRequest} refuses
bodies over the limit before keeping them and spools large ones to a file);
the store moves it into place in a thread.

Files are served with the type given when the slot was requested, and
(section 8) never interpreted by the browser in this origin: C{nosniff}, a
sandboxing content security policy, and C{attachment} unless the file is
an image, audio or video.
"""

from urllib.parse import quote

from jabberd.logs import Logger
from twisted.python.failure import Failure
from twisted.web import resource

from jabberd.web.cors import setCORSHeaders

__all__ = ["UploadResource", "contentDisposition"]

log = Logger()

_INLINE = ("image", "audio", "video")


def contentDisposition(filename, contentType):
    """The RFC 6266 C{Content-Disposition} value for a stored file."""
    kind = "inline" if contentType.split("/", 1)[0].lower() in _INLINE else "attachment"
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in filename)
    encoded = quote(filename, safe="")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}".encode("ascii")


def _normalType(value):
    return ";".join(part.strip() for part in value.lower().split(";"))


class UploadResource(resource.Resource):
    """
    PUT and GET of uploaded files.

    @ivar maxBodySize: largest body this resource accepts; the HTTP site
        raises its own limit to it when the resource is attached.
    """

    isLeaf = True

    def __init__(self, slots, store, publicURL=""):
        resource.Resource.__init__(self)
        self.slots = slots
        self.store = store
        self.maxBodySize = slots.maxFileSize
        self._urlOf = (lambda: publicURL) if publicURL else None

    def mounted(self, urlOf):
        """Learn this resource's public URL from the site; a configured one wins."""
        if self._urlOf is None:
            self._urlOf = urlOf

    def urlFor(self, token, filename):
        """The PUT and GET URL of slot C{token}, or None while it has no URL."""
        base = self._urlOf() if self._urlOf is not None else None
        if base is None:
            return None
        return f"{base}/{token}/{quote(filename, safe='')}"

    def _target(self, request):
        """The (token, filename) the request path names, or None."""
        if len(request.postpath) != 2:
            return None
        try:
            return request.postpath[0].decode("ascii"), request.postpath[1].decode("utf-8")
        except UnicodeDecodeError:
            return None

    def render_OPTIONS(self, request):
        setCORSHeaders(request)
        request.setResponseCode(204)
        return b""

    def render_PUT(self, request):
        setCORSHeaders(request)
        target = self._target(request)
        slot = self.slots.pending(target[0]) if target else None
        if slot is None or slot.filename != target[1]:
            if target and self.store.get(target[0]) is not None:
                return _fail(request, 409, "this slot was already used")
            return _fail(request, 404, "no such upload slot")
        problem = self._checkBody(request, slot)
        if problem is not None:
            return _fail(request, *problem)
        self.slots.claim(slot.token)
        lost = []
        request.notifyFinish().addErrback(lost.append)
        source = getattr(request, "contentPath", None) or request.content
        d = self.store.add(slot, source)
        d.addBoth(self._stored, request, slot, lost)
        from twisted.web.server import NOT_DONE_YET  # loaded by the request's site

        return NOT_DONE_YET

    def _checkBody(self, request, slot):
        """Why the body does not fit C{slot}, as (HTTP code, text), or None."""
        declared = request.getHeader(b"content-length")
        if declared is not None and not declared.strip().isdigit():
            return 400, "invalid Content-Length"
        # The header first: it is what the client meant to send.
        for length in (declared, _bodySize(request.content)):
            if length is not None and int(length) != slot.size:
                code = 413 if int(length) > slot.size else 400
                return code, f"the slot is for exactly {slot.size} bytes"
        contentType = request.getHeader(b"content-type")
        if contentType is not None and \
                _normalType(contentType.decode("latin-1")) != _normalType(slot.contentType):
            return 400, "the Content-Type differs from the slot's"
        return None

    def _stored(self, result, request, slot, lost):
        self.slots.release(slot.token)
        if isinstance(result, Failure):
            log.failure("storing upload {token} failed", result, token=slot.token)
        if lost:
            return
        request.setResponseCode(500 if isinstance(result, Failure) else 201)
        request.finish()

    def render_GET(self, request):
        setCORSHeaders(request)
        target = self._target(request)
        record = self.store.get(target[0]) if target else None
        if record is None or record.filename != target[1]:
            return resource.NoResource().render(request)
        request.setHeader(b"content-disposition",
                          contentDisposition(record.filename, record.contentType))
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"content-security-policy", b"default-src 'none'; sandbox")
        from twisted.web import static  # at the first download, not when the component is made

        served = static.File(self.store.dataPath(record.token))
        served.type, served.encoding = record.contentType, None
        return served.render(request)

    render_HEAD = render_GET


def _bodySize(content):
    """Bytes in the received body, leaving the file position at its start."""
    if content is None:
        return None
    size = content.seek(0, 2)
    content.seek(0)
    return size


def _fail(request, code, text):
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
    return text.encode("utf-8") + b"\n"
