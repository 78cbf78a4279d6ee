# -*- test-case-name: tests.test_xmlparser -*-
"""
Hardened XML stream parsing for every stream the server accepts (RFC 6120
section 11.1 and section 4.9).

XMPP uses a restricted subset of XML: comments, processing instructions,
DTDs and entity declarations are forbidden (C{restricted-xml}, section
4.9.3.18); XML that is not well-formed ends the stream with
C{not-well-formed} (section 4.9.3.13).  A stanza may not grow without
bound: the bytes read since the last complete first-level element are
counted and a stanza over the limit ends the stream with
C{policy-violation} before the parser buffers more.

An expat parser holds about 12 KB once it has parsed a few stanzas.  A
stream that rests between first-level elements can drop it
(L{HardenedElementStream.hibernate}); the next input gets a fresh parser
that is first fed the stream's own header (the root start tag, byte for
byte), so prefixes, namespaces and the closing tag resolve as before.

L{HardenedXmlStream} is Twisted's jabber C{XmlStream} with that parser, a
C{closeWithError} that follows section 4.9.1 (header first if none was
sent, then the error, then the closing tag) and optional traffic logging.
The client (c2s) and component listeners both build on it.
"""

import re

import pyexpat

from jabberd.logs import Logger
from twisted.words.protocols.jabber import xmlstream
from twisted.words.protocols.jabber.error import StreamError
from twisted.words.xish import domish

__all__ = ["RestrictedXML", "StanzaTooLarge", "HardenedElementStream", "HardenedXmlStream"]

DEFAULT_MAX_STANZA_SIZE = 262144


class RestrictedXML(domish.ParserError):
    """The peer used XML that RFC 6120 section 11.1 forbids."""


class StanzaTooLarge(domish.ParserError):
    """A first-level element grew past the configured size limit."""


def _ignore(*args):
    """Swallow events of a parser that a stream restart made obsolete."""


# A start tag expat has accepted: '>' may only appear inside quoted values.
_START_TAG = re.compile(rb"<[^'\">]*(?:(?:'[^']*'|\"[^\"]*\")[^'\">]*)*>")

_REFUSED = ("StartDoctypeDeclHandler", "EntityDeclHandler", "UnparsedEntityDeclHandler",
            "NotationDeclHandler", "ElementDeclHandler", "AttlistDeclHandler",
            "ExternalEntityRefHandler", "ProcessingInstructionHandler", "CommentHandler")


class HardenedElementStream(domish.ExpatElementStream):
    """
    Twisted's expat element stream, refusing what XMPP forbids and bounding
    the size of each first-level element.

    Sizes are byte offsets in the document (expat's C{CurrentByteIndex}):
    a complete element is measured exactly before it is dispatched, and an
    incomplete one is measured after every slice of input.

    @ivar maxStanzaSize: bytes allowed for one first-level element.
    @ivar chunkSize: input is fed to expat in slices of at most this many
        bytes, so an oversized stanza is caught before expat holds much
        more than the limit.
    @ivar header: the root start tag as received, once it was parsed and
        while the root is open; None otherwise.
    @ivar parser: the expat parser, or None while hibernating.
    """

    chunkSize = 16384

    def __init__(self, maxStanzaSize=DEFAULT_MAX_STANZA_SIZE):
        domish.ExpatElementStream.__init__(self)
        # Every attribute is set here: CPython then keeps one key table for
        # all instances, each holding only its values.
        self.maxStanzaSize = maxStanzaSize
        self.fed = 0
        self.mark = 0
        self.parsing = False
        self.header = None
        self._prolog = []
        self._restrict(self.parser)

    def _restrict(self, parser):
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        refuse = self._refuse
        for name in _REFUSED:
            setattr(parser, name, refuse)

    def _refuse(self, *args):
        raise RestrictedXML("DTDs, entities, comments and processing instructions are not allowed")

    @property
    def pending(self):
        """Bytes read since the current first-level element began (or the last ended)."""
        return self.fed - self.mark

    def parse(self, buffer):
        """Feed C{buffer} to expat, enforcing the stanza size limit per slice."""
        size = len(buffer)
        if size <= self.chunkSize:
            self._feed(buffer, size)
            return
        for start in range(0, size, self.chunkSize):
            piece = buffer[start:start + self.chunkSize]
            self._feed(piece, len(piece))

    def _feed(self, data, size):
        parser = self.parser
        if parser is None:
            if self.ElementEvent is _ignore:
                return  # abandoned: the rest of the input is the new parser's
            parser = self._wake()
        if self._prolog is not None:
            self._prolog.append(data)  # until the header is parsed, see _keepHeader
        self.fed += size
        self.parsing = True
        try:
            parser.Parse(data)
        except self.error as e:
            raise domish.ParserError(str(e))
        finally:
            self.parsing = False
            if self.ElementEvent is _ignore:
                self.parser = None  # abandoned during this parse: see abandon
        if self.fed - self.mark > self.maxStanzaSize:
            raise StanzaTooLarge("stanza larger than %d bytes" % (self.maxStanzaSize,))

    def abandon(self):
        """
        Ignore further events and free the expat parser, now or, when
        inside C{Parse}, as soon as it returns (its handlers refer to this
        object: without this only the cyclic garbage collector frees it).
        """
        self.DocumentStartEvent = self.ElementEvent = self.DocumentEndEvent = _ignore
        if not self.parsing:
            self.parser = None

    def hibernate(self):
        """
        Drop the expat parser if the stream rests between first-level
        elements and expat holds no unparsed input (after C{Parse}, its
        C{CurrentByteIndex} is where it stopped); return whether it did.
        """
        parser = self.parser
        if (parser is None or self.header is None or self.currElem is not None
                or parser.CurrentByteIndex != self.fed):
            return False
        self.parser = None
        return True

    def _wake(self):
        """A fresh parser inside the root again: the header is fed to it without events."""
        parser = pyexpat.ParserCreate("UTF-8", " ")
        self._restrict(parser)
        parser.Parse(self.header)
        parser.StartElementHandler = self._onStartElement
        parser.EndElementHandler = self._onEndElement
        parser.CharacterDataHandler = self._onCdata
        parser.StartNamespaceDeclHandler = self._onStartNamespace
        parser.EndNamespaceDeclHandler = self._onEndNamespace
        self.parser = parser
        self.fed = self.mark = len(self.header)
        return parser

    def _keepHeader(self, start):
        """Keep the root start tag, which expat has just accepted, as it was received."""
        data = b"".join(self._prolog)
        self._prolog = None
        tag = _START_TAG.match(data, start)
        if tag is not None:  # else (never seen) the stream just never hibernates
            self.header = tag.group()

    def _onStartElement(self, name, attrs):
        if self.currElem is None:
            # The header or a first-level element starts: measure from here.
            self.mark = self.parser.CurrentByteIndex
            if not self.documentStarted:
                self._keepHeader(self.mark)
        domish.ExpatElementStream._onStartElement(self, name, attrs)

    def _onEndElement(self, name):
        if self.currElem is None:
            self.header = None  # the root closed: nothing may be resumed
        elif self.currElem.parent is None:
            end = self.parser.CurrentByteIndex
            if end - self.mark > self.maxStanzaSize:
                raise StanzaTooLarge("stanza larger than %d bytes" % (self.maxStanzaSize,))
            self.mark = end
        domish.ExpatElementStream._onEndElement(self, name)


class HardenedXmlStream(xmlstream.XmlStream):
    """
    An XMPP stream whose input is parsed by L{HardenedElementStream}.

    Set C{maxStanzaSize} (and C{logTraffic}) on the instance before the
    connection is made, e.g. in the factory's C{buildProtocol}.

    @ivar maxStanzaSize: see L{HardenedElementStream.maxStanzaSize}.
    @ivar logTraffic: log every byte in and out (off by default: stanzas
        carry private data).
    @ivar closing: True once the closing tag was sent; nothing more is
        written after it.
    """

    log = Logger()
    maxStanzaSize = DEFAULT_MAX_STANZA_SIZE
    logTraffic = False
    closing = False

    def __init__(self, authenticator=None):
        xmlstream.XmlStream.__init__(self, authenticator or xmlstream.Authenticator())

    def _initializeStream(self):
        self.stream = HardenedElementStream(self.maxStanzaSize)
        self.stream.DocumentStartEvent = self.onDocumentStart
        self.stream.ElementEvent = self.onElement
        self.stream.DocumentEndEvent = self.onDocumentEnd

    def connectionMade(self):
        if self.logTraffic:
            self.rawDataInFn = self._logIn
            self.rawDataOutFn = self._logOut
        xmlstream.XmlStream.connectionMade(self)

    def _logIn(self, data):
        self.log.info("RECV {peer}: {data!r}", peer=self._peer(), data=data)

    def _logOut(self, data):
        self.log.info("SEND {peer}: {data!r}", peer=self._peer(), data=data)

    def _peer(self):
        transport = self.transport
        return transport.getPeer() if transport is not None else None

    def reset(self):
        """
        Start a new parser (a stream restart, RFC 6120 section 4.3.3).

        The old parser may still be inside C{Parse} (the restart is decided
        while handling an element); its further events are ignored.
        """
        old = self.stream
        if isinstance(old, HardenedElementStream):
            old.abandon()
        xmlstream.XmlStream.reset(self)

    def hibernate(self):
        """
        Free the parser's memory while the peer is quiet between stanzas
        (L{HardenedElementStream.hibernate}); return whether it was freed.
        """
        parser = self.stream
        return (isinstance(parser, HardenedElementStream) and not self.closing
                and parser.hibernate())

    def dataReceived(self, data):
        parser = self.stream
        if parser is None or self.closing:
            return
        if self.rawDataInFn:
            self.rawDataInFn(data)
        try:
            parser.parse(data)
        except domish.ParserError as e:
            if parser is self.stream:
                self.onParserError(e)

    def onParserError(self, exc):
        """Map a parser failure to its stream error (RFC 6120 section 4.9.3)."""
        if isinstance(exc, RestrictedXML):
            self.closeWithError("restricted-xml")
        elif isinstance(exc, StanzaTooLarge):
            self.closeWithError("policy-violation", "stanza too large")
        else:
            self.closeWithError("not-well-formed")

    def onDocumentEnd(self):
        """The peer closed its stream: close ours too (RFC 6120 section 4.4)."""
        self.closeStream()

    def closeWithError(self, condition, text=None):
        """
        Send the stream error C{condition} and close the stream (RFC 6120
        section 4.9.1.1); a receiving entity sends its header first if it
        has not yet (section 4.9.1.3).
        """
        if self.closing:
            return
        if not self._headerSent and not self.initiating:
            self.sendHeader()
        self.send(StreamError(condition, text=text).getElement())
        self.closeStream()

    def closeStream(self):
        """Send the closing tag (once) and drop the connection."""
        if self.closing:
            return
        if self._headerSent:
            self.sendFooter()
        self.closing = True
        self.dropConnection()

    def dropConnection(self):
        """Close the underlying connection; framings other than TCP override."""
        if self.transport is not None:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        self.closing = True
        if isinstance(self.stream, HardenedElementStream):
            self.stream.abandon()
        xmlstream.XmlStream.connectionLost(self, reason)
