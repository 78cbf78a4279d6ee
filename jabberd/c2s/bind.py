# -*- test-case-name: tests.c2s.test_bind -*-
"""
Resource binding (RFC 6120 section 7) and the legacy session
establishment iq (RFC 3921 section 3, kept as C{<optional/>} per
draft-cridland-xmpp-session).

A client-chosen resource is resourceprep'd (C{bad-request} if it cannot
be); none gets a random one.  The session manager replaces a session bound
to the same full JID (section 7.7.2.2).  After authentication the features
also carry what the session manager's handlers advertise through the
C{streamFeatures} hook (e.g. roster versioning, RFC 6121 section 2.6).
"""

import secrets

from twisted.words.xish import domish

from jabberd.c2s.negotiation import Negotiator, handlesIQ
from jabberd.jidutil import prepResource
from jabberd.ns import NS_BIND, NS_SESSION

__all__ = ["BindNegotiator", "SessionNegotiator", "newResource"]


def newResource():
    """A server-generated resource (section 7.6: unique and unpredictable)."""
    return "jabberd-" + secrets.token_hex(8)


class BindNegotiator(Negotiator):
    __slots__ = ()

    def features(self):
        stream = self.stream
        if stream.username is None or stream.session is not None:
            return ()
        return [domish.Element((NS_BIND, "bind")), *stream.sm.collect("streamFeatures")]

    @handlesIQ(NS_BIND)
    def onBindIQ(self, iq, payload):
        """A bind request to the server, once authenticated (section 7.6)."""
        stream = self.stream
        if stream.username is None or not stream.isToServer(iq):
            return False
        if iq.getAttribute("type") != "set" or payload.name != "bind":
            self.sendError(iq, "bad-request")
        elif stream.session is not None:
            # One resource per stream (section 7.7.2.1 lets a server refuse more).
            self.sendError(iq, "not-allowed", "a resource is already bound")
        else:
            self.bind(iq, payload)
        return True

    def bind(self, iq, payload):
        """Bind the requested (or a generated) resource and answer with the full JID."""
        requested = "".join(str(c) for c in payload.elements(NS_BIND, "resource"))
        resource = prepResource(requested) if requested else newResource()
        if resource is None:
            self.sendError(iq, "bad-request", "invalid resource")
            return
        full = "%s@%s/%s" % (self.stream.username, self.stream.domain, resource)
        result = domish.Element((NS_BIND, "bind"))
        result.addElement("jid", content=full)
        self.sendResult(iq, result)
        self.stream.bindResource(resource)


class SessionNegotiator(Negotiator):
    """COMPAT: RFC 3921 clients send a session iq after binding; it is a no-op."""

    __slots__ = ()

    def features(self):
        stream = self.stream
        if stream.username is None or stream.session is not None:
            return ()
        session = domish.Element((NS_SESSION, "session"))
        session.addElement("optional")
        return (session,)

    @handlesIQ(NS_SESSION)
    def onSessionIQ(self, iq, payload):
        """A session request to the server, once authenticated: an empty result."""
        stream = self.stream
        if stream.username is None or not stream.isToServer(iq):
            return False
        if iq.getAttribute("type") != "set" or payload.name != "session":
            self.sendError(iq, "bad-request")
        else:
            self.sendResult(iq)
        return True
