"""Tests for L{jabberd.cluster.components}: a component on one node, routed from the others."""

from jabberd.cluster.components import ComponentRoutes, RemoteComponentRoute
from jabberd.component.accept import StandInRoute, StreamRoute
from jabberd.router import Router
from tests.sm.helpers import parse


class Node:
    """Stands in for the cluster node."""

    def __init__(self):
        self.said = []
        self.routed = []

    def announce(self, op, **fields):
        self.said.append((op, fields))

    def toRouter(self, node, stanza):
        self.routed.append((node, stanza))


class FakeStream:
    def __init__(self):
        self.sent = []

    def send(self, stanza):
        self.sent.append(stanza)


def make():
    router = Router()
    node = Node()
    routes = ComponentRoutes(node, router)
    standIn = StandInRoute(router, "echo.localhost")
    router.addRoute("echo.localhost", standIn)
    return router, node, routes, standIn


def test_localConnectionAnnounced():
    """A component connecting here, and leaving, is announced; in-process routes are not."""
    router, node, routes, standIn = make()
    router.removeRoute("echo.localhost", standIn)
    stream = StreamRoute(router, FakeStream(), "echo.localhost")
    router.addRoute("echo.localhost", stream)
    router.removeRoute("echo.localhost", stream)
    assert node.said == [("component", {"domain": "echo.localhost", "up": True}),
                         ("component", {"domain": "echo.localhost", "up": False})]
    assert routes.local() == []


def test_remoteConnectionRoutesThere():
    """A component on another node takes the stand-in's place; stanzas go to that node."""
    router, node, routes, standIn = make()
    routes.connected("echo.localhost", "n2")
    assert isinstance(router.routes["echo.localhost"], RemoteComponentRoute)
    router.route(parse("<message to='bot@echo.localhost' from='a@localhost/r'/>"))
    assert [n for n, _ in node.routed] == ["n2"]


def test_leavingRestoresStandIn():
    """When the component leaves (or its node dies) the stand-in answers again."""
    router, node, routes, standIn = make()
    routes.connected("echo.localhost", "n2")
    routes.disconnected("echo.localhost", "n3")  # not its node: nothing changes
    assert isinstance(router.routes["echo.localhost"], RemoteComponentRoute)
    routes.nodeGone("n2")
    assert router.routes["echo.localhost"] is standIn


def test_localConnectionKept():
    """A remote announcement does not replace a component connected here."""
    router, node, routes, standIn = make()
    router.removeRoute("echo.localhost", standIn)
    stream = StreamRoute(router, FakeStream(), "echo.localhost")
    router.addRoute("echo.localhost", stream)
    routes.connected("echo.localhost", "n2")
    assert router.routes["echo.localhost"] is stream
