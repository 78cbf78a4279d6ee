# -*- test-case-name: tests.test_component -*-
"""
The XML stream both ends of a XEP-0114 connection use (C{jabber:component:accept}).

Inside the server every stanza is in C{jabber:client}, whatever stream it
arrived on, so handlers see the same elements in process and over TCP.  This
stream translates at the boundary: stanzas it parses are moved from the
stream's namespace into C{jabber:client}, and stanzas it writes are
serialised in the stream's default namespace, without an C{xmlns} that
would put a client stanza into the wrong namespace on the wire (XEP-0114
section 3: stanzas are qualified by C{jabber:component:accept}).
"""

from twisted.words.xish import domish

from twisted.words.protocols.jabber import xmlstream

from jabberd.dispatch import handles, index
from jabberd.ns import NS_CLIENT, NS_COMPONENT, NS_SERVER, NS_STREAMS
from jabberd.stanza import STANZAS, toClientNamespace
from jabberd.xmlparser import HardenedXmlStream

__all__ = ["ComponentStream"]

#: Namespaces a top-level stanza may carry when it is written to any stream
#: (None: built without one, e.g. by C{toResponse}; it holds C{jabber:client}
#: children copied from the stanza it answers).
_STANZA_URIS = frozenset((None, NS_CLIENT, NS_SERVER, NS_COMPONENT))


class ComponentStream(HardenedXmlStream):
    """
    A C{jabber:component:accept} stream that hands authenticated stanzas
    straight to one callable (no XPath dispatch per stanza).  Parsing limits
    and stream errors are those of every stream the server reads
    (L{HardenedXmlStream}).

    Once authenticated, stanzas go straight to C{stanzaReceived}: that is
    every routed stanza's path, and a marked method in between measured
    80 ns more per stanza.  Other first-level elements go to the methods
    marked for them with L{jabberd.dispatch.handles} (stream errors here;
    subclasses add theirs).  What no method is marked for goes, once
    authenticated, to C{stanzaReceived} too, to be refused; before that, and
    for other stream-namespace elements, to L{onOtherElement}: Twisted's
    observers, where the authenticator of the connecting side (Twisted's
    C{ConnectComponentAuthenticator}) waits for the handshake answer.

    @ivar stanzaReceived: called with each top-level element once the stream
        is authenticated (None before): stanzas arrive in C{jabber:client};
        other elements arrive as they are, for the owner to refuse.
    @ivar elementHandlers: the class's index of marked methods.
    """

    stanzaReceived = None

    def __init__(self, authenticator=None):
        HardenedXmlStream.__init__(self, authenticator)
        self.elementHandlers = index(type(self))

    def onElement(self, element):
        received = self.stanzaReceived
        if received is not None and element.name in STANZAS and element.uri != NS_STREAMS:
            received(toClientNamespace(element, (self.namespace,), skipPayloads=True))
            return
        handler = self.elementHandlers.get((element.uri, element.name))
        if handler is not None:
            handler(self, element)
        elif received is None or element.uri == NS_STREAMS:
            self.onOtherElement(element)
        else:
            received(element)

    @handles(NS_STREAMS, "error")
    def onStreamError(self, errelem):
        """The peer ended the stream with an error: Twisted's C{STREAM_ERROR_EVENT}, then close."""
        xmlstream.XmlStream.onStreamError(self, errelem)

    def onOtherElement(self, element):
        """An element no method is marked for, before authentication: Twisted's observers."""
        HardenedXmlStream.onElement(self, element)

    def send(self, obj):
        """
        Write C{obj}; a stanza in any stanza namespace is written in the
        stream's own default namespace.
        """
        if (domish.IElement.providedBy(obj) and obj.uri in _STANZA_URIS
                and obj.defaultUri == obj.uri):
            obj = obj.toXml(prefixes=self.prefixes, defaultUri=obj.uri or NS_CLIENT,
                            prefixesInScope=list(self.prefixes.values()))
        super().send(obj)
