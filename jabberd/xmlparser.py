# -*- test-case-name: tests.test_xmlparser,tests.test_xmlparser_fuzz -*-
"""
Hardened XML stream parsing for every stream the server accepts (RFC 6120
section 11.1 and section 4.9).

XMPP uses a restricted subset of XML: comments, processing instructions,
DTDs and entity declarations are forbidden (C{restricted-xml}, section
4.9.3.18); XML that is not well-formed ends the stream with
C{not-well-formed} (section 4.9.3.13).  A stanza may not grow without
bound: the bytes read since the last complete first-level element are
counted, and so are its elements, their depth and their attributes, as
each element starts; past a limit (L{ParserLimits}) the stream ends with
C{policy-violation} (section 4.9.3.14) before the parser holds more.  The
stream header is bounded in bytes and attributes the same way.

An expat parser holds about 12 KB once it has parsed a few stanzas.  A
stream that rests between first-level elements can drop it
(L{HardenedElementStream.hibernate}); the next input gets a fresh parser
that is first fed a minimal copy of the stream's header (the root's
qualified name and namespace declarations), so prefixes, namespaces and
the closing tag resolve as before at the cost of a few dozen bytes.

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

__all__ = ["RestrictedXML", "StanzaTooLarge", "TooManyElements", "TooDeep", "TooManyAttributes",
           "HeaderTooLarge", "ParserLimits", "DEFAULT_LIMITS", "HardenedElementStream",
           "HardenedXmlStream"]

# XML white space (XML 1.0 section 2.3, production S).
_WHITESPACE = b" \t\r\n"

DEFAULT_MAX_STANZA_SIZE = 262144


class ParserLimits:
    """
    What one element stream may make the parser build, besides the bytes
    of a stanza (C{maxStanzaSize}).  One instance is shared by every stream
    with the same limits.

    @ivar maxElements: elements in one first-level element, itself
        included; counted as each starts, before it is built.
    @ivar maxDepth: nesting depth below the stream root (a first-level
        element is at depth 1).
    @ivar maxAttributes: attributes of one element, namespace declarations
        included (the stream header too).
    @ivar maxHeaderSize: bytes read before the stream header is complete
        (the XML declaration included).
    """

    __slots__ = ("maxElements", "maxDepth", "maxAttributes", "maxHeaderSize")

    def __init__(self, maxElements=5000, maxDepth=32, maxAttributes=32, maxHeaderSize=4096):
        self.maxElements = maxElements
        self.maxDepth = maxDepth
        self.maxAttributes = maxAttributes
        self.maxHeaderSize = maxHeaderSize

    @classmethod
    def fromConfig(cls, parser, maxElements=None):
        """
        The limits of a C{[parser]} section (L{jabberd.config.ParserConfig});
        C{maxElements} replaces its element count when smaller.
        """
        elements = parser.maxElements if maxElements is None else min(maxElements,
                                                                       parser.maxElements)
        return cls(elements, parser.maxDepth, parser.maxAttributes, parser.maxHeaderSize)

    def __repr__(self):
        return "ParserLimits(%d, %d, %d, %d)" % (self.maxElements, self.maxDepth,
                                                self.maxAttributes, self.maxHeaderSize)


DEFAULT_LIMITS = ParserLimits()


class RestrictedXML(domish.ParserError):
    """The peer used XML that RFC 6120 section 11.1 forbids."""


class StanzaTooLarge(domish.ParserError):
    """
    A first-level element (or the stream header) went past a configured
    limit: bytes here, elements, depth or attributes in the subclasses.
    Every one of them is a C{policy-violation} (RFC 6120 section 4.9.3.14).
    """


class TooManyElements(StanzaTooLarge):
    """A first-level element holds more elements than L{ParserLimits.maxElements}."""


class TooDeep(StanzaTooLarge):
    """Elements nest deeper than L{ParserLimits.maxDepth}."""


class TooManyAttributes(StanzaTooLarge):
    """An element has more attributes than L{ParserLimits.maxAttributes}."""


class HeaderTooLarge(StanzaTooLarge):
    """The stream header is not complete within L{ParserLimits.maxHeaderSize} bytes."""


def _ignore(*args):
    """Swallow events of a parser that a stream restart made obsolete."""


# The qualified name right after the '<' of a start tag expat has accepted.
_QNAME = re.compile(rb"[^\s/>]+")

_REFUSED = ("StartDoctypeDeclHandler", "EntityDeclHandler", "UnparsedEntityDeclHandler",
            "NotationDeclHandler", "ElementDeclHandler", "AttlistDeclHandler",
            "ExternalEntityRefHandler", "ProcessingInstructionHandler", "CommentHandler")

# expat hands character data over in runs of up to this many characters
# (pyexpat's buffer_text), not one call per line or entity reference.  The
# buffer is allocated with each parser: a small one keeps the calls few
# (100 for 200,000 newlines) and adds 2 KB to the parser's 9 KB.
TEXT_BUFFER = 2048


_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", "'": "&apos;", "\t": "&#9;",
                                    "\n": "&#10;", "\r": "&#13;"})


class HardenedElementStream(domish.ExpatElementStream):
    """
    Twisted's expat element stream, refusing what XMPP forbids and bounding
    what each first-level element may make it hold.

    Sizes are byte offsets in the document (expat's C{CurrentByteIndex}):
    a complete element is measured exactly before it is dispatched, and an
    incomplete one is measured after every slice of input.  Elements,
    depth and attributes are counted as each element starts, before
    domish builds it, so a stanza that is never finished holds at most
    L{ParserLimits.maxElements} elements.

    Character data arrives in long runs (expat's C{buffer_text}) and the
    runs of one element are joined once, when the element gets a child or
    ends: text costs time linear in its length, whether it is letters,
    newlines or entity references.

    @ivar maxStanzaSize: bytes allowed for one first-level element.
    @ivar limits: the L{ParserLimits}.
    @ivar chunkSize: input is fed to expat in slices of at most this many
        bytes, so an oversized stanza is caught before expat holds much
        more than the limit.
    @ivar header: while the root is open, a start tag equivalent to it for
        what follows: the root's qualified name and namespace declarations
        only (replayed to a fresh parser on waking); None otherwise.
    @ivar parser: the expat parser, or None while hibernating.
    @ivar elements: elements started in the current first-level element.
    @ivar depth: the nesting depth of the element being parsed.
    """

    chunkSize = 16384

    def __init__(self, maxStanzaSize=DEFAULT_MAX_STANZA_SIZE, limits=DEFAULT_LIMITS):
        domish.ExpatElementStream.__init__(self)
        # Every attribute is set here: CPython then keeps one key table for
        # all instances, each holding only its values.
        self.maxStanzaSize = maxStanzaSize
        self.limits = limits
        self.fed = 0
        self.mark = 0
        self.parsing = False
        self.header = None
        self.elements = 0
        self.depth = 0
        self._declared = []  # namespace declarations of the element about to start
        self._text = None  # character data of currElem not yet added to it
        self._prolog = []
        self._restrict(self.parser)

    def _restrict(self, parser):
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.buffer_text = True
        parser.buffer_size = TEXT_BUFFER
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
        """
        Feed C{buffer} to expat, enforcing the stanza size limit per slice;
        before the stream header, expat gets no more than the header may
        take.
        """
        size = len(buffer)
        if not self.documentStarted:
            room = self.limits.maxHeaderSize - self.fed
            if size > room > 0:
                self._feed(buffer[:room], room)
                buffer = buffer[room:]
                size -= room
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
            if not data.strip(_WHITESPACE):
                # A whitespace keepalive (RFC 6120 section 4.6.1) between
                # stanzas: nothing for a parser, so none is made for it.
                return
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
        if not self.documentStarted:
            if self.fed >= self.limits.maxHeaderSize:
                raise HeaderTooLarge("stream header larger than %d bytes"
                                     % (self.limits.maxHeaderSize,))
            return
        if self.currElem is None and parser.CurrentByteIndex > self.mark:
            # Between stanzas only what expat holds unparsed is pending: not
            # the header, nor whitespace it has read.
            self.mark = parser.CurrentByteIndex
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
        """A fresh parser inside the root again: the kept header is fed to it without events."""
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
        """
        Keep a start tag standing for the root, which expat has just
        accepted: its qualified name as received (the closing tag must
        match it) and its namespace declarations (children may use them).
        Its other attributes matter only to the stream, which has them in
        the root element; a woken parser need not read them again.
        """
        data = b"".join(self._prolog)
        self._prolog = None
        name = _QNAME.match(data, start + 1)
        if name is None:
            return  # (never seen) the stream just never hibernates
        parts = [b"<", name.group()]
        for prefix, uri in self._declared:
            attribute = "xmlns" if prefix is None else "xmlns:" + prefix
            value = (uri or "").translate(_ATTRIBUTE_ESCAPES)  # xmlns='' declares None
            parts.append((" %s='%s'" % (attribute, value)).encode("utf-8"))
        parts.append(b">")
        self.header = b"".join(parts)

    def _onStartNamespace(self, prefix, uri):
        self._declared.append((prefix, uri))
        domish.ExpatElementStream._onStartNamespace(self, prefix, uri)

    def _onStartElement(self, name, attrs):
        limits = self.limits
        if len(attrs) + len(self._declared) > limits.maxAttributes:
            raise TooManyAttributes("more than %d attributes" % (limits.maxAttributes,))
        if self.currElem is None:
            # The header or a first-level element starts: measure from here.
            self.mark = self.parser.CurrentByteIndex
            if not self.documentStarted:
                self._keepHeader(self.mark)
            else:
                self.elements = 0
                self.depth = 0
        elif self._text is not None:
            self._flushText()
        self._declared = []
        if self.documentStarted:
            self.elements += 1
            if self.elements > limits.maxElements:
                raise TooManyElements("more than %d elements in a stanza" % (limits.maxElements,))
            self.depth += 1
            if self.depth > limits.maxDepth:
                raise TooDeep("elements nested deeper than %d" % (limits.maxDepth,))
        domish.ExpatElementStream._onStartElement(self, name, attrs)

    def _onEndElement(self, name):
        if self._text is not None:
            self._flushText()
        self.depth -= 1
        if self.currElem is None:
            self.header = None  # the root closed: nothing may be resumed
        elif self.currElem.parent is None:
            end = self.parser.CurrentByteIndex
            if end - self.mark > self.maxStanzaSize:
                raise StanzaTooLarge("stanza larger than %d bytes" % (self.maxStanzaSize,))
            self.mark = end
            self.elements = 0
        domish.ExpatElementStream._onEndElement(self, name)

    def _onCdata(self, data):
        if self.currElem is not None:
            text = self._text
            if text is None:
                self._text = [data]
            else:
                text.append(data)

    def _flushText(self):
        """Add the text collected since the last child started or ended to currElem, once."""
        text, self._text = self._text, None
        self.currElem.addContent(text[0] if len(text) == 1 else "".join(text))


class HardenedXmlStream(xmlstream.XmlStream):
    """
    An XMPP stream whose input is parsed by L{HardenedElementStream}.

    Set C{maxStanzaSize}, C{parserLimits} (and C{logTraffic}) on the
    instance before the connection is made, e.g. in the factory's
    C{buildProtocol}; L{setParserLimits} changes them on a live stream
    (a subclass may derive them from its state and call
    L{applyParserLimits} when that changes).

    @ivar maxStanzaSize: see L{HardenedElementStream.maxStanzaSize}.
    @ivar parserLimits: the L{ParserLimits} of the parsers this stream makes.
    @ivar logTraffic: log every byte in and out (off by default: stanzas
        carry private data).
    @ivar closing: True once the closing tag was sent; nothing more is
        written after it.
    """

    log = Logger()
    maxStanzaSize = DEFAULT_MAX_STANZA_SIZE
    parserLimits = DEFAULT_LIMITS
    logTraffic = False
    closing = False

    def __init__(self, authenticator=None):
        xmlstream.XmlStream.__init__(self, authenticator or xmlstream.Authenticator())

    def _initializeStream(self):
        self.stream = HardenedElementStream(self.maxStanzaSize, self.parserLimits)
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

    def setParserLimits(self, limits, maxStanzaSize):
        """Use C{limits} and C{maxStanzaSize} from now on, in the current parser too."""
        self.parserLimits = limits
        self.maxStanzaSize = maxStanzaSize
        self.applyParserLimits()

    def applyParserLimits(self):
        """The current parser takes this stream's C{parserLimits} and C{maxStanzaSize}."""
        parser = self.stream
        if isinstance(parser, HardenedElementStream):
            parser.limits = self.parserLimits
            parser.maxStanzaSize = self.maxStanzaSize

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
            self.closeWithError("policy-violation", str(exc))
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
