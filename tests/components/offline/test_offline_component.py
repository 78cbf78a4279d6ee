"""Tests for L{components.offline}: the plugin entry point and its configuration."""

import pytest

import components.offline
from jabberd.component import loadPlugin
from jabberd.config import ConfigError, parse
from jabberd.ns import NS_DELEGATION, NS_DISCO_INFO, NS_OFFLINE
from tests.components.offline.offlinehelpers import (DOMAIN, ask, chat, condition,
                                                     makeHost, storeIQ, userIQ)

SECTION = """
[component:offline.localhost]
plugin = offline
trusted = yes
delegate = http://jabber.org/protocol/offline
"""


def test_loadedByName():
    """C{plugin = offline} names this module, which opens storage out of process."""
    config = parse(SECTION)
    module = loadPlugin(config.components[DOMAIN])
    assert module is components.offline and module.usesStorage is True


def test_quotaOption():
    """The quota option limits the messages kept per user."""
    host = makeHost(quota="2")
    for body in ("a", "b"):
        _, reply = ask(host, storeIQ(chat(body)))
        assert reply["type"] == "result"
    _, reply = ask(host, storeIQ(chat("c")))
    assert condition(reply) == "resource-constraint"


def test_badQuotaIsConfigError():
    """A quota that is not a whole number is a start-up error naming section and key."""
    with pytest.raises(ConfigError, match=r"\[component:offline.localhost\] quota"):
        makeHost(quota="lots")


def test_serviceDisco():
    """The component's own disco#info names it and lists XEP-0013 and delegation."""
    host = makeHost()
    iq, _ = userIQ("get", NS_DISCO_INFO, "query", to=DOMAIN)
    _, reply = ask(host, iq)
    query = next(reply.elements(NS_DISCO_INFO, "query"))
    features = {f["var"] for f in query.elements(NS_DISCO_INFO, "feature")}
    assert {NS_OFFLINE, NS_DELEGATION} <= features
    identity = next(query.elements(NS_DISCO_INFO, "identity"))
    assert identity["name"] == "Offline messages"
