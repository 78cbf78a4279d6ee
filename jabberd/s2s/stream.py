# -*- test-case-name: tests.s2s.test_inbound -*-
"""
What both ends of a server-to-server stream share (RFC 6120 sections 4 and
10.4): the C{jabber:server} namespace with the dialback prefix declared in
the header (XEP-0220 section 2.1), stanzas translated to and from
C{jabber:client} at the boundary (as on component streams), and dispatch of
first-level elements by qualified name to the stream's own methods, marked
with L{jabberd.dispatch.handles}.
"""

from twisted.words.xish.domish import escapeToXml

from jabberd.c2s.stream import parseVersion
from jabberd.component.stream import ComponentStream
from jabberd.dispatch import handles
from jabberd.listening import setNoDelay
from jabberd.ns import NS_DIALBACK, NS_SERVER, NS_STREAMS
from jabberd.stanza import STANZAS

__all__ = ["ServerStream", "parseVersion"]


class ServerStream(ComponentStream):
    """
    A C{jabber:server} stream.  Subclasses mark the methods handling the
    elements they accept (L{jabberd.dispatch.handles}); C{jabber:server}
    stanzas go to C{onStanza}; anything else ends the stream (RFC 6120
    section 4.9.3.22).

    @ivar local: our domain on this stream.
    @ivar remote: the peer's domain, once known.
    @ivar secure: whether TLS is on.
    @ivar lastActive: the clock time of the last input or output, for
        L{S2SService}'s idle sweep.
    """

    namespace = NS_SERVER
    clock = None

    def __init__(self):
        ComponentStream.__init__(self)
        self.prefixes = {NS_STREAMS: "stream", NS_DIALBACK: "db"}
        self.local = None
        self.remote = None
        self.secure = False
        self.lastActive = self.clock.seconds() if self.clock is not None else 0

    def dataReceived(self, data):
        if self.clock is not None:
            self.lastActive = self.clock.seconds()
        ComponentStream.dataReceived(self, data)

    def send(self, obj):
        if self.clock is not None:
            self.lastActive = self.clock.seconds()
        ComponentStream.send(self, obj)

    def connectionMade(self):
        setNoDelay(self.transport)
        ComponentStream.connectionMade(self)

    def headerText(self, sender, recipient, streamID=None):
        """A stream header from C{sender} to C{recipient} (RFC 6120 4.7)."""
        parts = ["<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                 "xmlns:stream='http://etherx.jabber.org/streams' "
                 "xmlns:db='jabber:server:dialback'"]
        if sender:
            parts += [" from='", escapeToXml(sender, 1), "'"]
        if recipient:
            parts += [" to='", escapeToXml(recipient, 1), "'"]
        if streamID:
            parts += [" id='", streamID, "'"]
        parts.append(" version='1.0'>")
        return "".join(parts)

    def onElement(self, element):
        if self.closing:
            return
        handler = self.elementHandlers.get((element.uri, element.name))
        if handler is not None:
            handler(self, element)
        else:
            self.closeWithError("unsupported-stanza-type")

    @handles(NS_SERVER, *STANZAS)
    def onStanza(self, stanza):
        """A stanza arrived; only an authenticated inbound stream takes them."""
        self.closeWithError("unsupported-stanza-type")

    @handles(NS_STREAMS, "error")
    def onStreamError(self, element):
        """The peer ended the stream with an error (RFC 6120 4.9): log it and close ours."""
        conditions = [child.name for child in element.elements() if child.name != "text"]
        self.log.info("s2s stream {local} / {remote} ended by the peer: {condition}",
                      local=self.local, remote=self.remote,
                      condition=conditions[0] if conditions else "unknown")
        self.closeStream()
