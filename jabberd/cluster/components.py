# -*- test-case-name: tests.cluster.test_components -*-
"""
External components across a cluster (XEP-0114): a component connects to
any node, and every other node routes its domain to that node.

The node holding the connection announces it (and its end); the others
put a L{RemoteComponentRoute} in place of the stand-in route that answers
for a declared component while it is not connected, and put the stand-in
back when it leaves.  A second connection for the domain, on any node,
meets a route that is not the stand-in and gets C{conflict}, as on a
single server.
"""

from jabberd.component.accept import StreamRoute
from jabberd.error import errorReply, isErrorable
from jabberd.router import Route

__all__ = ["ComponentRoutes", "RemoteComponentRoute"]


class RemoteComponentRoute(Route):
    """A component connected to another node: what is routed to it goes to that node."""

    def __init__(self, cluster, domain, node):
        self.cluster = cluster
        self.domain = domain
        self.node = node

    def deliver(self, stanza):
        self.cluster.toRouter(self.node, stanza)


class ComponentRoutes:
    """
    Router observer and directory of components on other nodes.

    @ivar remote: domain -> L{RemoteComponentRoute}.
    @ivar heldBack: domain -> the route it replaced (the stand-in), or None.
    """

    def __init__(self, cluster, router):
        self.cluster = cluster
        self.router = router
        self.remote = {}
        self.heldBack = {}
        router.observers.append(self)

    def local(self):
        """The domains of components connected to this node."""
        return [d for d, r in self.router.routes.items() if isinstance(r, StreamRoute)]

    def routeAdded(self, domain, route):
        if isinstance(route, StreamRoute):
            self.cluster.announce("component", domain=domain, up=True)

    def routeRemoved(self, domain, route):
        if isinstance(route, StreamRoute):
            self.cluster.announce("component", domain=domain, up=False)

    def connected(self, domain, node):
        """C{domain}'s component connected to C{node}."""
        current = self.router.routes.get(domain)
        if isinstance(current, StreamRoute):
            return  # connected here too: each node keeps its own first connection
        if current is not None:
            self.router.removeRoute(domain, current)
        if domain not in self.heldBack:
            self.heldBack[domain] = None if isinstance(current, RemoteComponentRoute) else current
        route = self.remote[domain] = RemoteComponentRoute(self.cluster, domain, node)
        self.router.addRoute(domain, route)

    def disconnected(self, domain, node):
        """C{domain}'s component left C{node}: the stand-in answers for it again."""
        route = self.remote.get(domain)
        if route is None or route.node != node:
            return
        del self.remote[domain]
        self.router.removeRoute(domain, route)
        held = self.heldBack.pop(domain, None)
        if held is not None and domain not in self.router.routes:
            self.router.addRoute(domain, held)

    def nodeGone(self, node):
        """Every component of C{node} is gone with it."""
        for domain in [d for d, r in self.remote.items() if r.node == node]:
            self.disconnected(domain, node)


def bounce(router, stanza):
    """A stanza that cannot be routed on: C{service-unavailable} for what may be answered."""
    if stanza.name != "presence" and isErrorable(stanza) and stanza.getAttribute("from"):
        router.route(errorReply(stanza, "service-unavailable"))
