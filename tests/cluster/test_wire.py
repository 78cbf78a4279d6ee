"""Tests for L{jabberd.cluster.wire}: what nodes say to each other."""

import pytest

from jabberd.cluster.wire import (Subjects, WireError, decode, decodeBatch, encode, encodeBatch,
                                  stanzaOf, stanzaText)
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


def test_batchRoundTrip():
    """A batch decodes to its messages in order, each stanza parsed back in jabber:client."""
    first = parse("<message to='b@localhost/r' type='chat'><body>one\ntwo</body></message>")
    data = encodeBatch("n1", "i1", [({"op": "deliver", "full": "b@localhost/r", "seq": 1},
                                     stanzaText(first)),
                                    ({"op": "ended", "full": "c@localhost/r"}, None),
                                    ({"op": "write", "full": "b@localhost/r"},
                                     "<presence from='a@localhost/x'/>")])
    messages = decodeBatch(data, 10000)
    assert [(m["op"], m["node"], m["instance"]) for m in messages] == \
        [("deliver", "n1", "i1"), ("ended", "n1", "i1"), ("write", "n1", "i1")]
    assert str(messages[0]["stanza"].body) == "one\ntwo"
    assert (messages[2]["stanza"].uri, messages[2]["stanza"].name) == ("jabber:client", "presence")
    assert "stanza" not in messages[1]


def test_singleMessageIsABatchOfOne():
    """A message made by encode (jabdberdctl's) decodes as a batch of one."""
    assert decodeBatch(encode("status", "jabberdctl", reply="r"), 1000) == \
        [{"op": "status", "node": "jabberdctl", "reply": "r"}]


@pytest.mark.parametrize("data", [
    b'{"node":"n1","ops":[{"op":"write","x":1}]}\n',  # a stanza missing
    b'{"node":"n1","ops":[{"op":"write","x":1}]}\n<a>',  # not well-formed
    b'{"node":"n1","ops":[5]}\n',
    b'{"ops":[]}\n',
    b'{"node":"n1","ops":[{"op":"write","x":1}]}\n<!DOCTYPE a><a/>',
])
def test_badBatchRefused(data):
    """A batch whose head, messages or stanzas cannot be read is refused."""
    with pytest.raises(WireError):
        decodeBatch(data, 1000)


def test_largeBatchRefused():
    """A batch over the size limit is refused before it is parsed."""
    data = encodeBatch("n1", "i", [({"op": "write"}, "<a>" + "x" * 100 + "</a>")])
    with pytest.raises(WireError):
        decodeBatch(data, 50)
