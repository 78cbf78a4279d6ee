# -*- test-case-name: tests.components.conference.test_muc_join -*-
"""
Building and reading the stanzas of Multi-User Chat (XEP-0045 sections 7
and 15): the C{muc#user} extension with its items and status codes,
occupant presence, room messages, XEP-0203 delay stamps, and the
shallow per-recipient copies that make fan-out cheap.

Status codes used (the XEP's status code registry): 100 real JIDs visible, 101
affiliation changed while away, 104 configuration changed, 110
self-presence, 170/171 logging on/off, 172/173 non-/semi-anonymous, 201
room created, 210 nick modified by the service, 301 banned, 303 nick
changed, 307 kicked, 321 lost membership, 322 room became members-only,
332 service shutting down, 333 technical reasons.
"""

import time

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.jidutil import parseJID
from jabberd.ns import NS_DATA, NS_DELAY, NS_DELAY_LEGACY, NS_MUC, NS_MUC_USER
from components.conference.occupantid import occupantIdElement
from jabberd.stanza import firstChild  # re-exported: the conference handlers use it from here

__all__ = [
    "Element", "stamped", "fanout", "mucUserX", "itemElement",
    "occupantPresence", "stanzaError", "roomMessage", "subjectMessage",
    "delayElements", "firstChild", "parseAddress", "isServiceTarget", "mucX", "formType",
    "queryPayload",
]

Element = domish.Element


def queryPayload(iq, uri):
    """
    The C{<query/>} payload in C{uri} of an iq, whose routes match on the
    namespace alone: another element in that namespace is malformed for
    these protocols (XEP-0045 sections 9 and 10, XEP-0030 section 3), a
    C{bad-request} (RFC 6120 section 8.3.3.1).
    """
    query = firstChild(iq, uri, "query")
    if query is None:
        raise StanzaError("bad-request", text="a <query/> payload is expected")
    return query

# XEP-0045 section 7.2 ("Max Users"): a full room answers service-unavailable of
# type wait; Twisted's RFC 3920 table says cancel.
_ERROR_TYPES = {"service-unavailable": "wait"}


class FanOutCopy(Element):
    """
    One recipient's copy of a fan-out template: its own attributes, the
    template's children.  The children are serialised once per stream
    context (default namespace, prefixes) for all copies and kept in the
    template's C{_childXml}; a copy then costs only its start tag.  A copy
    whose children differ from the template's (a history message given a
    delay stamp) is serialised in full.
    """

    def toXml(self, prefixes=None, closeElement=1, defaultUri="", prefixesInScope=None):
        cache = self.__dict__.get("_childXml")
        if cache is None or not closeElement or any(
                not isinstance(key, str) for key in self.attributes):
            return Element.toXml(self, prefixes, closeElement, defaultUri, prefixesInScope)
        key = (defaultUri, tuple(prefixes.items()) if prefixes else (),
               tuple(prefixesInScope) if prefixesInScope else ())
        parts = cache.get(key)
        if parts is None:
            parts = cache[key] = self._split(prefixes, defaultUri, prefixesInScope)
        children = parts[0] if parts else None
        if not parts or len(children) != len(self.children) or any(
                a is not b for a, b in zip(children, self.children)):
            return Element.toXml(self, prefixes, closeElement, defaultUri, prefixesInScope)
        _, head, rest = parts
        attributes = "".join(" %s='%s'" % (name, domish.escapeToXml(value, 1))
                             for name, value in self.attributes.items())
        return head + attributes + rest

    def _split(self, prefixes, defaultUri, prefixesInScope):
        """(children, start tag without attributes, '>' + children + end tag), or False."""
        bare = Element((self.uri, self.name), self.defaultUri)
        bare.children = self.children
        whole = Element.toXml(bare, prefixes, 1, defaultUri, prefixesInScope)
        end = whole.find(">")
        if end < 1 or whole[end - 1] == "/":
            return False  # no children: nothing to share
        return list(self.children), whole[:end], whole[end:]


def stamped(template, to):
    """
    A copy of C{template} addressed to C{to}: its own attributes, the
    same child objects.  Per recipient this is all fan-out costs; the
    children are never mutated after the template is built.
    """
    copy = FanOutCopy.__new__(FanOutCopy)
    copy.__dict__.update(template.__dict__)
    attributes = template.attributes.copy()
    attributes["to"] = to
    copy.attributes = attributes
    copy.children = template.children[:]
    return copy


def fanout(send, template, recipients):
    """Send a copy of C{template} to each real JID in C{recipients}."""
    template._childXml = {}
    for jid in recipients:
        send(stamped(template, jid))


def parseAddress(address):
    """
    Split a room or occupant address into (room JID, nick, raw nick):
    the nick prepared as a resourcepart, the raw one as sent (for status
    210).  Returns None when the address is not a valid JID or names no
    room.
    """
    jid = parseJID(address or "")
    if jid is None or not jid.user:
        return None
    raw = address.split("/", 1)[1] if "/" in address else None
    return jid.userhost(), jid.resource, raw


def mucUserX(codes=(), items=()):
    """A C{<x xmlns='...muc#user'/>} with C{items} then status C{codes}."""
    x = Element((NS_MUC_USER, "x"))
    for item in items:
        x.addChild(item)
    for code in codes:
        x.addElement("status")["code"] = code
    return x


def itemElement(occupant, showJid, nick=None, actor=None, reason=None):
    """
    The C{<item/>} describing C{occupant}: affiliation and role, the real
    JID when the viewer may see it, and the optional new nick (303),
    actor and reason (307, 301).
    """
    item = Element((NS_MUC_USER, "item"))
    item["affiliation"] = occupant.affiliation
    item["role"] = occupant.role
    if showJid:
        item["jid"] = occupant.jid
    if nick:
        item["nick"] = nick
    if actor:
        item.addElement("actor")["nick"] = actor
    if reason:
        item.addElement("reason", content=reason)
    return item


def occupantPresence(occupant, showJid, codes=(), unavailable=False, children=None,
                     nick=None, actor=None, reason=None, extra=()):
    """
    Presence from C{occupant}'s occupant JID (no C{to} yet): its
    broadcast presence children (or C{children}), then the C{muc#user}
    extension, then C{extra} elements inside that extension, then the
    occupant id (XEP-0421 section 4).
    """
    presence = Element((None, "presence"))
    presence["from"] = occupant.occupantJid
    if unavailable:
        presence["type"] = "unavailable"
    presence.children.extend(occupant.presence if children is None else children)
    x = mucUserX(codes, [itemElement(occupant, showJid, nick, actor, reason)])
    for element in extra:
        x.addChild(element)
    presence.children.append(x)
    if occupant.occupantId:
        presence.children.append(occupantIdElement(occupant.occupantId))
    return presence


def stanzaError(error):
    """The L{StanzaError} for a room's L{MUCError}."""
    return StanzaError(error.condition, type=_ERROR_TYPES.get(error.condition),
                       text=error.text)


def roomMessage(roomJid, codes=(), body=None, items=()):
    """A groupchat message from the room itself with status C{codes}."""
    message = Element((None, "message"))
    message["from"] = roomJid
    message["type"] = "groupchat"
    if body:
        message.addElement("body", content=body)
    message.addChild(mucUserX(codes, items))
    return message


def subjectMessage(room):
    """
    The subject as sent after history on entering (section 7.2, "Room Subject"): an
    empty C{<subject/>} when none was set.
    """
    message = Element((None, "message"))
    message["from"] = room.subjectFrom
    message["type"] = "groupchat"
    message.addElement("subject", content=room.subject or None)
    return message


def delayElements(stamp, roomJid, legacy=False):
    """
    The XEP-0203 C{<delay/>} for a history message; for groupchat 1.0
    clients also the XEP-0091 C{jabber:x:delay} they read.
    """
    utc = time.gmtime(stamp)
    delay = Element((NS_DELAY, "delay"))
    delay["from"] = roomJid
    delay["stamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", utc)
    if not legacy:
        return [delay]
    old = Element((NS_DELAY_LEGACY, "x"))
    old["from"] = roomJid
    old["stamp"] = time.strftime("%Y%m%dT%H:%M:%S", utc)
    return [delay, old]


def formType(form):
    """
    The FORM_TYPE of a XEP-0004 form element (XEP-0068), or None; as
    clients send it in submissions, with or without C{type='hidden'}.
    """
    for field in form.elements(NS_DATA, "field"):
        if field.getAttribute("var") == "FORM_TYPE":
            value = firstChild(field, NS_DATA, "value")
            return str(value).strip() if value is not None else None
    return None


def isServiceTarget(target, node=""):
    """
    Whether a disco hook's C{target} (a JID or a string) is the service
    itself rather than a room, with no node.
    """
    if node or target is None:
        return not node
    address = target.full() if hasattr(target, "full") else str(target)
    return "@" not in address


def mucX(stanza):
    """The C{<x xmlns='http://jabber.org/protocol/muc'/>} of a join, or None."""
    return firstChild(stanza, NS_MUC, "x")
