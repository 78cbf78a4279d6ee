# -*- test-case-name: tests.test_xmlutil -*-
"""
Turning stored XML text back into L{domish.Element}s.

vCards (XEP-0054), private XML (XEP-0049) and offline messages are stored as
the serialised text of what a user sent.  Parsing it back must not give that
user a second chance at the parser: the text is parsed as the content of a
wrapper element, where a document type declaration is a syntax error, so no
DTD, no entity declaration and no external entity can ever be read
(C{billion laughs} and XXE are impossible), and the handlers below refuse
them outright should expat ever reach one.
"""

from xml.parsers import expat

from twisted.words.xish import domish

__all__ = ["parseElement", "serializeElement"]


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
        parser.Parse(text.encode("utf-8"), False)
        parser.Parse(b"</stored>", True)
    except expat.ExpatError as e:
        raise ValueError(f"stored XML is not well-formed: {e}") from None
    if len(elements) != 1:
        raise ValueError(f"expected one stored element, found {len(elements)}")
    return elements[0]
