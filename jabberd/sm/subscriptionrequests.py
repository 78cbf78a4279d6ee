# -*- test-case-name: tests.sm.test_subscriptionrequests -*-
"""
What is kept of an inbound subscription request nobody answered yet
(RFC 6121 section 3.1.3), and how many are kept per account.

The server must keep such a request until the user approves or denies it
and deliver it again at every initial presence.  It needs only what the
RFC uses: who asks (C{from}) and that it is a C{subscribe}; a client shows
an optional C{<status/>} (section 3.1.2 lets the requester say who it is)
and a XEP-0172 C{<nick/>} (section 4.1, "Nickname in subscription
requests").  Anything else the request carried is dropped, and the two
texts are cut to a bound, so one stored request stays small whatever the
stanza was.

At most C{[presence] max_pending_subscriptions} requests from distinct
senders are kept for one account.  A request past it is refused with a
C{resource-constraint} presence error (RFC 6120 section 8.3.3.18, type
C{wait}) to the sender, rather than evicting an older one: an attacker
sending from many addresses can then fill only the free places, and the
requests the user already has stay until the user answers them.  A
repeated request from a sender already waiting replaces its own entry.
"""

from twisted.words.xish import domish

from jabberd.ns import NS_CLIENT
from jabberd.stanza import firstChild

__all__ = ["keptRequest", "NS_NICK", "DEFAULT_MAX_PENDING", "DEFAULT_MAX_TEXT"]

NS_NICK = "http://jabber.org/protocol/nick"
DEFAULT_MAX_PENDING = 100
DEFAULT_MAX_TEXT = 1024


def _text(stanza, uri, name, maxText):
    child = firstChild(stanza, uri, name)
    if child is None:
        return None
    return str(child)[:maxText]


def keptRequest(stanza, sender, to, maxText=DEFAULT_MAX_TEXT):
    """
    The request to store for C{stanza}: C{from} C{sender} (the bare JID
    the subscription is with), C{to} the user, C{type='subscribe'}, and at
    most C{maxText} characters each of its status and nick; in
    C{jabber:client}, the namespace it is delivered in from storage.
    """
    request = domish.Element((NS_CLIENT, "presence"))
    request["from"], request["to"], request["type"] = sender, to, "subscribe"
    status = _text(stanza, None, "status", maxText)
    if status:
        request.addElement("status", content=status)
    nick = _text(stanza, NS_NICK, "nick", maxText)
    if nick:
        request.addElement((NS_NICK, "nick"), content=nick)
    return request
