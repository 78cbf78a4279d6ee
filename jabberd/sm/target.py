# -*- test-case-name: tests.sm.test_target -*-
"""
Whom an iq handled by the session manager is for (RFC 6120 section 10.3,
RFC 6121 section 8.5): the server itself, or an account hosted here on whose
behalf the server answers.  Shared by the server iq handlers (disco, browse,
version, time, last, ping, vcard, private).

Addresses that reach these handlers are a local domain (possibly with a
resource: a resource of the server), a local bare JID, or no C{to} at all,
which means the sender's own account (RFC 6120 section 10.3.3).  IQs to a
user's full JID are delivered to that client elsewhere.
"""

from twisted.internet import defer

from jabberd.error import StanzaError
from jabberd.jidutil import JID, internJID, parseJID

__all__ = ["IQTarget", "iqTarget", "mayObserve", "accountExists", "requireObserver",
           "UNKNOWN_ACCOUNT", "isServer"]

UNKNOWN_ACCOUNT = "service-unavailable"
"""
The error for an iq to a bare JID with no account behind it.  RFC 6121
section 8.5.1 requires service-unavailable, and XEP-0030 section 8 insists on
it too, so that the answer does not reveal which accounts exist.
"""

_OBSERVING = ("from", "both")


class IQTarget:
    """
    The entity an iq asks about, and who asks.

    @ivar jid: the server's domain JID, or the account's bare JID; this is
        the C{target} handed to L{jabberd.handler.Handler.discoFeatures} and
        friends.
    @ivar username: the account's username, or None for the server.
    @ivar requester: the sender's L{JID}, or None if it had no C{from}.
    @ivar isSelf: whether the requester is the account itself (any of its
        resources).
    """

    __slots__ = ("jid", "username", "requester", "isSelf")

    def __init__(self, jid, username, requester, isSelf=False):
        self.jid = jid
        self.username = username
        self.requester = requester
        self.isSelf = isSelf

    @property
    def isServer(self):
        """Whether the iq is for the server itself."""
        return self.username is None

    def __repr__(self):
        return f"<IQTarget {self.jid.full()} self={self.isSelf}>"


def isServer(jid):
    """Whether a discovery C{target} L{JID} is a server (no localpart)."""
    return jid.user is None


def iqTarget(host, iq):
    """
    Classify C{iq} for C{host}.

    @raise StanzaError: C{jid-malformed} for an unparsable C{to}.
    """
    sender = iq.getAttribute("from")
    requester = parseJID(sender) if sender else None
    to = iq.getAttribute("to")
    if not to:
        if requester is not None and requester.user and requester.host in host.domains:
            return _account(requester.user, requester.host, requester)
        return IQTarget(internJID(host.domain), None, requester)
    target = parseJID(to)
    if target is None:
        raise StanzaError("jid-malformed")
    if target.user is None:
        return IQTarget(internJID(target.host), None, requester)
    return _account(target.user, target.host, requester)


def _account(username, domain, requester):
    jid = JID(tuple=(username, domain, None))
    isSelf = requester is not None and requester.userhost() == jid.userhost()
    return IQTarget(jid, username, requester, isSelf)


def accountExists(host, target):
    """
    A Deferred firing with whether C{target}'s account exists.  An account
    asking about itself exists (it is logged in): answered at once, with no
    storage read, so a client's pings of its own account (no C{to}, RFC 6120
    section 10.3.3) are answered in the order they were sent.
    """
    if target.isSelf:
        return defer.succeed(True)
    return host.storage.accounts.exists(target.username)


async def mayObserve(host, target):
    """
    Whether the requester may see the account's presence: it is the account
    itself, the server, or a contact with a subscription of C{from} or
    C{both} (RFC 6121 section 2.1.2.5).  XEP-0012 and XEP-0030 gate on this.
    """
    if target.isSelf:
        return True
    requester = target.requester
    if requester is None:
        return False
    if requester.user is None and requester.host in host.domains:
        return True
    item = await host.storage.roster.item(target.username, requester.userhost())
    return item is not None and item.subscription in _OBSERVING


async def requireObserver(host, target):
    """
    Let an iq about an account's presence-derived data (XEP-0012 last
    activity, resources by ping, browse or disco) through only for one who
    may see that presence (L{mayObserve}) of an account that exists; raise
    L{UNKNOWN_ACCOUNT} for everyone else, so a stranger gets the answer
    RFC 6121 section 8.5.1 requires for a missing account, whether the
    account exists or not.  A stranger costs one roster read either way
    (the existence of the account is read only for those allowed), so the
    time taken tells nothing either.

    @raise StanzaError: L{UNKNOWN_ACCOUNT}.
    """
    if not await mayObserve(host, target) or not await accountExists(host, target):
        raise StanzaError(UNKNOWN_ACCOUNT)
