# -*- test-case-name: tests.pubsub.test_protocol -*-
"""
Event notifications (XEP-0060 section 7.1.2.1, 7.2.2.1, 8.4.2, 8.5.2):
the C{<event xmlns='...#event'/>} payloads a service sends subscribers,
in C{headline} messages from the service's JID, and the last published
item (section 6.1.7) with the XEP-0203 delay stamp of its publication.
"""

import time

from twisted.words.xish import domish

from jabberd.logs import Logger
from jabberd.ns import NS_DELAY, NS_PUBSUB_EVENT
from jabberd.stanza import copyElement, parseElement

__all__ = ["itemsEvent", "retractEvent", "purgeEvent", "deleteEvent", "eventMessage",
           "serializedEvent",
           "itemElement", "payloadOf"]

log = Logger()


def payloadOf(item):
    """The L{domish.Element} of a stored item's payload, or None if unreadable."""
    try:
        return parseElement(item.xml)
    except ValueError:
        log.warn("unreadable stored item {id}", id=item.id)
        return None


def itemElement(uri, item, payload=True):
    """C{<item id=.../>} in namespace C{uri}, with the payload unless C{payload} is false."""
    element = domish.Element((uri, "item"))
    element["id"] = item.id
    if payload:
        child = payloadOf(item)
        if child is not None:
            element.addChild(child)
    return element


def _event(node, name):
    event = domish.Element((NS_PUBSUB_EVENT, "event"))
    child = event.addElement(name)
    child["node"] = node
    return event, child


def itemsEvent(node, items, payloads=True):
    """Section 7.1.2.1: the published C{items} (with payloads unless C{payloads} is off)."""
    event, container = _event(node, "items")
    for item in items:
        container.addChild(itemElement(NS_PUBSUB_EVENT, item, payloads))
    return event


def retractEvent(node, ids):
    """Section 7.2.2.1: the items C{ids} were deleted."""
    event, container = _event(node, "items")
    for itemId in ids:
        container.addElement("retract")["id"] = itemId
    return event


def purgeEvent(node):
    """Section 8.5.2: every item of the node was deleted."""
    return _event(node, "purge")[0]


def deleteEvent(node):
    """Section 8.4.2: the node was deleted."""
    return _event(node, "delete")[0]


def serializedEvent(event):
    """
    C{event} serialised once, for the many messages of one fan-out: each
    carries the same text (L{domish.SerializedXML}, written out as it is)
    instead of a copy of the element serialised again per recipient.
    """
    return domish.SerializedXML(event.toXml())


def eventMessage(sender, to, event, stamp=None):
    """
    The C{headline} message carrying C{event}, an element or the text of
    L{serializedEvent} (XEP-0163 section 4.3.1: from the service's bare
    JID); C{stamp} (UTC seconds) adds a XEP-0203 delay, for an item
    published earlier.
    """
    message = domish.Element((None, "message"))
    message["from"], message["to"], message["type"] = sender, to, "headline"
    if isinstance(event, domish.SerializedXML):
        message.children.append(event)  # shared, not wrapped anew (as addRawXml would)
    else:
        message.addChild(copyElement(event))  # one event, many messages
    if stamp is not None:
        delay = message.addElement((NS_DELAY, "delay"))
        delay["from"] = sender
        delay["stamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    return message
