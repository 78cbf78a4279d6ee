# -*- test-case-name: tests.c2s.test_stream -*-
"""
Stream feature negotiation (RFC 6120 section 4.3): the base class of the
pieces a client stream negotiates (STARTTLS, SASL, resource binding,
legacy authentication and in-band registration).

A L{Negotiator} is made per stream.  It advertises its features for the
stream's current phase and handles the first-level elements and the iq
payloads it declares; the stream indexes them once, so dispatch is a
dictionary look-up.  Adding a negotiable feature means adding a class to
L{jabberd.c2s.listener.C2SFactory.negotiators}.
"""

from jabberd.logs import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse

from jabberd.error import errorReply

__all__ = ["Negotiator"]


class Negotiator:
    """
    One negotiable concern of a client stream.

    @cvar elements: (namespace, name) of the first-level elements handled
        by L{onElement} (e.g. SASL's C{auth}, C{response}, C{abort}).
    @cvar iqNamespaces: payload namespaces of the iqs offered to L{onIQ}.
    @ivar stream: the L{jabberd.c2s.stream.ClientStream}.
    """

    log = Logger()
    elements = ()
    iqNamespaces = ()

    def __init__(self, stream):
        self.stream = stream

    def features(self):
        """Return the feature elements to advertise now (none by default)."""
        return ()

    def onElement(self, element):
        """Handle a first-level element listed in C{elements}."""

    def onIQ(self, iq, payload):
        """
        Offered an iq whose first child C{payload} is in one of
        C{iqNamespaces}; return True when handled, False to let the stream
        treat it as any other stanza.
        """
        return False

    def sendResult(self, iq, payload=None):
        """Answer C{iq} with a result carrying C{payload}."""
        response = toResponse(iq, "result")
        if payload is not None:
            response.addChild(payload)
        self.stream.send(response)

    def sendError(self, iq, condition, text=None):
        """Answer C{iq} with the stanza error C{condition} (legacy code included)."""
        self.stream.send(errorReply(iq, condition, text=text))
