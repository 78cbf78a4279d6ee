"""
Tests for L{jabberd.pubsub.access}: the access models of XEP-0060 section
4.5 and the errors of sections 6.1.3 and 6.5.9.
"""

import pytest

from jabberd.error import StanzaError
from jabberd.pubsub.access import Standing, checkAccess, mayAccess
from jabberd.pubsub.config import ROSTER_GROUPS
from jabberd.storage.records import NodeConfig

OWNER = Standing("alice@localhost", owner=True)
CONTACT = Standing("bob@localhost", presence=True, groups=frozenset({"Friends"}))
STRANGER = Standing("carol@remote.example")


def refusal(config, standing, affiliation="none"):
    with pytest.raises(StanzaError) as caught:
        checkAccess(config, standing, affiliation)
    app = caught.value.appCondition
    return caught.value.condition, (app.name if app is not None else None)


def test_openLetsAnyoneIn():
    """An open node is readable by a stranger."""
    assert mayAccess(NodeConfig(access_model="open"), STRANGER)


def test_presenceNeedsSubscription():
    """A presence node: contacts with a subscription, not strangers (6.5.9.6)."""
    config = NodeConfig(access_model="presence")
    assert mayAccess(config, CONTACT)
    assert refusal(config, STRANGER) == ("not-authorized", "presence-subscription-required")


def test_rosterNeedsAnAllowedGroup():
    """A roster node: contacts in an allowed group only (6.5.9.7)."""
    config = NodeConfig(access_model="roster", extra={ROSTER_GROUPS: ["Friends"]})
    assert mayAccess(config, CONTACT)
    other = NodeConfig(access_model="roster", extra={ROSTER_GROUPS: ["Family"]})
    assert refusal(other, CONTACT) == ("not-authorized", "not-in-roster-group")


def test_whitelistIsClosed():
    """A whitelist node: the owner and members only (6.5.9.8)."""
    config = NodeConfig(access_model="whitelist")
    assert mayAccess(config, OWNER)
    assert mayAccess(config, CONTACT, "member")
    assert refusal(config, CONTACT) == ("not-allowed", "closed-node")


def test_outcastBlocked():
    """An outcast is refused even an open node (6.5.9.10)."""
    assert refusal(NodeConfig(access_model="open"), STRANGER, "outcast") == ("forbidden", None)
