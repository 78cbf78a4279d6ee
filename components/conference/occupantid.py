# -*- test-case-name: tests.components.conference.test_muc_occupantid -*-
"""
Occupant identifiers (XEP-0421): every presence and message a room sends
on behalf of an occupant carries C{<occupant-id id=.../>}, the same for
the same real bare JID in the same room whatever the nick, across leaving
and rejoining and across restarts of a persistent room, and different
between rooms (section 4, "Service-side considerations").

The id is an HMAC-SHA256 of the real bare JID keyed with a random secret
of the room's own (L{newSecret}), kept with the persistent room, so it
cannot be reversed into the JID nor matched across rooms (section 6,
"Security Considerations").  An occupant-id a client put on its own
stanza is removed first: only the room may vouch for one (section 4).
"""

import base64
import hashlib
import hmac
import os

from twisted.words.xish import domish

from jabberd.ns import NS_OCCUPANT_ID

__all__ = ["newSecret", "occupantId", "occupantIdElement", "withoutOccupantIds"]


def newSecret():
    """A fresh room secret: 256 random bits, as text for the room store."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def occupantId(secret, bare):
    """The occupant id of the real bare JID C{bare} in the room keyed by C{secret}."""
    digest = hmac.new(secret.encode("ascii"), bare.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def occupantIdElement(value):
    """The C{<occupant-id/>} element carrying C{value}."""
    element = domish.Element((NS_OCCUPANT_ID, "occupant-id"))
    element["id"] = value
    return element


def withoutOccupantIds(children):
    """C{children} without any C{<occupant-id/>} (a client's claim is never passed on)."""
    return [child for child in children
            if getattr(child, "uri", None) != NS_OCCUPANT_ID]
