# -*- test-case-name: tests.c2s.test_stream -*-
"""
Stream feature negotiation (RFC 6120 section 4.3): the base class of the
pieces a client stream negotiates (STARTTLS, SASL, resource binding,
legacy authentication and in-band registration).

A L{Negotiator} is made per stream.  It advertises its features for the
stream's current phase and handles the first-level elements and the iq
payloads it marks (L{jabberd.dispatch.handles}, L{handlesIQ}); the stream
indexes the marks of its negotiator classes once, so dispatch is a
dictionary look-up.  Adding a negotiable feature means adding a class to
L{jabberd.c2s.listener.C2SFactory.negotiators}.
"""

from jabberd.logs import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse

from jabberd.dispatch import handlesKey
from jabberd.error import errorReply

__all__ = ["Negotiator", "handlesIQ", "IQ_PAYLOADS"]

#: The L{jabberd.dispatch} table of iq handlers, keyed by payload namespace.
IQ_PAYLOADS = "iq payloads"


def handlesIQ(uri):
    """
    Mark a negotiator method C{(iq, payload)} as offered the iqs whose first
    child C{payload} is in namespace C{uri}; it returns True when it
    handled the iq, False to let the stream treat it as any other stanza.
    """
    return handlesKey(IQ_PAYLOADS, uri)


class Negotiator:
    """
    One negotiable concern of a client stream.  Its methods marked with
    L{jabberd.dispatch.handles} take first-level elements (e.g. SASL's
    C{auth}, C{response}, C{abort}); those marked with L{handlesIQ} are
    offered iqs by payload namespace.

    @ivar stream: the L{jabberd.c2s.stream.ClientStream}.
    """

    log = Logger()
    # One of each per client stream: no instance dicts (subclasses name theirs too).
    __slots__ = ("stream",)

    def __init__(self, stream):
        self.stream = stream

    def features(self):
        """Return the feature elements to advertise now (none by default)."""
        return ()

    def sendResult(self, iq, payload=None):
        """Answer C{iq} with a result carrying C{payload}."""
        response = toResponse(iq, "result")
        if payload is not None:
            response.addChild(payload)
        self.sendStanza(response)

    def sendError(self, iq, condition, text=None):
        """Answer C{iq} with the stanza error C{condition} (legacy code included)."""
        self.sendStanza(errorReply(iq, condition, text=text))

    def sendStanza(self, stanza):
        """
        Write a stanza; once a resource is bound it goes through the
        session, so stream management (XEP-0198) counts it.
        """
        session = self.stream.session
        if session is not None:
            session.write(stanza)
        else:
            self.stream.send(stanza)
