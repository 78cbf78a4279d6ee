"""Tests for L{jabberd.handler}: the handler base classes and iq route declarations."""

from jabberd.handler import Handler, IQHandler, iqGet, iqSet


class FakeHost:
    """Collects what handlers send."""

    def __init__(self):
        self.sent = []

    def send(self, stanza):
        self.sent.append(stanza)


class Base(IQHandler):
    @iqGet("urn:a")
    def onA(self, iq):
        return "a"

    @iqSet("urn:b", "item")
    @iqGet("urn:b", "item")
    def onB(self, iq):
        return "b"


class Derived(Base):
    @iqGet("urn:a")
    def onA(self, iq):
        return "derived a"

    @iqSet("urn:c")
    def onC(self, iq):
        return "c"


def routes(handler):
    return {route: method(None) for route, method in handler.iqRoutes()}


def test_sendGoesThroughHost():
    """A handler attached with setHost sends through its host."""
    handler, host = Handler(), FakeHost()
    handler.setHost(host)
    handler.send("stanza")
    assert handler.host is host and host.sent == ["stanza"]


def test_discoDefaultsEmpty():
    """A handler advertises no identities, features or items unless it says so."""
    handler = Handler()
    assert handler.discoIdentities(None, "") == []
    assert handler.discoFeatures(None, "") == []
    assert handler.discoItems(None, "") == []


def test_iqRoutes():
    """Each marked method yields one route per marker: type, namespace and payload name."""
    assert routes(Base()) == {("get", "urn:a", "query"): "a",
                              ("get", "urn:b", "item"): "b", ("set", "urn:b", "item"): "b"}


def test_iqRoutesInherited():
    """A subclass inherits its base's routes, and its own method of the same name replaces the base's."""
    assert routes(Derived()) == {("get", "urn:a", "query"): "derived a",
                                 ("get", "urn:b", "item"): "b", ("set", "urn:b", "item"): "b",
                                 ("set", "urn:c", "query"): "c"}
