# -*- test-case-name: tests.test_stanza -*-
"""
Helpers for stanzas and the elements in them, shared by every stream and
handler (RFC 6120 sections 4.8 and 8).

 - L{STANZAS}: the three top-level elements that are stanzas (section 8).
 - L{toClientNamespace}: inside the server every stanza is in
   C{jabber:client}, whatever stream it came on or goes to (section 4.8.3:
   a stanza is qualified by its stream's default namespace), so streams
   move stanzas between their own namespace and C{jabber:client}.
 - L{firstChild}: an iq has exactly one payload, its first child element
   (section 8.2.3); other payloads are found by name.
 - L{parseElement} / L{serializeElement}: vCards (XEP-0054), private XML
   (XEP-0049) and offline messages are stored as the serialised text of
   what a user sent.  Parsing it back must not give that user a second
   chance at the parser: the text is parsed as the content of a wrapper
   element, where a document type declaration is a syntax error, so no DTD,
   no entity declaration and no external entity can ever be read
   (C{billion laughs} and XXE are impossible), and the handlers below
   refuse them outright should expat ever reach one.
"""

from xml.parsers import expat

from twisted.words.xish import domish

from jabberd.ns import NS_CLIENT, NS_COMPONENT, NS_SERVER

__all__ = ["STANZAS", "SERVER_NAMESPACES", "toClientNamespace", "firstChild",
           "parseElement", "parseElements", "serializeElement", "copyElement"]

#: The top-level elements that are stanzas (RFC 6120 section 8).
STANZAS = frozenset(("message", "presence", "iq"))

#: The stanza namespaces of the streams between servers and components.
SERVER_NAMESPACES = frozenset((NS_SERVER, NS_COMPONENT))


def toClientNamespace(element, fromUris=SERVER_NAMESPACES, skipPayloads=False):
    """
    Move C{element} and its descendants whose namespace is one of
    C{fromUris} into C{jabber:client}, in place, and return C{element}.

    @param fromUris: the namespaces to move (C{None} or C{""} for elements
        without one).
    @param skipPayloads: visit only children in one of C{fromUris}.  A
        stream's parser uses it: a payload in another namespace cannot
        inherit the stream namespace, so nothing below it needs moving.
        Without it every descendant is visited, so stanzas nested in other
        payloads (XEP-0297 forwarded ones) are moved too.
    """
    pending = [element]
    while pending:
        current = pending.pop()
        if current.uri in fromUris:
            current.uri = NS_CLIENT
        if current.defaultUri in fromUris:
            current.defaultUri = NS_CLIENT
        for child in current.children:
            if isinstance(child, domish.Element) and (
                    not skipPayloads or child.uri in fromUris or child.defaultUri in fromUris):
                pending.append(child)
    return element


def firstChild(element, uri=None, name=None):
    """
    The first child element of C{element}, or None; with C{uri} and/or
    C{name}, the first one with that namespace and/or local name.
    """
    for child in element.children:
        if (isinstance(child, domish.Element)
                and (name is None or child.name == name)
                and (uri is None or child.uri == uri)):
            return child
    return None


def copyElement(element):
    """
    A deep copy of C{element} that shares nothing with it, so that what
    happens to one (a stamp added, a namespace moved) leaves the other as
    it was; its C{parent} is None.
    """
    copy = domish.Element((element.uri, element.name), element.defaultUri,
                          dict(element.attributes), dict(element.localPrefixes))
    copy.children = [copyElement(child) if isinstance(child, domish.Element) else child
                     for child in element.children]
    for child in copy.children:
        if isinstance(child, domish.Element):
            child.parent = copy
    return copy


class _Refused(ValueError):
    """A DTD or entity declaration was met in stored XML."""


def _refuse(*args):
    raise _Refused("DTDs and entity declarations are not allowed")


def serializeElement(element):
    """Return the XML text of C{element}, namespaces declared on it."""
    return element.toXml()


def parseElement(text):
    """
    Parse C{text}, the serialisation of exactly one element, into a
    L{domish.Element}.

    @raise ValueError: if C{text} is not one well-formed element or uses a
        DTD or entity declaration.
    """
    elements = parseElements(text)
    if len(elements) != 1:
        raise ValueError(f"expected one stored element, found {len(elements)}")
    return elements[0]


def parseElements(text):
    """
    Parse C{text} (str or UTF-8 bytes), the serialisations of elements one
    after another, with one parser: the list of L{domish.Element}s.

    @raise ValueError: if C{text} is not well-formed or uses a DTD or entity
        declaration.
    """
    elements = []
    stream = domish.ExpatElementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = elements.append
    stream.DocumentEndEvent = lambda: None
    parser = stream.parser
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(b"<stored>", False)
        parser.Parse(text.encode("utf-8") if isinstance(text, str) else text, False)
        parser.Parse(b"</stored>", True)
    except expat.ExpatError as e:
        raise ValueError(f"stored XML is not well-formed: {e}") from None
    return elements
