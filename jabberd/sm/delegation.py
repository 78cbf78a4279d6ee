# -*- test-case-name: tests.sm.test_delegation -*-
"""
Namespace delegation (XEP-0355 section 4.2, admin mode) in the session
manager: iqs of a delegated namespace addressed to the server or to a local
account (bare JID, or no C{to}) are answered by a trusted component.

Configuration, one line per component (a namespace has one owner)::

    [component:register.localhost]
    plugin = register
    trusted = yes                       ; required for delegate
    delegate = jabber:iq:register       ; space separated namespaces

How it works: L{DelegationHandler} puts C{get}/C{set} routes for every
delegated namespace into the host's iq index, ahead of the built-in
handlers.  L{DelegationHandler.forward} wraps the iq (L{jabberd.delegated.wrap})
in C{<iq type='set' from=SERVER to=COMPONENT>} and returns a Deferred the
host's iq dispatch waits on; the component's answer (routed back to the
server) is consumed by L{DelegationHandler.onInbound} and fires it:

 - a wrapped C{result} -> the requester gets a result with its payload;
 - a wrapped C{error}, or the wrapper itself bouncing (component not
   connected: C{service-unavailable}) -> the requester gets that error;
 - no answer within L{DelegationHandler.timeout} seconds -> the requester
   gets C{service-unavailable} (XEP-0355: the managing entity is
   unavailable).

The answer is always addressed by the session manager (to the original
sender, same id), so a component cannot redirect it.

API for other session manager modules:

 - C{handler = sm.handlerOf(DelegationHandler)};
 - C{handler.delegateOf(namespace)}: the component domain, or None;
 - C{handler.observe(namespace, callback)}: C{callback(iq, payload)} runs
   after a delegated get/set of that namespace was answered with a result
   (e.g. XEP-0077 account removal closes the account's sessions).

Pre-auth streams (XEP-0077 registration before login): the c2s gives an
unauthenticated stream a temporary address with
L{jabberd.sm.manager.SessionManager.bindPreAuth}; iq results and errors
routed to such an address are written to that stream here, and a
delegation from it carries the client's IP address
(C{<ip xmlns='urn:xmpp:jabberd:client-ip'/>}) for the component's rate
limit.  Nothing else is ever delivered to a pre-auth stream.

The component end is L{jabberd.delegated}.
"""

import itertools
import secrets

from twisted.internet import defer
from jabberd.logs import Logger
from twisted.words.xish import domish

from jabberd.delegated import stanzaErrorOf, unwrap, wrap
from jabberd.error import StanzaError
from jabberd.handler import Handler
from jabberd.jidutil import domainOf
from jabberd.ns import NS_DELEGATION
from jabberd.stanza import firstChild

__all__ = ["DelegationHandler", "delegatesOf"]


def delegatesOf(config):
    """Namespace -> component domain, from the trusted components' C{delegate} keys."""
    delegates = {}
    for component in config.components.values():
        if component.trusted:
            for namespace in component.delegate:
                delegates.setdefault(namespace, component.domain)
    return delegates


class _Pending:
    __slots__ = ("deferred", "domain", "namespace", "iq", "call")

    def __init__(self, deferred, domain, namespace, iq):
        self.deferred = deferred
        self.domain = domain
        self.namespace = namespace
        self.iq = iq
        self.call = None


class DelegationHandler(Handler):
    """
    Forward iqs of delegated namespaces to their components.

    @ivar delegates: namespace -> component domain.
    @ivar timeout: seconds to wait for a component's answer.
    @ivar pending: wrapper iq id -> what is waiting for its answer.
    """

    log = Logger()
    timeout = 20

    def __init__(self, delegates, timeout=None, clock=None):
        self.delegates = dict(delegates)
        if timeout is not None:
            self.timeout = timeout
        if clock is None:
            from twisted.internet import reactor as clock
        self.clock = clock
        self.pending = {}
        self.observers = {}
        self._prefix = "dlg-" + secrets.token_hex(4) + "-"
        self._counter = itertools.count(1)

    @classmethod
    def fromConfig(cls, config, **kwargs):
        """The handler for every C{delegate} key of C{config}."""
        return cls(delegatesOf(config), **kwargs)

    def delegateOf(self, namespace):
        """The component answering C{namespace}, or None."""
        return self.delegates.get(namespace)

    def observe(self, namespace, callback):
        """Call C{callback(iq, payload)} after each delegated result for C{namespace}."""
        self.observers.setdefault(namespace, []).append(callback)

    def iqRoutes(self):
        """A get and a set route for every delegated namespace."""
        for namespace in self.delegates:
            yield ("get", namespace, None), self.forward
            yield ("set", namespace, None), self.forward

    def discoFeatures(self, target, node):
        """
        The server advertises delegation and what its delegates answer
        (XEP-0355 section 7.1).
        """
        if node or target.user is not None or not self.delegates:
            return []
        return [NS_DELEGATION, *self.delegates]

    # forwarding

    def forward(self, iq):
        """
        Hand C{iq} to its namespace's component; a Deferred firing with the
        result payload (or None), or failing with the L{StanzaError} for
        the requester.
        """
        namespace = firstChild(iq).uri
        domain = self.delegates[namespace]
        sender = iq.getAttribute("from") or ""
        preAuth = self.host.preAuth.get(sender) if self.host.preAuth else None
        clientIP = preAuth.clientIP if preAuth is not None else None
        wrapper = domish.Element((None, "iq"))
        wrapper["type"] = "set"
        wrapper["from"] = self._serverOf(iq)
        wrapper["to"] = domain
        wrapper["id"] = ident = self._prefix + str(next(self._counter))
        entry = _Pending(defer.Deferred(), domain, namespace, iq)
        entry.call = self.clock.callLater(self.timeout, self._timedOut, ident)
        self.pending[ident] = entry
        wrapper.addChild(wrap(iq, clientIP))
        self.send(wrapper)
        return entry.deferred

    def _serverOf(self, iq):
        """The local domain the iq was addressed to (the primary one by default)."""
        to = iq.getAttribute("to")
        domain = domainOf(to) if to else None
        return domain if domain in self.host.domains else self.host.domain

    def _timedOut(self, ident):
        entry = self.pending.pop(ident, None)
        if entry is not None:
            self.log.warn("{domain} did not answer a delegated {ns} iq", domain=entry.domain,
                          ns=entry.namespace)
            entry.deferred.errback(StanzaError("service-unavailable",
                                               text="the service did not answer"))

    # answers

    def onInbound(self, stanza):
        """Consume components' answers, and iq answers to pre-auth streams."""
        if stanza.name != "iq" or stanza.getAttribute("type") not in ("result", "error"):
            return False
        if self.pending:
            entry = self.pending.get(stanza.getAttribute("id"))
            if entry is not None and domainOf(stanza.getAttribute("from") or "") == entry.domain:
                del self.pending[stanza["id"]]
                entry.call.cancel()
                self._answered(entry, stanza)
                return True
        if self.host.preAuth:
            preAuth = self.host.preAuth.get(stanza.getAttribute("to"))
            if preAuth is not None:
                # The client never learnt its temporary address: leave it out.
                del stanza.attributes["to"]
                preAuth.stream.send(stanza)
                return True
        return False

    def _answered(self, entry, stanza):
        inner = unwrap(stanza)
        innerType = inner.getAttribute("type") if inner is not None else None
        if innerType == "error":
            entry.deferred.errback(stanzaErrorOf(inner))
        elif stanza.getAttribute("type") == "error":
            entry.deferred.errback(stanzaErrorOf(stanza))
        elif innerType == "result":
            payload = firstChild(inner)
            entry.deferred.callback(payload)
            self._notify(entry, payload)
        else:
            self.log.warn("{domain} answered a delegation without a wrapped iq",
                          domain=entry.domain)
            entry.deferred.errback(StanzaError("internal-server-error"))

    def _notify(self, entry, payload):
        for callback in self.observers.get(entry.namespace, ()):
            try:
                callback(entry.iq, payload)
            except Exception:
                self.log.failure("delegation observer for {ns} failed", ns=entry.namespace)

