# -*- test-case-name: tests.sm.test_fanout -*-
"""
One presence sent to many addresses (RFC 6121 section 4.2.2: a broadcast
to every subscriber; section 4.3.2: the answers to fifty contacts' probes),
serialised once.

Each recipient gets its own copy (L{Retargeted}): the stanza's attributes
with its own C{to}, and the stanza's children, shared and never modified.
A copy still is an ordinary element to every hook that reads it (caps,
blocking, CSI, stream management); only writing it out differs: the
copies of one L{FanOut} that nobody changed are written from one
serialisation of the stanza, made once per stream context (namespace and
prefixes), with the recipient's address put in, instead of a walk of the
element for each recipient.  A copy that was changed (a child added, an
attribute set) is serialised as any element is.
"""

from twisted.words.xish import domish

__all__ = ["FanOut", "Retargeted", "fanOutOf"]

#: Stands for the recipient's address in the kept serialisation: a
#: private-use character escaping leaves alone.
_ADDRESS = "\ue000to\ue000"


class Retargeted(domish.Element):
    """
    A copy of a fan-out's stanza for one recipient.

    @ivar fanOut: the L{FanOut} it came from.
    """

    fanOut = None

    def toXml(self, prefixes=None, closeElement=1, defaultUri="", prefixesInScope=None):
        """The fan-out's kept serialisation with this copy's address, if it is unchanged."""
        fanOut = self.fanOut
        if closeElement and fanOut is not None and fanOut.describes(self):
            parts = fanOut.parts(prefixes, defaultUri, prefixesInScope)
            if parts is not None:
                return parts[0] + domish.escapeToXml(self.attributes["to"], 1) + parts[1]
        return domish.Element.toXml(self, prefixes, closeElement, defaultUri, prefixesInScope)


class FanOut:
    """
    Copies of a stanza for many recipients (L{to}), from C{sender} when
    given, and their serialisation, made once per stream context.  It
    keeps what it copies, not the stanza (so a stanza that keeps its
    fan-out, L{fanOutOf}, makes no reference cycle).

    @ivar attributes: the copies' attributes, the address a stand-in.
    @ivar children: the stanza's children when the fan-out was made, shared
        by every copy.
    """

    __slots__ = ("name", "uri", "defaultUri", "localPrefixes", "sender", "attributes",
                 "children", "_parts")

    def __init__(self, stanza, sender=None):
        self.name, self.uri, self.defaultUri = stanza.name, stanza.uri, stanza.defaultUri
        self.localPrefixes = dict(stanza.localPrefixes)
        self.sender = sender
        self.attributes = _copiedAttributes(stanza, sender)
        self.children = list(stanza.children)
        self._parts = {}

    def current(self, stanza, sender=None):
        """Whether this fan-out still copies C{stanza} as it is now, from C{sender}."""
        return (self.sender == sender and self.children == stanza.children
                and self.uri == stanza.uri and self.defaultUri == stanza.defaultUri
                and self.localPrefixes == stanza.localPrefixes
                and self.attributes == _copiedAttributes(stanza, sender))

    def to(self, address):
        """The copy for C{address}: the stanza's attributes, its own C{to}, the shared children."""
        copy = Retargeted((self.uri, self.name), self.defaultUri, dict(self.attributes),
                          dict(self.localPrefixes))
        copy.attributes["to"] = address
        copy.children = list(self.children)
        copy.fanOut = self
        return copy

    def describes(self, copy):
        """Whether C{copy} is still as L{to} made it (only its address differs)."""
        if (copy.children != self.children or copy.uri != self.uri
                or copy.defaultUri != self.defaultUri or copy.localPrefixes != self.localPrefixes):
            return False
        attributes = copy.attributes
        if not isinstance(attributes.get("to"), str) or len(attributes) != len(self.attributes):
            return False
        for key, value in self.attributes.items():
            if key != "to" and attributes.get(key) != value:
                return False
        return True

    def parts(self, prefixes, defaultUri, prefixesInScope):
        """
        The serialisation before and after the recipient's address, in
        this stream context; None when it cannot be split there (the
        stanza's own text holds the stand-in).
        """
        key = (defaultUri, tuple(prefixes.items()) if prefixes else (),
               tuple(prefixesInScope) if prefixesInScope else ())
        parts = self._parts.get(key, False)
        if parts is False:
            template = domish.Element((self.uri, self.name), self.defaultUri,
                                      dict(self.attributes), dict(self.localPrefixes))
            template.children = self.children
            text = domish.Element.toXml(template, prefixes, 1, defaultUri, prefixesInScope)
            pieces = text.split(_ADDRESS)
            parts = (pieces[0], pieces[1]) if len(pieces) == 2 else None
            self._parts[key] = parts
        return parts


def _copiedAttributes(stanza, sender):
    """C{stanza}'s attributes as its copies have them (as L{jabberd.sm.presence} set them)."""
    attributes = dict(stanza.attributes)
    attributes["to"] = _ADDRESS
    if sender is not None:
        attributes["from"] = sender
    return attributes


def fanOutOf(stanza, sender=None):
    """
    The L{FanOut} of C{stanza} from C{sender}, kept on the stanza while
    it stays as it is: a session's presence answers every probe of its
    contacts (RFC 6121 section 4.3.2) from one serialisation.
    """
    kept = vars(stanza)  # not getattr: an element looks for a child of that name
    fanOut = kept.get("_fanOut")
    if fanOut is None or not fanOut.current(stanza, sender):
        fanOut = kept["_fanOut"] = FanOut(stanza, sender)
    return fanOut
