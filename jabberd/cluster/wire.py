# -*- test-case-name: tests.cluster.test_wire -*-
"""
What nodes say to each other over NATS: one JSON object per message, with
an C{op} naming what it is and C{node} naming the sender; stanzas travel
as their XML text (RFC 6120 section 4.8 namespaces kept, as
L{jabberd.stanza.serializeElement} writes them).

Subjects, under the cluster's name C{P} (C{[cluster] name}):

 - C{P.dir}: session directory changes, heard by every node;
 - C{P.hb}: heartbeats;
 - C{P.node.NAME}: what is for one node (a stanza for one of its
   sessions, a directory snapshot it asked for).
"""

import json

from jabberd.stanza import parseElement, serializeElement, toClientNamespace

__all__ = ["encode", "decode", "WireError", "stanzaText", "stanzaOf", "Subjects"]


class WireError(ValueError):
    """A message from another node that cannot be read."""


class Subjects:
    """The NATS subjects of one cluster."""

    def __init__(self, name):
        self.name = name
        self.directory = f"{name}.dir"
        self.heartbeat = f"{name}.hb"

    def node(self, node):
        """The subject of what is addressed to C{node}."""
        return f"{self.name}.node.{node}"


def encode(op, node, **fields):
    """The bytes of message C{op} from C{node}."""
    fields["op"] = op
    fields["node"] = node
    return json.dumps(fields, separators=(",", ":")).encode("utf-8")


def decode(data, maxSize):
    """
    The dict of a message; L{WireError} if it is larger than C{maxSize}
    bytes, not JSON, or has no C{op} and C{node}.
    """
    if len(data) > maxSize:
        raise WireError(f"message of {len(data)} bytes, more than {maxSize}")
    try:
        message = json.loads(data)
    except ValueError as e:
        raise WireError(f"not JSON: {e}") from None
    if (not isinstance(message, dict) or not isinstance(message.get("op"), str)
            or not isinstance(message.get("node"), str)):
        raise WireError("no op or node")
    return message


def stanzaText(stanza):
    """The XML text of C{stanza} (None stays None)."""
    return None if stanza is None else serializeElement(stanza)


_NO_NAMESPACE = frozenset((None, ""))


def stanzaOf(text):
    """
    The element of XML C{text} (None stays None); L{WireError} if it is not
    one element.  A stanza the server made without a namespace (it means
    the stream's) is read back in C{jabber:client}.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise WireError("a stanza must be XML text")
    try:
        element = parseElement(text)
    except ValueError as e:
        raise WireError(str(e)) from None
    return toClientNamespace(element, _NO_NAMESPACE, skipPayloads=True)
