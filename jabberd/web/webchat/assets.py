# -*- test-case-name: tests.web.webchat.test_webchat -*-
"""
The web chat page's scripts and style sheet as files (C{twisted.web.static}),
imported at the first request for one of them (L{jabberd.web.webchat}).
"""

from twisted.web import resource, static

__all__ = ["AssetDirectory"]


class AssetDirectory(static.File):
    """The page's scripts and style, without a directory listing."""

    contentTypes = dict(static.File.contentTypes, **{".js": "text/javascript; charset=utf-8",
                                                     ".css": "text/css; charset=utf-8"})

    def directoryListing(self):
        return resource.NoResource()
