# -*- test-case-name: tests.test_host -*-
"""
A host: the entity behind one or more domains that owns a list of handlers.

The session manager and every component are hosts.  A host neither knows nor
cares whether it is attached to the router in process or over a XEP-0114 TCP
stream: something sets L{Host.output} to where its stanzas go, and calls
L{Host.receive} with the stanzas routed to it.  That is what lets a component
move out of process with a configuration change only.

The host is also where handlers meet: it indexes their iq routes (one route
per iq type and payload namespace, RFC 6120 section 8.2.3) and calls their
declared hooks (L{jabberd.handler.HOOKS}) in stage, then attachment, order.
"""

from bisect import insort

from twisted.internet import defer
from twisted.words.protocols.jabber.xmlstream import toResponse

from jabberd.error import StanzaError, errorReply, isErrorable
from jabberd.handler import HOOKS, IQRoutes
from jabberd.logs import Logger
from jabberd.stanza import firstChild

__all__ = ["Host", "MissingHandler"]


class MissingHandler(Exception):
    """A handler requires another (L{jabberd.handler.Handler.requires}) that is not attached."""


class Host:
    """
    Owns handlers and dispatches stanzas and hooks to them.

    @ivar domains: the domain names this host serves.
    @ivar handlers: attached handlers, in attachment order.
    @ivar output: callable taking a stanza; where L{send} delivers.
    """

    log = Logger()

    def __init__(self, domains):
        self.domains = [d.lower() for d in domains]
        self.handlers = []
        self.output = None
        self.iqRoutes = IQRoutes()
        self._byName = {}
        # hook name -> [(stage, attachment index, bound method)], kept sorted;
        # _hooks holds the bound methods alone, updated in place so that a
        # reference to one list (a session's onDeliver hooks) stays current.
        self._ordered = {name: [] for name in HOOKS}
        self._hooks = {name: [] for name in HOOKS}

    @property
    def domain(self):
        """The primary domain."""
        return self.domains[0]

    def addHandler(self, handler):
        """
        Attach C{handler}: index its hooks by stage and its iq routes
        (L{jabberd.handler.DuplicateRoute} if another handler answers one of
        them and neither overrides), and return it.
        """
        if handler.handlerName in self._byName:
            raise ValueError(f"two handlers are called {handler.handlerName!r}")
        index = len(self.handlers)
        handler.setHost(self)
        self.handlers.append(handler)
        if handler.handlerName is not None:
            self._byName[handler.handlerName] = handler
        for name in HOOKS:
            method = getattr(handler, name, None)
            if callable(method):
                insort(self._ordered[name], (handler.stage, index, method),
                       key=lambda entry: entry[:2])
                self._hooks[name][:] = [entry[2] for entry in self._ordered[name]]
        routes = getattr(handler, "iqRoutes", None)
        if routes is not None:
            for key, method, override in routes():
                self.iqRoutes.add(key, method, override)
        return handler

    def handler(self, name):
        """The attached handler called C{name} (see L{Handler.requires}), or None."""
        return self._byName.get(name)

    def checkRequirements(self):
        """
        Raise L{MissingHandler} unless every handler's C{requires} is
        attached; called once the host is built, before it serves.
        """
        for handler in self.handlers:
            missing = [name for name in handler.requires if name not in self._byName]
            if missing:
                raise MissingHandler(f"{type(handler).__name__} requires {', '.join(missing)}")

    def hooks(self, name):
        """The bound C{name} hook methods, in stage then attachment order."""
        return self._hooks[name]

    def notify(self, name, *args):
        """
        Call every C{name} hook (an C{"all"} hook of L{HOOKS}); one that
        raises is logged and the others still run.
        """
        for hook in self._hooks[name]:
            try:
                hook(*args)
            except Exception:
                self.log.failure("{hook} hook failed", hook=hook.__qualname__)

    def first(self, name, *args):
        """Call the C{name} hooks until one answers true; return that answer, or False."""
        for hook in self._hooks[name]:
            answer = hook(*args)
            if answer:
                return answer
        return False

    def collect(self, name, *args):
        """Concatenate what every C{name} hook returns (a C{"collect"} hook)."""
        return [value for hook in self._hooks[name] for value in hook(*args)]

    def offer(self, name, *args):
        """
        Offer to the C{name} hooks one at a time, each possibly answering
        with a Deferred, until one takes it: a Deferred firing with the
        first true answer, or False when none took it.
        """
        hooks = iter(self._hooks[name])

        def next_(answer):
            if answer:
                return answer
            hook = next(hooks, None)
            if hook is None:
                return False
            return defer.maybeDeferred(hook, *args).addCallback(next_)

        return defer.maybeDeferred(next_, False)

    def send(self, stanza):
        """Send C{stanza} out towards the router."""
        self.output(stanza)

    def receive(self, stanza):
        """
        Handle a stanza routed to this host: the C{onInbound} hooks first,
        then iq dispatch; anything else unclaimed gets the RFC 6120 default.
        """
        for hook in self._hooks["onInbound"]:  # inline: every stanza passes here
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
        return self.iqRoutes.get((iq.getAttribute("type"), payload.uri))

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
