# -*- test-case-name: tests.storage.test_archive -*-
"""
The records the message archive and PubSub stores take and return, and
their errors: plain dataclasses, no XML parsing (payloads are serialised
text), so the protocol handlers (XEP-0313 MAM, XEP-0060/XEP-0163 PubSub
and PEP) and the stores share one vocabulary.
"""

import base64
import dataclasses
import os
from dataclasses import dataclass, field
from typing import Optional, Union

__all__ = ["ArchivedMessage", "ArchivePage", "ArchivePreferences",
           "UnknownArchiveId", "NodeConfig", "PubSubNode", "PubSubItem",
           "PubSubSubscription", "NodeExists", "NodeNotFound", "randomId",
           "bareJID", "MAX"]


def randomId():
    """
    An unguessable, URL- and XML-safe identifier (120 random bits in
    lowercase base32): archive ids, which are XEP-0359 stanza-ids and must
    not reveal how many messages an archive holds, and generated item ids.
    """
    return base64.b32encode(os.urandom(15)).decode("ascii").lower()


def bareJID(jid):
    """The bare JID of C{jid}: a localpart or domain never contains "/"."""
    return jid.partition("/")[0]


# Message archive (XEP-0313)

class UnknownArchiveId(Exception):
    """
    An archive id given to page from (XEP-0059 C{<after/>}/C{<before/>}) or
    as C{after-id}/C{before-id} is not in the archive: the handler answers
    item-not-found (XEP-0313 section 4.3 and section 4.1.3).
    """


@dataclass
class ArchivedMessage:
    """
    One archived message (XEP-0313 section 3).

    @ivar peer: the other party's JID as it appeared on the stanza (full or
        bare); the store also indexes its bare JID for C{with} filters.
    @ivar direction: C{"in"} (received by the owner) or C{"out"} (sent).
    @ivar xml: the serialised message stanza.
    @ivar type: the message type (chat, normal, groupchat ...).
    @ivar stamp: the UTC time it was archived, in seconds since the epoch;
        the store fills in now when it is None.
    @ivar originId: the sender's XEP-0359 origin-id, or "".
    @ivar messageId: the stanza's own C{id} attribute, or "".
    @ivar id: the archive id (the XEP-0359 stanza-id), set by the store.
    """

    peer: str
    direction: str
    xml: str
    type: str = "chat"
    stamp: Optional[float] = None
    originId: str = ""
    messageId: str = ""
    id: Optional[str] = None


@dataclass
class ArchivePage:
    """
    One page of a query (XEP-0059 section 2, XEP-0313 section 4.3).

    @ivar items: the L{ArchivedMessage}s of the page, oldest first unless
        the query asked to flip the page.
    @ivar first: the archive id of C{items[0]}, None for an empty page.
    @ivar last: the archive id of C{items[-1]}, None for an empty page.
    @ivar count: how many messages match the filters, all pages together.
    @ivar index: the position of the oldest item of the page among those
        matches (RSM C{<first index=.../>}), None for an empty page.
    @ivar complete: True when no matching message lies beyond this page in
        the direction of paging (XEP-0313 C{<fin complete='true'/>}).
    """

    items: list
    first: Optional[str]
    last: Optional[str]
    count: int
    index: Optional[int]
    complete: bool

    @classmethod
    def fromItems(cls, items, count, index, complete, flip=False):
        """
        The page of C{items} (oldest first), reversed if C{flip}; C{first}
        and C{last} name the ends of the page as returned.
        """
        items = list(reversed(items)) if flip else list(items)
        return cls(items=items, first=items[0].id if items else None,
                   last=items[-1].id if items else None, count=count,
                   index=index if items else None, complete=complete)


@dataclass
class ArchivePreferences:
    """
    Archiving preferences (XEP-0313, "Archiving Preferences").

    @ivar default: C{"always"}, C{"never"} or C{"roster"}.
    @ivar always: bare JIDs whose messages are always archived.
    @ivar never: bare JIDs whose messages are never archived.
    """

    default: str = "always"
    always: list = field(default_factory=list)
    never: list = field(default_factory=list)


# PubSub (XEP-0060) and PEP (XEP-0163)

#: C{max_items} without a bound from the node (XEP-0060 section 16.4.3).
MAX = "max"


class NodeExists(Exception):
    """The node exists already: the handler answers conflict (XEP-0060 section 8.1)."""


class NodeNotFound(Exception):
    """No such node at this service: the handler answers item-not-found."""


@dataclass
class NodeConfig:
    """
    The configuration of a node (XEP-0060 section 16.4.3,
    C{pubsub#node_config}).  Attribute names are the form fields' names
    without the C{pubsub#} prefix, so a data form maps onto them directly;
    the defaults are those XEP-0163 section 5 recommends for PEP.

    @ivar max_items: the number of items kept, or L{MAX}.
    @ivar extra: every other field, by its full form variable name.
    """

    access_model: str = "presence"
    persist_items: bool = True
    max_items: Union[int, str] = 1
    send_last_published_item: str = "on_sub_and_presence"
    notify_retract: bool = True
    publish_model: str = "publishers"
    deliver_payloads: bool = True
    title: str = ""
    extra: dict = field(default_factory=dict)

    def toDict(self):
        """The configuration as a JSON-friendly dict."""
        return dataclasses.asdict(self)

    @classmethod
    def fromDict(cls, values):
        """The configuration from L{toDict}'s dict, ignoring unknown keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def copy(self):
        return self.fromDict(self.toDict())


@dataclass
class PubSubNode:
    """
    A node of a service: C{service} is a JID string (the account's bare
    JID for PEP, C{pubsub.DOMAIN} for a service).
    """

    service: str
    node: str
    config: NodeConfig
    created: float


@dataclass
class PubSubItem:
    """
    An item of a node (XEP-0060 section 7.1).

    @ivar id: the item id; None asks the store to generate one.
    @ivar xml: the serialised payload.
    @ivar publisher: the JID of the entity that published it.
    @ivar stamp: UTC seconds of publication; None means now.
    """

    xml: str
    id: Optional[str] = None
    publisher: str = ""
    stamp: Optional[float] = None


@dataclass
class PubSubSubscription:
    """
    A subscription to a node (XEP-0060 section 6.1): one per subscriber JID
    and node.

    @ivar state: C{"subscribed"}, C{"pending"} or C{"unconfigured"}.
    @ivar subid: the subscription id, generated by the store.
    @ivar options: the subscription options form, by field name.
    """

    service: str
    node: str
    jid: str
    state: str = "subscribed"
    subid: str = ""
    options: dict = field(default_factory=dict)


def itemsBeyond(maxItems, count):
    """How many of C{count} items exceed C{max_items} (XEP-0060 section 16.4.3)."""
    if maxItems == MAX:
        return 0
    return max(0, count - int(maxItems))


# Push notifications (XEP-0357)

__all__ += ["PushRegistration"]


@dataclass
class PushRegistration:
    """
    One enabled push service of an account (XEP-0357 section 5): the app
    server's XMPP Push Service and the node notifications are published to.

    @ivar jid: the push service's JID (the C{jid} of C{<enable/>}).
    @ivar node: the node on it (the C{node} of C{<enable/>}).
    @ivar options: the serialised publish-options data form given at
        enable, passed through with every publish; C{""} if none.
    @ivar includeBody: whether the account asked for the last message's
        body in the summary (C{last-message-body}, section 7).
    """

    jid: str
    node: str
    options: str = ""
    includeBody: bool = False
