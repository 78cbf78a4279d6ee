# -*- test-case-name: tests.cluster.test_wire -*-
"""
What nodes say to each other over NATS: messages with an C{op} naming
what each is and C{node} naming the sender; stanzas travel as their XML
text (RFC 6120 section 4.8 namespaces kept, as
L{jabberd.stanza.serializeElement} writes them).

A node sends what it has for one subject in one reactor turn as one NATS
message, a batch (L{encodeBatch}): a JSON line with the messages' fields
in order, then the XML of their stanzas one after another, which the
receiver parses with one parser (L{decodeBatch}).  A single JSON object
(L{encode}: C{jabberdctl}'s status request) is a batch of one.

Subjects, under the cluster's name C{P} (C{[cluster] name}):

 - C{P.dir}: session directory changes, heard by every node;
 - C{P.hb}: heartbeats;
 - C{P.node.NAME}: what is for one node (a stanza for one of its
   sessions, a directory snapshot it asked for).
"""

import json

from jabberd.stanza import parseElement, parseElements, serializeElement, toClientNamespace

__all__ = ["encode", "decode", "encodeBatch", "decodeBatch", "WireError", "stanzaText",
           "stanzaOf", "Subjects"]


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


def encodeBatch(node, instance, items):
    """
    The bytes of several messages from C{node}'s process C{instance} on one
    subject: C{items} are (fields, stanza XML text or None), in order.
    """
    headers, texts = [], []
    for fields, text in items:
        if text is not None:
            fields["x"] = 1
            texts.append(text)
        headers.append(fields)
    head = json.dumps({"node": node, "instance": instance, "ops": headers},
                      separators=(",", ":"))
    # JSON escapes every newline inside its strings: the first one ends the head.
    return (head + "\n" + "".join(texts)).encode("utf-8")


def decodeBatch(data, maxSize):
    """
    The messages of C{data} (a batch, or one L{encode}d message), in order,
    each a dict with C{op}, C{node}, C{instance} and, for a stanza, the
    element as C{stanza}; L{WireError} if it is larger than C{maxSize} bytes,
    or its head, any of its messages or its XML cannot be read.
    """
    if len(data) > maxSize:
        raise WireError(f"message of {len(data)} bytes, more than {maxSize}")
    head, _, payload = data.partition(b"\n")
    try:
        batch = json.loads(head)
    except ValueError as e:
        raise WireError(f"not JSON: {e}") from None
    if isinstance(batch, dict) and "ops" not in batch:
        return [_checked(batch)]
    if (not isinstance(batch, dict) or not isinstance(batch.get("ops"), list)
            or not isinstance(batch.get("node"), str)):
        raise WireError("no ops or node")
    try:
        stanzas = parseElements(payload) if payload else []
    except ValueError as e:
        raise WireError(str(e)) from None
    messages, stanzas = [], iter(stanzas)
    for fields in batch["ops"]:
        if not isinstance(fields, dict):
            raise WireError("a message must be an object")
        fields["node"], fields["instance"] = batch["node"], batch.get("instance")
        if fields.pop("x", None):
            stanza = next(stanzas, None)
            if stanza is None:
                raise WireError("fewer stanzas than messages")
            fields["stanza"] = toClientNamespace(stanza, _NO_NAMESPACE, skipPayloads=True)
        messages.append(_checked(fields))
    return messages


def _checked(message):
    if not isinstance(message, dict) or not isinstance(message.get("op"), str) \
            or not isinstance(message.get("node"), str):
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
