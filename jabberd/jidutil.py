# -*- test-case-name: tests.test_jidutil -*-
"""
Fast address helpers for the routing hot path (RFC 7622 section 3.1).

The router looks only at the domainpart of C{to}; a full L{JID} parse with
stringprep per stanza would dominate routing cost, so the domain is split out
by the RFC's rule (domain = text before the first '/', after an '@' that
precedes that slash) and prepared JIDs are cached by Twisted's C{internJID}.
"""

from twisted.words.protocols.jabber.jid import JID, InvalidFormat, internJID

__all__ = ["JID", "InvalidFormat", "internJID", "domainOf", "bareOf", "parseJID"]


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
    """Parse C{address} into a prepared L{JID}, or return None if invalid."""
    if not address:
        return None
    try:
        return internJID(address)
    except (InvalidFormat, UnicodeError, ValueError):
        return None
