# -*- test-case-name: tests.s2s.test_dialback -*-
"""
Server Dialback (XEP-0220): the keys and the C{db:} elements.

A server proves it speaks for a domain by sending a key on its outgoing
connection (C{<db:result/>}); the receiving server asks the domain's
authoritative server, on a connection of its own, whether that key is
right (C{<db:verify/>}).  Only the authoritative server can make the key:
it is the HMAC-SHA256 of the receiving domain, the originating domain and
the stream id under a secret of its own (XEP-0185 section 3), so nothing
has to be remembered between sending a key and verifying it.
"""

import hashlib
import hmac

from twisted.words.xish import domish

from jabberd.ns import NS_DIALBACK, NS_DIALBACK_FEATURE, NS_SERVER, NS_XMPP_STANZAS
from jabberd.stanza import firstChild

__all__ = ["dialbackKey", "keyMatches", "result", "verify", "withError", "errorCondition",
           "feature"]


def dialbackKey(secret, receiving, originating, streamID):
    """
    The key for a stream C{streamID} from C{originating} to C{receiving}
    (XEP-0185 section 3): HMAC-SHA256, keyed with the hex SHA-256 of the
    secret, of "receiving originating streamID", in hex.
    """
    key = hashlib.sha256(secret.encode("utf-8")).hexdigest().encode("ascii")
    text = f"{receiving} {originating} {streamID}".encode("utf-8")
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def keyMatches(secret, receiving, originating, streamID, key):
    """Whether C{key} is the one this server made for that stream (in constant time)."""
    expected = dialbackKey(secret, receiving, originating, streamID)
    return hmac.compare_digest(expected.encode("ascii"), key.strip().encode("utf-8"))


def _element(name, sender, recipient, streamID=None, key=None, type=None):
    element = domish.Element((NS_DIALBACK, name))
    element["from"], element["to"] = sender, recipient
    if streamID is not None:
        element["id"] = streamID
    if type is not None:
        element["type"] = type
    if key is not None:
        element.addContent(key)
    return element


def result(sender, recipient, key=None, type=None):
    """A C{<db:result/>}: the key (section 2.1.1) or the answer to it (section 2.4)."""
    return _element("result", sender, recipient, key=key, type=type)


def verify(sender, recipient, streamID, key=None, type=None):
    """A C{<db:verify/>}: the question to the authoritative server (2.2) or its answer (2.3)."""
    return _element("verify", sender, recipient, streamID, key=key, type=type)


def withError(element, condition, errorType="cancel"):
    """Make C{element} a C{type='error'} answer carrying C{condition} (section 2.4, 3)."""
    element["type"] = "error"
    error = element.addElement((NS_SERVER, "error"))  # unprefixed on the wire
    error["type"] = errorType
    error.addElement((NS_XMPP_STANZAS, condition))
    return element


def errorCondition(element):
    """The stanza error condition inside a C{type='error'} dialback answer, or None."""
    error = firstChild(element, name="error")
    condition = firstChild(error, NS_XMPP_STANZAS) if error is not None else None
    return condition.name if condition is not None else None


def feature():
    """
    The stream feature announcing dialback, with the C{<errors/>} child that
    says this server understands dialback errors (XEP-0220 section 2.4.1).
    """
    dialback = domish.Element((NS_DIALBACK_FEATURE, "dialback"))
    dialback.addElement("errors")
    return dialback
