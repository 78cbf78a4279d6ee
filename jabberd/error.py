# -*- test-case-name: tests.test_error -*-
"""
Stanza and stream errors (RFC 6120 section 8.3 and 4.9) carrying the legacy
numeric C{code} attribute of XEP-0086 that jabberd 1.4-era clients read.

Twisted's L{StanzaError} already writes C{code}; this module adds the RFC 6120
conditions that RFC 3920 lacked and small helpers to bounce a stanza.
"""

from twisted.words.protocols.jabber import error as _error
from twisted.words.protocols.jabber.error import StanzaError, StreamError

# RFC 6120 section 8.3.3 conditions with the legacy codes XEP-0086 section 3
# maps them to, for those Twisted's RFC 3920 table lacks (where it has one,
# as for gone, its entry stays).
_error.STANZA_CONDITIONS.setdefault("policy-violation", {"code": "406", "type": "modify"})
_error.STANZA_CONDITIONS.setdefault("gone", {"code": "302", "type": "cancel"})

__all__ = ["StanzaError", "StreamError", "errorReply", "isErrorable"]


def isErrorable(stanza):
    """
    Whether an error may be sent in reply to C{stanza}: never to an error,
    and never to a result iq (RFC 6120 section 8.3.1 forbids error loops).
    """
    return stanza.getAttribute("type") not in ("error", "result")


def errorReply(stanza, condition, text=None, type=None):
    """
    Make the error response to C{stanza}: addresses swapped, the original
    payload kept (RFC 6120 section 8.3.1), an C{<error/>} with C{code}.
    """
    return StanzaError(condition, type=type, text=text).toResponse(stanza)
