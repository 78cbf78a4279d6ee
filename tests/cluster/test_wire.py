"""Tests for L{jabberd.cluster.wire}: what nodes say to each other."""

import pytest

from jabberd.cluster.wire import Subjects, WireError, decode, encode, stanzaOf, stanzaText
from tests.sm.helpers import parse


def test_roundTrip():
    """A message decodes to its op, sender and fields."""
    message = decode(encode("bound", "n1", full="a@localhost/r", at=1.5), 1000)
    assert message == {"op": "bound", "node": "n1", "full": "a@localhost/r", "at": 1.5}


def test_tooLargeRefused():
    """A message over the size limit is refused before it is parsed."""
    with pytest.raises(WireError):
        decode(encode("bound", "n1", xml="x" * 100), 50)


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'{"op": "x"}', b'{"node": "n"}',
                                  b'{"op": 1, "node": "n"}'])
def test_malformedRefused(data):
    """Anything but a JSON object with a string op and node is refused."""
    with pytest.raises(WireError):
        decode(data, 1000)


def test_stanzaKeepsNamespaces():
    """A stanza crosses as XML and comes back with its payload's namespace."""
    stanza = parse("<message to='b@localhost'><body>hi</body><x xmlns='urn:x'/></message>")
    back = stanzaOf(stanzaText(stanza))
    assert back.uri == "jabber:client"
    assert [(c.uri, c.name) for c in back.elements()] == [("jabber:client", "body"),
                                                          ("urn:x", "x")]


def test_stanzaWithoutNamespaceIsClient():
    """A stanza the server made without a namespace is read back in jabber:client."""
    back = stanzaOf("<presence from='a@localhost/r' type='unavailable'/>")
    assert (back.uri, back["type"]) == ("jabber:client", "unavailable")


@pytest.mark.parametrize("text", [5, "<a/><b/>", "<a>", "<!DOCTYPE a><a/>"])
def test_badStanzaRefused(text):
    """Not exactly one well-formed element without a DTD: refused."""
    with pytest.raises(WireError):
        stanzaOf(text)


def test_subjects():
    """Every subject starts with the cluster's name."""
    subjects = Subjects("c1")
    assert (subjects.directory, subjects.heartbeat, subjects.node("n2")) == \
        ("c1.dir", "c1.hb", "c1.node.n2")
