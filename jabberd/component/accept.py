# -*- test-case-name: tests.test_component -*-
"""
XEP-0114 (Jabber Component Protocol), the server end: the listener external
components connect to (port 5347).

Only a component declared in a C{[component:DOMAIN]} section with a secret
may connect (section 3.1: otherwise C{host-unknown}); the handshake is the
hex SHA-1 of stream id and secret (section 3.2, C{not-authorized} when
wrong); a domain already connected keeps its first connection and the
second gets C{conflict}.  An authenticated stream becomes a router route;
what it sends passes the router's C{from} check, so an untrusted component
speaks only for its own domain.  While a declared component is not
connected a stand-in route answers for it with C{service-unavailable}, so
its stanzas never leak to another route.

The handshake stays with a Twisted authenticator (the XEP-0114 server
factory is built on Twisted's C{ListenAuthenticator}, which checks the
header), but no XPath observer waits for it: L{AcceptStream} marks its
C{<handshake/>} method like every stream's elements
(L{jabberd.dispatch.handles}) and hands the first element to the
authenticator.
"""

import hmac
import secrets
from hashlib import sha1

from jabberd.logs import Logger
from twisted.words.protocols.jabber import xmlstream

from jabberd.component.stream import ComponentStream
from jabberd.dispatch import handles
from jabberd.error import errorReply, isErrorable
from jabberd.jidutil import parseJID
from jabberd.ns import NS_COMPONENT
from jabberd.router import Route
from jabberd.stanza import STANZAS
from jabberd.xmlparser import ParserLimits

__all__ = ["ComponentServerFactory", "ComponentAcceptAuthenticator", "AcceptStream",
           "StreamRoute", "StandInRoute", "acceptsConnection"]

log = Logger()


def acceptsConnection(component):
    """
    Whether the component of C{component} (a L{ComponentConfig}) connects
    over TCP: it has a secret and no plugin the server runs in process.
    """
    return bool(component.secret) and (component.external or not component.plugin)


class StreamRoute(Route):
    """
    The route of one authenticated component stream: the router delivers to
    the stream, and what the component sends is routed with this route as
    origin.
    """

    def __init__(self, router, xs, domain, trusted=False):
        self.router = router
        self.xmlstream = xs
        self.domain = domain
        self.trusted = trusted
        self.deliver = xs.send

    def received(self, element):
        """
        Route an element the component sent.  A stanza without C{from} is
        from the component itself (there is nobody else it could be from);
        anything but a stanza ends the stream (RFC 6120 section 4.9.3.22).
        """
        if element.name not in STANZAS:
            self.xmlstream.closeWithError("unsupported-stanza-type")
            return
        if not element.getAttribute("from"):
            element["from"] = self.domain
        self.router.route(element, self)


class StandInRoute(Route):
    """
    Holds a declared component's domain while it is not connected: messages
    and iqs bounce with C{service-unavailable} (RFC 6120 section 8.3.3.19),
    presence is dropped.
    """

    def __init__(self, router, domain):
        self.router = router
        self.domain = domain

    def deliver(self, stanza):
        if stanza.name != "presence" and isErrorable(stanza) and stanza.getAttribute("from"):
            self.router.route(errorReply(stanza, "service-unavailable"))


class ComponentAcceptAuthenticator(xmlstream.ListenAuthenticator):
    """
    Checks the stream header and the handshake of one component connection
    (XEP-0114 section 3), then has the factory attach the stream.

    @ivar component: the L{ComponentConfig} named by the header's C{to}.
    @ivar awaitingHandshake: whether the header was accepted and the first
        element, which must be the handshake, has not come yet.
    """

    namespace = NS_COMPONENT
    awaitingHandshake = False

    def __init__(self, factory):
        super().__init__()
        self.factory = factory
        self.component = None
        self.timeout = None

    def associateWithStream(self, xs):
        # XEP-0114 predates XMPP 1.0: no version, no stream features.
        xs.version = (0, 0)
        super().associateWithStream(xs)

    def connectionMade(self):
        self.timeout = self.factory.clock.callLater(
            self.factory.handshakeTimeout, self.xmlstream.closeWithError, "connection-timeout")
        self.xmlstream.addObserver(xmlstream.STREAM_END_EVENT, self._cancelTimeout)

    def streamStarted(self, rootElement):
        xmlstream.Authenticator.streamStarted(self, rootElement)
        xs = self.xmlstream
        xs.namespace = NS_COMPONENT
        xs.sid = secrets.token_hex(8)
        if rootElement.defaultUri != NS_COMPONENT:
            xs.closeWithError("invalid-namespace")
            return
        address = parseJID(rootElement.getAttribute("to") or "")
        if address is not None and not (address.user or address.resource):
            self.component = self.factory.componentFor(address.host)
        if self.component is None:
            xs.closeWithError("host-unknown")
            return
        xs.thisEntity = address
        xs.sendHeader()
        self.awaitingHandshake = True

    def onHandshake(self, element):
        """
        Check the first element: a handshake with the right digest attaches
        the stream and is answered with an empty C{<handshake/>}.
        """
        self.awaitingHandshake = False
        xs = self.xmlstream
        if (element.uri, element.name) != (NS_COMPONENT, "handshake"):
            xs.closeWithError("not-authorized")
        elif not self.verify(str(element)):
            log.warn("component {domain}: wrong handshake", domain=self.component.domain)
            xs.closeWithError("not-authorized")
        elif not self.factory.attach(xs, self.component):
            xs.closeWithError("conflict")
        else:
            self._cancelTimeout()
            xs.send("<handshake/>")
            xs.dispatch(xs, xmlstream.STREAM_AUTHD_EVENT)

    def verify(self, digest):
        """Whether C{digest} is SHA-1(stream id + secret) in hex (section 3.2)."""
        expected = sha1((self.xmlstream.sid + self.component.secret).encode("utf-8"))
        given = digest.strip().lower().encode("utf-8")
        return hmac.compare_digest(expected.hexdigest().encode("ascii"), given)

    def _cancelTimeout(self, _reason=None):
        if self.timeout is not None and self.timeout.active():
            self.timeout.cancel()
        self.timeout = None


class AcceptStream(ComponentStream):
    """
    The server end of a component stream: before authentication the first
    element goes to the L{ComponentAcceptAuthenticator}, whatever it is
    (anything but the right handshake is C{not-authorized}); afterwards a
    handshake is no stanza, and the route refuses it.
    """

    @handles(NS_COMPONENT, "handshake")
    def onHandshake(self, element):
        """The handshake (XEP-0114 section 3.2), checked by the authenticator."""
        if self.stanzaReceived is None:
            self.onOtherElement(element)
        else:
            self.stanzaReceived(element)

    def onStreamError(self, errelem):
        """A stream error ends the stream; as the first element it also fails the handshake."""
        ComponentStream.onStreamError(self, errelem)
        if self.authenticator.awaitingHandshake:
            self.authenticator.onHandshake(errelem)

    def onOtherElement(self, element):
        if self.authenticator.awaitingHandshake:
            self.authenticator.onHandshake(element)
        else:
            ComponentStream.onOtherElement(self, element)


class ComponentServerFactory(xmlstream.XmlStreamServerFactory):
    """
    The XEP-0114 listener: accepts the components of C{config} and attaches
    each authenticated stream to C{router}.

    @ivar standIns: domain -> L{StandInRoute} for every component that
        connects over TCP.
    @ivar handshakeTimeout: seconds a connection may take to authenticate.
    """

    protocol = AcceptStream
    handshakeTimeout = 30

    def __init__(self, router, config, clock=None):
        super().__init__(lambda: ComponentAcceptAuthenticator(self))
        if clock is None:
            from twisted.internet import reactor as clock
        self.router = router
        self.config = config
        self.parserLimits = ParserLimits.fromConfig(config.parser)
        self.clock = clock
        self.standIns = {}
        for domain, component in config.components.items():
            if acceptsConnection(component):
                self._holdDomain(domain)

    def _holdDomain(self, domain):
        standIn = StandInRoute(self.router, domain)
        try:
            self.router.addRoute(domain, standIn)
        except KeyError:
            log.warn("[component:{domain}] is routed elsewhere already", domain=domain)
            return
        self.standIns[domain] = standIn

    def buildProtocol(self, addr):
        xs = super().buildProtocol(addr)
        xs.maxStanzaSize = self.config.server.maxStanzaSize
        xs.parserLimits = self.parserLimits
        xs.logTraffic = self.config.server.logTraffic
        return xs

    def componentFor(self, domain):
        """The L{ComponentConfig} allowed to connect for C{domain}, or None."""
        component = self.config.components.get(domain)
        if component is not None and acceptsConnection(component):
            return component
        return None

    def attach(self, xs, component):
        """
        Route C{component}'s domain to the stream C{xs}; return the new
        L{StreamRoute}, or None when another route holds the domain.
        """
        domain = component.domain
        standIn = self.standIns.get(domain)
        current = self.router.routes.get(domain)
        if current is not None and current is not standIn:
            return None
        if standIn is not None:
            self.router.removeRoute(domain, standIn)
        route = StreamRoute(self.router, xs, domain, component.trusted)
        self.router.addRoute(domain, route)
        xs.stanzaReceived = route.received
        xs.addObserver(xmlstream.STREAM_END_EVENT, lambda _reason: self.detach(route))
        log.info("component {domain} connected", domain=domain)
        return route

    def detach(self, route):
        """Drop C{route} from the router and hold its domain again."""
        self.router.removeRoute(route.domain, route)
        route.xmlstream.stanzaReceived = None
        standIn = self.standIns.get(route.domain)
        if standIn is not None and route.domain not in self.router.routes:
            self.router.addRoute(route.domain, standIn)
        log.info("component {domain} disconnected", domain=route.domain)
