# -*- test-case-name: tests.test_handler -*-
"""
The one way protocol handlers attach to a host (the session manager for local
domains, or a component for its domain), in the spirit of jabberd 1.4's
C{mod_*} list and Prosody's modules.

A L{Handler} is one protocol concern.  The host calls its optional hooks in
attachment order; an L{IQHandler} additionally declares its iq payloads with
L{iqGet} and L{iqSet}, which the host indexes by namespace so dispatching an iq
is one dictionary look-up (RFC 6120 section 8.2.3: every get/set gets exactly
one result or error).  Disco (XEP-0030) asks every handler what it provides, so
a handler advertises itself and nothing is listed twice.
"""

from jabberd.logs import Logger

__all__ = ["Handler", "IQHandler", "iqGet", "iqSet"]


class Handler:
    """
    Base for a protocol handler.

    Hooks (all optional; a handler defines only those it needs, and the host
    calls only handlers that define them):

     - C{onInbound(stanza)}: a stanza routed to the host's domain(s); return
       True when consumed.
     - C{onOutbound(session, stanza)}: session manager only: a stanza a local
       client sent, C{from} already stamped; return True when consumed.
     - C{sessionBound(session)}, C{sessionEnded(session)}: session manager
       only: a resource was bound, a session closed (cleanly or not).
     - C{userDeleted(username)}: an account was removed; drop its data.

    @ivar host: the L{jabberd.host.Host} this handler is attached to.
    """

    log = Logger()
    host = None

    def setHost(self, host):
        """Attach to C{host}; called once by L{jabberd.host.Host.addHandler}."""
        self.host = host

    def send(self, stanza):
        """Send C{stanza} out through the host (to the router)."""
        self.host.send(stanza)

    def discoIdentities(self, target, node):
        """Return (category, type, name) tuples this handler adds for C{target}."""
        return []

    def discoFeatures(self, target, node):
        """Return feature namespaces this handler adds for C{target}."""
        return []

    def discoItems(self, target, node):
        """Return (jid, node, name) tuples this handler adds for C{target}."""
        return []


def _iqMarker(iqType, uri, name):
    def mark(method):
        method.__dict__.setdefault("_iqRoutes", []).append((iqType, uri, name))
        return method

    return mark


def iqGet(uri, name="query"):
    """Mark a method as answering C{<iq type='get'>} with payload C{{uri}name}."""
    return _iqMarker("get", uri, name)


def iqSet(uri, name="query"):
    """Mark a method as answering C{<iq type='set'>} with payload C{{uri}name}."""
    return _iqMarker("set", uri, name)


class IQHandler(Handler):
    """
    A handler that answers iq payloads declared with L{iqGet}/L{iqSet}.

    A marked method is called with the iq element.  It returns the result
    payload (a L{domish.Element}), None for an empty result, or a Deferred of
    either; raising or failing with a L{StanzaError} sends that error.  The
    host wraps all of this (see L{jabberd.host.Host.handleIQ}).
    """

    def iqRoutes(self):
        """Yield ((type, uri, name), bound method) for every marked method."""
        seen = set()
        for klass in type(self).__mro__:
            for attr, value in vars(klass).items():
                if attr in seen:
                    continue
                seen.add(attr)
                for route in getattr(value, "_iqRoutes", ()):
                    yield route, getattr(self, attr)
