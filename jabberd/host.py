# -*- test-case-name: tests.test_host -*-
"""
A host: the entity behind one or more domains that owns a list of handlers.

The session manager and every component are hosts.  A host neither knows nor
cares whether it is attached to the router in process or over a XEP-0114 TCP
stream: something sets L{Host.output} to where its stanzas go, and calls
L{Host.receive} with the stanzas routed to it.  That is what lets a component
move out of process with a configuration change only.
"""

from twisted.internet import defer
from jabberd.logs import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse

from jabberd.error import StanzaError, errorReply, isErrorable
from jabberd.stanza import firstChild

__all__ = ["Host"]

_HOOKS = ("onInbound", "onOutbound", "sessionBound", "sessionEnded", "userDeleted")


class Host:
    """
    Owns handlers and dispatches stanzas to them.

    @ivar domains: the domain names this host serves.
    @ivar handlers: attached handlers, in attachment order (order matters,
        as in jabberd 1.4's module list).
    @ivar output: callable taking a stanza; where L{send} delivers.
    """

    log = Logger()

    def __init__(self, domains):
        self.domains = [d.lower() for d in domains]
        self.handlers = []
        self.output = None
        self._iqRoutes = {}
        self._hooks = {name: [] for name in _HOOKS}

    @property
    def domain(self):
        """The primary domain."""
        return self.domains[0]

    def addHandler(self, handler):
        """Attach C{handler}, index its iq payloads and hooks, and return it."""
        handler.setHost(self)
        self.handlers.append(handler)
        for name in _HOOKS:
            if callable(getattr(handler, name, None)):
                self._hooks[name].append(getattr(handler, name))
        routes = getattr(handler, "iqRoutes", None)
        if routes is not None:
            for (iqType, uri, _name), method in routes():
                self._iqRoutes.setdefault((iqType, uri), method)
        return handler

    def handlerOf(self, klass):
        """Return the first attached handler that is a C{klass}, or None."""
        for handler in self.handlers:
            if isinstance(handler, klass):
                return handler
        return None

    def hooks(self, name):
        """The bound hook methods called C{name}, in attachment order."""
        return self._hooks[name]

    def send(self, stanza):
        """Send C{stanza} out towards the router."""
        self.output(stanza)

    def receive(self, stanza):
        """
        Handle a stanza routed to this host: the C{onInbound} hooks first,
        then iq dispatch; anything else unclaimed gets the RFC 6120 default.
        """
        for hook in self._hooks["onInbound"]:
            if hook(stanza):
                return
        if stanza.name == "iq":
            self.handleIQ(stanza)
        else:
            self.unhandled(stanza)

    def unhandled(self, stanza):
        """
        A message or presence nobody claimed: a message gets
        C{service-unavailable} (RFC 6120 section 8.3.3.19), presence is
        dropped silently.
        """
        if stanza.name == "message" and isErrorable(stanza):
            self.send(errorReply(stanza, "service-unavailable"))

    def iqMethod(self, iq):
        """Return the handler method for C{iq}'s payload, or None."""
        payload = firstChild(iq)
        if payload is None:
            return None
        return self._iqRoutes.get((iq.getAttribute("type"), payload.uri))

    def handleIQ(self, iq):
        """
        Answer C{iq}: call its handler and send the result or the error.
        A get/set without a handler gets C{service-unavailable}; results and
        errors are never answered (RFC 6120 section 8.2.3).
        """
        iqType = iq.getAttribute("type")
        if iqType not in ("get", "set"):
            return None
        method = self.iqMethod(iq)
        if method is None:
            self.send(errorReply(iq, "service-unavailable"))
            return None
        d = defer.maybeDeferred(method, iq)
        d.addCallbacks(self._iqResult, self._iqError, (iq,), None, (iq,))
        return d

    def _iqResult(self, payload, iq):
        response = toResponse(iq, "result")
        if payload is not None:
            response.addChild(payload)
        self.send(response)

    def _iqError(self, failure, iq):
        if failure.check(StanzaError):
            self.send(failure.value.toResponse(iq))
            return
        payload = firstChild(iq)
        self.log.failure("iq handler failed for {ns}", failure,
                         ns=payload.uri if payload is not None else None)
        self.send(errorReply(iq, "internal-server-error"))
