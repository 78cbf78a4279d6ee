# -*- test-case-name: tests.pubsub.test_access -*-
"""
Access models (XEP-0060 section 4.5): who may retrieve a node's items,
subscribe to it and be notified of it.

The engine does not know where standing comes from: a L{Standing} says
what the requester is to the service (its owner, a contact with a presence
subscription, the roster groups it is in), and L{checkAccess} applies the
node's model and the requester's affiliation to it.  For PEP (XEP-0163)
standing comes from the account's roster; a standalone service would give
everyone but its owners an empty standing.
"""

from dataclasses import dataclass, field

from jabberd.error import StanzaError
from jabberd.pubsub.config import ROSTER_GROUPS
from jabberd.pubsub.errors import pubsubError

__all__ = ["Standing", "checkAccess", "mayAccess", "STRANGER"]

#: Affiliations that pass every access model (section 4.1).
_MEMBERS = ("owner", "publisher", "member")


@dataclass(frozen=True)
class Standing:
    """
    What a requester is to a service.

    @ivar jid: the requester's bare JID.
    @ivar owner: whether it owns the service (the account itself, for PEP).
    @ivar presence: whether it is subscribed to the owner's presence
        (subscription C{from} or C{both}, RFC 6121 section 2.1.2.5).
    @ivar groups: the owner's roster groups the requester is in.
    @ivar full: the requester's full JID, when it has one (subscriptions
        may be keyed by it).
    """

    jid: str
    owner: bool = False
    presence: bool = False
    groups: frozenset = field(default_factory=frozenset)
    full: str = ""


STRANGER = Standing("")


def checkAccess(config, standing, affiliation="none"):
    """
    Raise the XEP-0060 error (sections 6.1.3 and 6.5.9) unless C{standing}
    with C{affiliation} may see the node of C{config}.
    """
    if standing.owner or affiliation in _MEMBERS:
        return
    if affiliation == "outcast":
        raise pubsubError("forbidden")  # sections 6.1.3.8 and 6.5.9.10: blocked
    model = config.access_model
    if model == "open":
        return
    if model == "presence":
        if not standing.presence:
            raise pubsubError("not-authorized", "presence-subscription-required")
        return
    if model == "roster":
        if not standing.groups & set(config.extra.get(ROSTER_GROUPS, ())):
            raise pubsubError("not-authorized", "not-in-roster-group")
        return
    # whitelist, and any model this service does not know: closed.
    raise pubsubError("not-allowed", "closed-node")


def mayAccess(config, standing, affiliation="none"):
    """Whether L{checkAccess} passes: for notifications, which are never refused aloud."""
    try:
        checkAccess(config, standing, affiliation)
    except StanzaError:
        return False
    return True
