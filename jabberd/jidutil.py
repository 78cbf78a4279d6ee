# -*- test-case-name: tests.test_jidutil -*-
"""
Fast address helpers for the routing hot path (RFC 7622 section 3.1).

The router looks only at the domainpart of C{to}; a full L{JID} parse with
stringprep per stanza would dominate routing cost, so the domain is split out
by the RFC's rule (domain = text before the first '/', after an '@' that
precedes that slash) and prepared JIDs are cached.

Stringprep (RFC 3491 nameprep, RFC 6122 appendix A nodeprep and appendix B
resourceprep, as Twisted implements them) costs tens of microseconds per
part in pure Python, and every login brings a new full JID.  For ASCII
text the profiles reduce to a few rules, applied here directly: nodeprep
folds case and refuses controls, space and C{"&'/:<>@}; resourceprep
refuses controls only; domains repeat, so their nameprep is remembered.
Anything else goes through Twisted's profiles.  C{tests/test_jidutil.py}
checks the shortcuts against the profiles.
"""

import re

from twisted.words.protocols.jabber.jid import JID, InvalidFormat, internJID
from twisted.words.protocols.jabber.xmpp_stringprep import nameprep as _nameprep
from twisted.words.protocols.jabber.xmpp_stringprep import nodeprep as _nodeprep
from twisted.words.protocols.jabber.xmpp_stringprep import resourceprep as _resourceprep

__all__ = ["JID", "InvalidFormat", "internJID", "domainOf", "bareOf", "parseJID",
           "nodeprep", "resourceprep", "nameprep", "prepare", "preparedJID",
           "prepLocalpart", "prepResource", "MAX_PART"]

MAX_PART = 1023  # bytes a localpart or resourcepart may have (RFC 7622 sections 3.3.1, 3.4.1)

_NODE_REFUSED = re.compile(r"[\x00-\x20\x7f\"&'/:<>@]")
_RESOURCE_REFUSED = re.compile(r"[\x00-\x1f\x7f]")
_CACHE_SIZE = 10000
_domains = {}
_jids = {}


def nodeprep(text):
    """The localpart C{text} prepared (RFC 6122 appendix A); UnicodeError if it cannot be one."""
    if text.isascii():
        if _NODE_REFUSED.search(text):
            raise UnicodeError("character not allowed in a localpart")
        return text.lower()
    return _nodeprep.prepare(text)


def resourceprep(text):
    """The resourcepart C{text} prepared (RFC 6122 appendix B); UnicodeError if it cannot be one."""
    if text.isascii():
        if _RESOURCE_REFUSED.search(text):
            raise UnicodeError("control character in a resourcepart")
        return text
    return _resourceprep.prepare(text)


def prepLocalpart(text):
    """C{text} as a prepared localpart (a username), or None if it cannot be one."""
    return _bounded(nodeprep, text)


def prepResource(text):
    """C{text} as a prepared resourcepart, or None if it cannot be one."""
    return _bounded(resourceprep, text)


def _bounded(profile, text):
    try:
        part = profile(text)
    except UnicodeError:
        return None
    if not part or len(part.encode("utf-8")) > MAX_PART:
        return None
    return part


def _remember(cache, key, value):
    """Keep C{value} under C{key}; a full cache starts over (bounded memory)."""
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def nameprep(text):
    """The domainpart C{text} prepared (RFC 3491); UnicodeError if it cannot be one."""
    prepared = _domains.get(text)
    if prepared is None:
        prepared = _remember(_domains, text, _nameprep.prepare(text))
    return prepared


def prepare(user, host, resource):
    """(user, host, resource) prepared, empty parts as None; L{InvalidFormat} when invalid."""
    try:
        user = nodeprep(user) if user else None
    except UnicodeError:
        raise InvalidFormat("Invalid character in username") from None
    if not host:
        raise InvalidFormat("Server address required.")
    try:
        host = nameprep(host)
    except UnicodeError:
        raise InvalidFormat("Invalid character in hostname") from None
    try:
        resource = resourceprep(resource) if resource else None
    except UnicodeError:
        raise InvalidFormat("Invalid character in resource") from None
    return user, host, resource


def preparedJID(user, host, resource):
    """A L{JID} of parts that are already prepared (not prepared again)."""
    jid = JID.__new__(JID)
    jid.user, jid.host, jid.resource = user, host, resource
    return jid


def domainOf(address):
    """Return the domainpart of C{address}, lowercased, without a full parse."""
    slash = address.find("/")
    head = address if slash < 0 else address[:slash]
    at = head.find("@")
    return (head if at < 0 else head[at + 1:]).lower()


def bareOf(address):
    """Return C{address} without its resource part."""
    slash = address.find("/")
    return address if slash < 0 else address[:slash]


def parseJID(address):
    """Parse C{address} into a prepared L{JID} (shared: never change it), or None if invalid."""
    if not address:
        return None
    jid = _jids.get(address)
    if jid is not None:
        return jid
    slash = address.find("/")
    head, resource = (address, None) if slash < 0 else (address[:slash], address[slash + 1:])
    at = head.find("@")
    user, host = (None, head) if at < 0 else (head[:at], head[at + 1:])
    try:
        return _remember(_jids, address, preparedJID(*prepare(user, host, resource)))
    except (InvalidFormat, UnicodeError, ValueError):
        return None
