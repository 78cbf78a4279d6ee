# -*- test-case-name: tests.sm.test_delegation -*-
"""
Namespace delegation (XEP-0355 section 4.2, admin mode), the component end,
and the wire format both ends share.

The session manager hands an iq of a delegated namespace to the component
wrapped in a XEP-0297 C{<forwarded/>}::

    <iq type='set' from='localhost' to='register.localhost' id='d1'>
      <delegation xmlns='urn:xmpp:delegation:2'>
        <forwarded xmlns='urn:xmpp:forward:0'>
          <iq xmlns='jabber:client' type='set' from='alice@localhost/pc' id='x'>...</iq>
        </forwarded>
        <ip xmlns='urn:xmpp:jabberd:client-ip'>192.0.2.7</ip>   (pre-auth only)
      </delegation>
    </iq>

and the component answers with a result wrapping its reply to the inner
iq (a result or an error) the same way.  The session manager re-addresses
that reply to the original requester (L{jabberd.sm.delegation}).

A component answers delegated iqs with the usual handler style::

    class RegisterHandler(DelegatedIQHandler):
        @iqSet(NS_REGISTER)
        def onSet(self, iq):           # iq: the inner, original iq
            ...                        # return a payload or raise StanzaError

    host.addHandler(DelegationReceiver(config.server.domains))
    host.addHandler(RegisterHandler())

The marked methods of a L{DelegatedIQHandler} are reached only through the
L{DelegationReceiver}, i.e. only for iqs the server forwarded; an iq sent
straight to the component's domain never reaches them.  L{clientAddress}
gives the IP address of an unauthenticated requester.
"""

from twisted.internet import defer
from jabberd.logs import Logger
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, IQRoutes, iqSet, markedRoutes
from jabberd.ns import NS_CLIENT, NS_CLIENT_IP, NS_DELEGATION, NS_FORWARD, NS_XMPP_STANZAS
from jabberd.stanza import firstChild

__all__ = ["wrap", "unwrap", "stanzaErrorOf", "clientAddress",
           "DelegatedIQHandler", "DelegationReceiver"]


def wrap(iq, clientIP=None):
    """
    The C{<delegation/>} element forwarding C{iq} (XEP-0355 section 4.2).
    C{iq} is moved, not copied, and put in C{jabber:client} so it keeps its
    namespace when serialised inside C{<forwarded/>}.
    """
    iq.uri = iq.defaultUri = NS_CLIENT
    delegation = domish.Element((NS_DELEGATION, "delegation"))
    delegation.addElement((NS_FORWARD, "forwarded")).addChild(iq)
    if clientIP:
        delegation.addElement((NS_CLIENT_IP, "ip"), content=clientIP)
    return delegation


def unwrap(element):
    """
    The iq forwarded in C{element} (an iq carrying C{<delegation/>}, or the
    C{<delegation/>} itself), or None when there is none.
    """
    if (element.uri, element.name) != (NS_DELEGATION, "delegation"):
        element = firstChild(element, NS_DELEGATION, "delegation")
        if element is None:
            return None
    forwarded = firstChild(element, NS_FORWARD, "forwarded")
    if forwarded is None:
        return None
    return firstChild(forwarded, name="iq")


def stanzaErrorOf(stanza):
    """
    The L{StanzaError} an error stanza carries (RFC 6120 section 8.3.2),
    whatever namespace its C{<error/>} ended up in; C{undefined-condition}
    when it carries none.
    """
    error = firstChild(stanza, name="error")
    if error is None:
        return StanzaError("undefined-condition")
    condition = text = appCondition = None
    for child in error.elements():
        if child.uri != NS_XMPP_STANZAS:
            appCondition = child
        elif child.name == "text":
            text = str(child)
        else:
            condition = child.name
    return StanzaError(condition or "undefined-condition", error.getAttribute("type"),
                       text, appCondition=appCondition)


def clientAddress(iq):
    """
    The IP address the session manager attached to the delegation of the
    inner C{iq} (pre-auth requests only), or None.
    """
    forwarded = iq.parent
    delegation = getattr(forwarded, "parent", None)
    if delegation is None or (delegation.uri, delegation.name) != (NS_DELEGATION, "delegation"):
        return None
    ip = firstChild(delegation, NS_CLIENT_IP, "ip")
    return (str(ip).strip() or None) if ip is not None else None


class DelegatedIQHandler(IQHandler):
    """
    An L{IQHandler} for iqs the server delegates: its L{iqGet}/L{iqSet}
    methods get the inner (original) iq and return its result payload or
    raise a L{StanzaError}, as any iq handler does; they are indexed by the
    L{DelegationReceiver}, never by the host directly.
    """

    def iqRoutes(self):
        """None for the host: these iqs arrive only delegated."""
        return iter(())

    def delegatedRoutes(self):
        """The C{delegatedRoutes} hook: ((type, uri), method, override) of the marked methods."""
        return markedRoutes(self)


class DelegationReceiver(IQHandler):
    """
    Unwrap iqs delegated by the server, call the L{DelegatedIQHandler} of
    the host for the inner iq, and wrap its answer.

    @ivar servers: domains allowed to delegate (the server's own domains);
        a delegation from anyone else is C{forbidden}.
    """

    log = Logger()

    def __init__(self, servers):
        self.servers = {s.lower() for s in servers}
        self._routes = None

    def routes(self):
        """The L{IQRoutes} of every delegated handler of the host (indexed once)."""
        if self._routes is None:
            self._routes = IQRoutes()
            for key, method, override in self.host.collect("delegatedRoutes"):
                self._routes.add(key, method, override)
        return self._routes

    def discoFeatures(self, target, node):
        """The delegation feature (XEP-0355 section 7.1)."""
        return [] if node else [NS_DELEGATION]

    @iqSet(NS_DELEGATION)
    def onDelegation(self, iq):
        """Answer the forwarded iq; the result carries the wrapped reply."""
        # Only the server itself delegates: a bare domain, never a user of it
        # (else any local user could forge the inner iq's sender).
        if (iq.getAttribute("from") or "").lower() not in self.servers:
            raise StanzaError("forbidden")
        inner = unwrap(iq)
        if inner is None or inner.getAttribute("type") not in ("get", "set"):
            raise StanzaError("bad-request")
        d = defer.maybeDeferred(self._answer, inner)
        d.addCallbacks(self._wrapResult, self._wrapError, (inner,), None, (inner,))
        return d

    def _answer(self, inner):
        payload = firstChild(inner)
        uri = payload.uri if payload is not None else None
        method = self.routes().get((inner.getAttribute("type"), uri))
        if method is None:
            raise StanzaError("service-unavailable")
        return method(inner)

    def _wrapResult(self, payload, inner):
        reply = toResponse(inner, "result")
        if payload is not None:
            reply.addChild(payload)
        return wrap(reply)

    def _wrapError(self, failure, inner):
        if not failure.check(StanzaError):
            self.log.failure("delegated iq failed", failure)
            failure = StanzaError("internal-server-error")
        else:
            failure = failure.value
        return wrap(failure.toResponse(inner))

