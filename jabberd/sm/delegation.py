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
handlers.  L{DelegationHandler.forward} wraps the iq (L{jabberd.component.delegation.wrap})
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

After a delegated get/set was answered with a result, the host's
C{delegatedResult(namespace, iq, payload)} hooks run (e.g. XEP-0077
account removal closes the account's sessions, L{jabberd.sm.accountremoval}).
Which component answers a namespace is L{delegatesOf} the configuration.

Pre-auth streams (XEP-0077 registration before login): the c2s gives an
unauthenticated stream a temporary address with
L{jabberd.sm.manager.SessionManager.bindPreAuth}; iq results and errors
routed to such an address are written to that stream here, and a
delegation from it carries the client's IP address
(C{<ip xmlns='urn:xmpp:jabberd:client-ip'/>}) for the component's rate
limit.  Nothing else is ever delivered to a pre-auth stream.

The component end is L{jabberd.component.delegation}.
"""

from twisted.internet import defer
from twisted.words.xish import domish

from jabberd.component.delegation import stanzaErrorOf, unwrap, wrap
from jabberd.error import StanzaError
from jabberd.handler import Handler, Stage
from jabberd.jidutil import domainOf
from jabberd.logs import Logger
from jabberd.ns import NS_DELEGATION
from jabberd.sm.iqrequests import IQRequests
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


class DelegationHandler(Handler):
    """
    Forward iqs of delegated namespaces to their components.  Its hooks
    run in the routing stage, before any other handler's: components'
    answers are consumed first, and its iq routes override the built-in
    handlers of the same namespaces.

    @ivar delegates: namespace -> component domain.
    @ivar requests: the forwarded iqs awaiting their component's answer.
    """

    log = Logger()
    handlerName = "delegation"
    stage = Stage.ROUTING
    timeout = 20

    def __init__(self, delegates, timeout=None, clock=None):
        self.delegates = dict(delegates)
        self.requests = IQRequests("dlg", self.timeout if timeout is None else timeout,
                                   _Unanswered, clock)

    @classmethod
    def fromConfig(cls, config, **kwargs):
        """The handler for every C{delegate} key of C{config}."""
        return cls(delegatesOf(config), **kwargs)

    def delegateOf(self, namespace):
        """The component answering C{namespace}, or None."""
        return self.delegates.get(namespace)

    def iqRoutes(self):
        """A get and a set route for every delegated namespace."""
        for namespace in self.delegates:
            yield ("get", namespace), self.forward, True
            yield ("set", namespace), self.forward, True

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
        wrapper.addChild(wrap(iq, clientIP))
        answered = defer.Deferred()
        d = self.requests.send(self.send, wrapper)
        d.addCallback(self._answered)
        d.addErrback(self._failed, domain, namespace)
        d.addCallbacks(self._relay, answered.errback, (answered, namespace, iq))
        return answered

    def _relay(self, payload, answered, namespace, iq):
        """
        Answer the requester first (the host writes the result as
        C{answered} fires), then run the C{delegatedResult} hooks.
        """
        answered.callback(payload)
        self.host.notify("delegatedResult", namespace, iq, payload)

    def _serverOf(self, iq):
        """The local domain the iq was addressed to (the primary one by default)."""
        to = iq.getAttribute("to")
        domain = domainOf(to) if to else None
        return domain if domain in self.host.domains else self.host.domain

    # answers

    def onInbound(self, stanza):
        """Consume components' answers, and iq answers to pre-auth streams."""
        if stanza.name != "iq" or stanza.getAttribute("type") not in ("result", "error"):
            return False
        if self.requests.answer(stanza):
            return True
        if self.host.preAuth:
            preAuth = self.host.preAuth.get(stanza.getAttribute("to"))
            if preAuth is not None:
                # The client never learnt its temporary address: leave it out.
                del stanza.attributes["to"]
                preAuth.stream.send(stanza)
                return True
        return False

    def _answered(self, stanza):
        """The component's answer: the requester's result payload, or its error."""
        inner = unwrap(stanza)
        innerType = inner.getAttribute("type") if inner is not None else None
        if innerType == "error":
            raise stanzaErrorOf(inner)
        if stanza.getAttribute("type") == "error":
            raise stanzaErrorOf(stanza)
        if innerType != "result":
            self.log.warn("{domain} answered a delegation without a wrapped iq",
                          domain=stanza.getAttribute("from"))
            raise StanzaError("internal-server-error")
        return firstChild(inner)

    def _failed(self, failure, domain, namespace):
        if failure.check(_Unanswered):
            self.log.warn("{domain} did not answer a delegated {ns} iq", domain=domain,
                          ns=namespace)
            raise StanzaError("service-unavailable", text="the service did not answer")
        return failure


class _Unanswered(Exception):
    """A component did not answer a delegated iq in time."""

