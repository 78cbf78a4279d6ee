# -*- test-case-name: tests.components.offline.test_offline_stanzas -*-
"""
The XML of stored messages: what is kept (the message as the server
received it) and what is delivered later, marked as delayed by the server:

 - XEP-0203 section 4: C{<delay xmlns='urn:xmpp:delay' from='DOMAIN'
   stamp='...Z'>Offline Storage</delay>}, to the millisecond (XEP-0082
   section 3.3 allows fractions): a client that orders a chat by these
   stamps and by the archive's (XEP-0313) keeps two messages of one second
   in the order they came;
 - COMPAT: XEP-0091 (jabberd 1.4-era clients): C{<x xmlns='jabber:x:delay'
   from='DOMAIN' stamp='YYYYMMDDTHH:MM:SS'>Offline Storage</x>};
 - for XEP-0013 retrieval, C{<offline xmlns='http://jabber.org/protocol/offline'><item
   node='...'/></offline>} naming the message.

A message stored again (its recipient went away while it was being
delivered) keeps its first stamp: the server's own delay markers are
dropped before storing and their stamp is stored instead.
"""

from datetime import datetime, timezone

from dateutil.parser import isoparse
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel.delay import Delay

from jabberd.ns import NS_DELAY, NS_DELAY_LEGACY, NS_OFFLINE
from jabberd.stanza import parseElement

__all__ = ["DELAY_REASON", "forStorage", "forDelivery", "nodeOf", "idOfNode",
           "isoStamp", "senderOf"]

DELAY_REASON = "Offline Storage"
_MARKERS = ((NS_DELAY, "delay"), (NS_DELAY_LEGACY, "x"))


def isoStamp(stamp):
    """The UTC date-time of epoch seconds C{stamp} (XEP-0082), milliseconds kept."""
    moment = datetime.fromtimestamp(stamp, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def nodeOf(offlineMessage):
    """
    The XEP-0013 node of a stored message: its stamp (section 2.2 suggests
    one) made unique by the store's id.
    """
    return f"{isoStamp(offlineMessage.stamp)}/{offlineMessage.id}"


def idOfNode(node):
    """The store id in a node made by L{nodeOf}, or None for any other text."""
    _stamp, slash, number = (node or "").rpartition("/")
    if not slash or not number.isdigit():
        return None
    return int(number)


def _isOwnMarker(child, serverDomains):
    return ((child.uri, child.name) in _MARKERS
            and child.getAttribute("from") in serverDomains)


def forStorage(message, serverDomains):
    """
    The text to store for C{message} and its stamp: None (now) unless the
    message already carries this server's delay, whose stamp it keeps.
    C{message} itself is never changed.
    """
    own = [c for c in message.elements() if _isOwnMarker(c, serverDomains)]
    if not own:
        return message.toXml(), None
    stamp = _firstStamp(own)
    clone = domish.Element((message.uri, message.name), message.defaultUri,
                           dict(message.attributes), dict(message.localPrefixes))
    clone.children = [c for c in message.children if not any(c is o for o in own)]
    return clone.toXml(), stamp


def _firstStamp(markers):
    for marker in markers:
        if (marker.uri, marker.name) == (NS_DELAY, "delay"):
            try:
                return isoparse(marker.getAttribute("stamp", "")).timestamp()
            except ValueError:
                return None
    return None


def forDelivery(offlineMessage, to, node=False):
    """
    The stored message, addressed to the full JID C{to} and marked as
    delayed by C{to}'s server; with C{node}, also named for XEP-0013.

    @raise ValueError: the stored text is not a readable message.
    """
    message = parseElement(offlineMessage.xml)
    if message.name != "message":
        raise ValueError(f"stored element is a {message.name}, not a message")
    message["to"] = to
    server = JID(to).host
    moment = datetime.fromtimestamp(offlineMessage.stamp, timezone.utc)
    for legacy in (False, True):
        marker = Delay(moment, JID(server)).toElement(legacy=legacy)
        if not legacy:
            marker["stamp"] = isoStamp(offlineMessage.stamp)
        marker.addContent(DELAY_REASON)
        message.addChild(marker)
    if node:
        offline = message.addElement((NS_OFFLINE, "offline"))
        offline.addElement("item")["node"] = nodeOf(offlineMessage)
    return message


def senderOf(offlineMessage):
    """The C{from} of a stored message (for XEP-0013 headers), or ''."""
    try:
        return parseElement(offlineMessage.xml).getAttribute("from", "")
    except ValueError:
        return ""
