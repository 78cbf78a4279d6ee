# -*- test-case-name: tests.web.test_framing -*-
"""
What the web framings of the client stream share: BOSH (XEP-0206) and
WebSocket (RFC 7395) carry the one L{jabberd.c2s.stream.ClientStream} and
differ from TCP in the same three ways, each answered here.

 - Their wrapper (a C{<body/>}, a WebSocket message) does not declare
   C{jabber:client} as the default namespace, so stanzas are written with
   an explicit C{xmlns} (L{serializeForWrapper}).
 - There is no socket to write to or start TLS on (L{SessionTransport}).
 - Encryption is the HTTP connection's, and plain HTTP from this machine
   or behind a TLS-terminating proxy may be trusted (L{countsAsSecure}).
"""

import ipaddress

from zope.interface import implementer

from twisted.internet.interfaces import IAddress

from jabberd.ns import NS_CLIENT, NS_STREAMS
from jabberd.stanza import SERVER_NAMESPACES, STANZAS, toClientNamespace

__all__ = ["serializeForWrapper", "SessionTransport", "countsAsSecure"]

_STREAM_PREFIXES = {NS_STREAMS: "stream"}
_IN_SCOPE = ["stream"]


def serializeForWrapper(element, streamPrefix=False):
    """
    Serialise a first-level C{element} for a wrapper whose default
    namespace is not C{jabber:client}.  Stanzas built without a namespace
    (on TCP they inherit the stream's) are moved to C{jabber:client} in
    place, as L{toClientNamespace} moves server stanzas.  With
    C{streamPrefix}, stream-level elements use the C{stream:} prefix the
    wrapper declares (BOSH); else they carry their own C{xmlns} (WebSocket).
    """
    uri = element.uri
    if uri in SERVER_NAMESPACES:
        toClientNamespace(element)
    elif not uri and element.name in STANZAS:
        element.uri = element.defaultUri = NS_CLIENT
    elif uri == NS_STREAMS:
        if streamPrefix:
            return element.toXml(prefixes=_STREAM_PREFIXES, prefixesInScope=_IN_SCOPE)
        element.defaultUri = NS_STREAMS  # <error xmlns='...streams'>, not a made-up prefix
    return element.toXml()


@implementer(IAddress)
class _NoAddress:
    """An end whose address nobody told."""

    host, port = "", 0


class SessionTransport:
    """
    The C{transport} of a framed stream: the addresses of the HTTP client
    and of the site, and no C{write} or C{startTLS} (so STARTTLS is never
    offered; the framing's C{send} does the writing).
    """

    def __init__(self, peer, host=None):
        self.peer = peer if peer is not None else _NoAddress()
        self.host = host if host is not None else _NoAddress()
        self.disconnecting = False

    def getPeer(self):
        return self.peer

    def getHost(self):
        return self.host

    def loseConnection(self):
        self.disconnecting = True


def countsAsSecure(httpConfig, encrypted, peer):
    """
    Whether a stream carried over HTTP counts as encrypted for the c2s
    rules (C{[c2s] require_tls}, PLAIN only over TLS).  HTTPS always does;
    plain HTTP does with C{[http] consider_secure} (a TLS-terminating proxy
    in front) or, with C{loopback_secure} (the default), when the peer is a
    loopback address: that traffic never crosses a network.
    """
    if encrypted or httpConfig.considerSecure:
        return True
    if not httpConfig.loopbackSecure:
        return False
    try:
        address = ipaddress.ip_address(getattr(peer, "host", "") or "")
    except ValueError:
        return False  # a UNIX socket or an unknown peer: not provably local
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback
