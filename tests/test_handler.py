"""Tests for L{jabberd.handler}: the handler base classes and iq route declarations."""

import pytest

from jabberd.handler import HOOKS, DuplicateRoute, Handler, IQHandler, IQRoutes, iqGet, iqSet
from jabberd.host import Host


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

    @iqSet("urn:b", override=True)
    @iqGet("urn:b")
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
    return {route + (override,): method(None)
            for route, method, override in handler.iqRoutes()}


def test_sendGoesThroughHost():
    """A handler attached with setHost sends through its host."""
    handler, host = Handler(), FakeHost()
    handler.setHost(host)
    handler.send("stanza")
    assert handler.host is host and host.sent == ["stanza"]


def test_discoDefaultsEmpty():
    """A handler advertises no identities, features or items unless it defines the hooks."""
    host = Host(["example.org"])
    host.addHandler(Handler())
    for hook in ("discoIdentities", "discoFeatures", "discoItems", "discoExtensions"):
        assert host.collect(hook, None, "") == []


def test_iqRoutes():
    """Each marked method yields one route per marker: type, namespace and whether it overrides."""
    assert routes(Base()) == {("get", "urn:a", False): "a",
                              ("get", "urn:b", False): "b", ("set", "urn:b", True): "b"}


def test_iqRoutesInherited():
    """A subclass inherits its base's routes, and its own method of the same name replaces the base's."""
    assert routes(Derived()) == {("get", "urn:a", False): "derived a",
                                 ("get", "urn:b", False): "b", ("set", "urn:b", True): "b",
                                 ("set", "urn:c", False): "c"}


def test_routesRefuseDuplicates():
    """Two plain routes, or two overriding ones, for one key are refused."""
    table = IQRoutes()
    table.add(("get", "urn:a"), len)
    with pytest.raises(DuplicateRoute):
        table.add(("get", "urn:a"), str)
    table.add(("get", "urn:b"), len, override=True)
    with pytest.raises(DuplicateRoute):
        table.add(("get", "urn:b"), str, override=True)


def test_overrideWinsWhicheverComesFirst():
    """An overriding route replaces a plain one, and a later plain one does not displace it."""
    table = IQRoutes()
    table.add(("get", "urn:a"), len)
    table.add(("get", "urn:a"), str, override=True)
    table.add(("get", "urn:a"), repr)
    assert table.get(("get", "urn:a")) is str and ("get", "urn:b") not in table


def test_hooksDeclared():
    """Every hook has a combining mode the host knows and a description naming it."""
    for name, hook in HOOKS.items():
        assert hook.mode in ("first", "all", "collect")
        assert hook.doc.startswith(name + "(")
