"""
Tests for the plugin entry point and service options
(components.conference.makeHost, service).
"""

import pytest

from twisted.words.xish import domish

from jabberd.config import ConfigError
from jabberd.ns import NS_MUC
from jabberd.host import Host
from components import conference
from tests.components.conference.muchelpers import (OWNER, ROOM, Conference, codes, errorCondition,
                                                    serverConfig)


def test_makeHostFromParsedConfig():
    """makeHost accepts jabberd.config.parse output and serves the component's domain."""
    config = serverConfig("history_default = 5\nmax_history = 10")
    host = conference.makeHost(config, config.components["conference.localhost"], None)
    assert isinstance(host, Host)
    assert host.domains == ["conference.localhost"]
    assert host.muc.ready
    assert (host.muc.options.historyDefault, host.muc.options.maxHistory) == (5, 10)


def test_badOptionNamesItsKey():
    """A malformed option is a ConfigError naming the section and key."""
    config = serverConfig("max_history = lots")
    with pytest.raises(ConfigError, match=r"\[component:conference.localhost\] max_history"):
        conference.makeHost(config, config.components["conference.localhost"], None)


def test_historyDefaultApplies():
    """A new room sends at most history_default messages to newcomers."""
    c = Conference("history_default = 2")
    c.createInstant()
    for word in ("a", "b", "c"):
        c.say(OWNER, word)
    out = c.join("bob@localhost/b", "bob")
    history = [s for s in out if s.name == "message" and s.firstChildElement().name == "body"]
    assert len(history) == 2


def test_roomCreationRestricted():
    """With room_creation = admins only service admins create rooms (not-allowed)."""
    c = Conference("room_creation = admins\nadmins = boss@localhost")
    assert errorCondition(c.join("bob@localhost/b", "bob")[0]) == "not-allowed"
    assert c.room() is None
    c.join("boss@localhost/x", "boss")
    assert c.room().affiliationOf("boss@localhost") == "owner"


def test_serviceAdminsOwnEveryRoom():
    """A service admin is an owner of rooms it did not create."""
    c = Conference("admins = boss@localhost")
    c.createInstant()
    out = c.join("boss@localhost/x", "boss")
    assert c.room().occupants["boss"].affiliation == "owner"
    assert out


def test_shutdownSays332():
    """On shutdown every occupant hears it left because the service is going away (332)."""
    c = Conference()
    c.createInstant()
    c.service.shutdown()
    [presence] = c.take()
    assert presence["to"] == OWNER and presence["type"] == "unavailable"
    assert codes(presence) == {"332", "110"}
    assert c.room() is None
    assert ROOM not in c.service.rooms


def test_messageToServiceIsUnavailable():
    """A message to the service itself gets the host's service-unavailable."""
    c = Conference()
    out = c.send("<message from='bob@localhost/b' to='conference.localhost'>"
                 "<body>hi</body></message>")
    assert errorCondition(out[0]) == "service-unavailable"


def test_shutdownServiceTellsOccupants():
    """Stopping the host's shutdown service sends occupants unavailable presence with 332."""
    from twisted.application.service import MultiService

    from components.conference import makeHost
    from components.conference.store import MemoryRoomStore
    from jabberd.config import ComponentConfig, parse

    config = parse("[server]\ndatabase = memory:\n")
    host = makeHost(config, ComponentConfig(domain="conference.localhost", plugin="conference"),
                    store=MemoryRoomStore())
    sent = []
    host.output = sent.append
    parent = MultiService()
    for child in host.services:
        child.setServiceParent(parent)
    parent.startService()
    presence = domish.Element((None, "presence"))
    presence["from"], presence["to"] = "alice@localhost/r", "room@conference.localhost/Alice"
    presence.addElement((NS_MUC, "x"))
    host.receive(presence)
    del sent[:]
    parent.stopService()
    codes = [s["code"] for p in sent for x in p.elements() for s in x.elements()
             if s.name == "status"]
    assert "332" in codes
