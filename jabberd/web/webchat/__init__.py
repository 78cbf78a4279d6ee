# -*- test-case-name: tests.web.webchat.test_webchat -*-
"""
The web chat page: a small XMPP client in plain JavaScript, served by the
server itself on the shared HTTP site (C{[http] webchat_path}, the site
root by default; C{webchat = no} turns it off).

The page talks XMPP over WebSocket (RFC 7395) or, where that fails, BOSH
(XEP-0206) to this server, with its own code in C{static/xmpp.js}:
SCRAM-SHA-256/SCRAM-SHA-1 through WebCrypto, PLAIN only where the server
offers it (an encrypted or trusted transport), in-band registration
(XEP-0077), the roster and presence (RFC 6121), private chat and
multi-user chat (XEP-0045).  Nothing is loaded from elsewhere.

The page learns the server's paths and domains from C{<meta>} tags filled
in here, once, when the page is mounted.
"""

import os

from twisted.web import resource

from jabberd.c2s.register import registrationOpen

__all__ = ["mountWebChat", "WebChatPage", "Assets", "pageSettings", "renderPage"]

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, "static")
TEMPLATE = os.path.join(HERE, "page.html")
ASSETS = "webchat"
"""Path segment of the scripts and style sheet, below the page's own path."""


def conferenceDomain(config):
    """The MUC service to offer: a C{conference} component, else C{conference.DOMAIN}."""
    for component in config.components.values():
        if component.plugin == "conference":
            return component.domain
    return "conference." + config.server.domains[0]


def pageSettings(config):
    """What the page's script needs to know, as C{<meta>} name to content."""
    h = config.http
    return {
        "jabberd-domain": config.server.domains[0],
        "jabberd-websocket": "/" + h.websocketPath if h.websocketPath else "",
        "jabberd-bosh": "/" + h.boshPath if h.boshPath else "",
        "jabberd-conference": conferenceDomain(config),
        "jabberd-register": "yes" if registrationOpen(config) else "no",
    }


def renderPage(settings, template=TEMPLATE):
    """The page's bytes: the template with its C{<meta>} settings filled in."""
    from twisted.words.xish.domish import escapeToXml

    with open(template, encoding="utf-8") as f:
        text = f.read()
    metas = "\n".join('    <meta name="%s" content="%s">' % (name, escapeToXml(value, 1))
                      for name, value in settings.items())
    return text.replace("    <!-- settings -->", metas).encode("utf-8")


class WebChatPage(resource.Resource):
    """The page itself (rendered once; the same bytes for everyone)."""

    isLeaf = True

    def __init__(self, body):
        resource.Resource.__init__(self)
        self.body = body

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"cache-control", b"no-cache")
        # The page runs only its own scripts and talks only to this server.
        request.setHeader(b"content-security-policy",
                          b"default-src 'self'; connect-src 'self'; "
                          b"img-src 'self' data:; object-src 'none'; base-uri 'none'")
        request.setHeader(b"x-content-type-options", b"nosniff")
        return self.body


class Assets(resource.Resource):
    """
    The page's scripts and style: a L{jabberd.web.webchat.assets.AssetDirectory}
    made at the first request below it, so a server whose page nobody has
    opened holds no C{twisted.web.static} (nor its MIME type tables).
    """

    def __init__(self, path):
        resource.Resource.__init__(self)
        self.path = path
        self._directory = None

    def directory(self):
        """The directory resource that answers, made once."""
        if self._directory is None:
            from jabberd.web.webchat.assets import AssetDirectory

            self._directory = AssetDirectory(self.path)
        return self._directory

    def getChildWithDefault(self, name, request):
        return self.directory().getChildWithDefault(name, request)

    def render(self, request):
        return self.directory().render(request)


class _Mount(resource.Resource):
    """The page below a path of its own: C{/PATH/} and C{/PATH/webchat/...}."""

    def __init__(self, page, assets):
        resource.Resource.__init__(self)
        self.putChild(b"", page)
        self.putChild(ASSETS.encode("ascii"), assets)

    def render_GET(self, request):
        # /PATH without the slash: the page's relative URLs need it.
        from twisted.web import util

        return util.redirectTo(request.path + b"/", request)


def mountWebChat(http, config):
    """Attach the page to the L{jabberd.web.service.HTTPService} C{http} per C{config.http}."""
    page = WebChatPage(renderPage(pageSettings(config)))
    assets = Assets(STATIC)
    path = config.http.webchatPath
    if path:
        http.attach(path, _Mount(page, assets))
    else:
        http.attach("", page)
        http.attach(ASSETS, assets)
