# -*- test-case-name: tests.test_router -*-
"""
The router: the core of jabberd 1.4.  It maps a domain to a route and hands
every stanza to the route of its C{to} domain.

Routes are the session manager (local domains), components (in process or
over XEP-0114) and, for every other domain, s2s when it is on
(C{defaultRoute}).  The router enforces the one rule that keeps
components honest: an untrusted route may only send from its own domain (or
a subdomain of it), so a component cannot spoof a user (RFC 6120 section
8.1.2.1 puts the C{from} stamping on the server).  Unroutable stanzas bounce
with C{remote-server-not-found} (RFC 6120 section 8.3.3.15).
"""

from jabberd.logs import Logger

from jabberd.error import errorReply, isErrorable
from jabberd.jidutil import domainOf

__all__ = ["Router", "Route", "HostRoute"]


class Route:
    """
    Something the router can deliver to.

    @ivar domain: the domain this route serves.
    @ivar trusted: whether the route may send stanzas from any address.
    """

    domain = None
    trusted = False

    def deliver(self, stanza):
        """Deliver C{stanza}, routed to this route's domain."""
        raise NotImplementedError()

    def mayClaim(self, address):
        """Whether this route may send a stanza whose C{from} is C{address}."""
        if self.trusted:
            return True
        domain = domainOf(address)
        return domain == self.domain or domain.endswith("." + self.domain)


class HostRoute(Route):
    """A route to an in-process L{jabberd.host.Host}: a direct call."""

    def __init__(self, host, domain, trusted=False):
        self.host = host
        self.domain = domain
        self.trusted = trusted

    def deliver(self, stanza):
        self.host.receive(stanza)


class Router:
    """
    Routes stanzas by their C{to} domain.

    @ivar routes: domain to L{Route}.
    @ivar defaultRoute: where stanzas to any other domain go (s2s), or None.
    @ivar observers: told of every route added and removed
        (C{routeAdded(domain, route)}, C{routeRemoved(domain, route)}): a
        cluster node announces its components' connections.
    """

    log = Logger()

    def __init__(self):
        self.routes = {}
        self.defaultRoute = None
        self.observers = []

    def addRoute(self, domain, route):
        """Serve C{domain} with C{route}; refuses a domain already taken."""
        domain = domain.lower()
        if domain in self.routes and self.routes[domain] is not route:
            raise KeyError(domain)
        self.routes[domain] = route
        for observer in self.observers:
            observer.routeAdded(domain, route)

    def removeRoute(self, domain, route):
        """Drop C{route} for C{domain}, if it is still the one routed there."""
        if self.routes.get(domain.lower()) is route:
            del self.routes[domain.lower()]
            for observer in self.observers:
                observer.routeRemoved(domain.lower(), route)

    def attachHost(self, host, trusted=False):
        """
        Attach an in-process host for all its domains: stanzas it sends
        are routed as coming from its route.
        """
        routes = [HostRoute(host, domain, trusted) for domain in host.domains]
        for route in routes:
            self.addRoute(route.domain, route)
        origin = routes[0]
        origin.domains = set(host.domains)
        host.output = lambda stanza: self.route(stanza, origin)
        return routes

    def route(self, stanza, origin=None):
        """
        Route C{stanza} to the route of its C{to} domain.

        @param origin: the L{Route} it came from; None means the server itself
            (always trusted).
        """
        if origin is not None and not origin.trusted:
            sender = stanza.getAttribute("from") or ""
            if not origin.mayClaim(sender):
                self.log.warn("dropped stanza from {sender!r}: not allowed for {domain}",
                              sender=sender, domain=origin.domain)
                if sender and isErrorable(stanza):
                    reply = errorReply(stanza, "not-authorized",
                                       text="from address not allowed for this route")
                    reply["to"] = origin.domain
                    origin.deliver(reply)
                return
        to = stanza.getAttribute("to")
        target = self.routes.get(domainOf(to)) if to else None
        if target is None and to and self.defaultRoute is not None:
            target = self.defaultRoute
        if target is not None:
            target.deliver(stanza)
        elif isErrorable(stanza) and stanza.getAttribute("from"):
            condition = "remote-server-not-found" if to else "jid-malformed"
            reply = errorReply(stanza, condition)
            if to:
                reply["from"] = domainOf(to)
            self.route(reply)
        else:
            self.log.debug("dropped unroutable {name} to {to!r}", name=stanza.name, to=to)
