"""Tests for L{jabberd.cluster.remote}: a session of another node in this node's table."""

from jabberd.cluster.remote import RemoteSession
from jabberd.jidutil import parseJID
from tests.sm.helpers import parse


class Recorder:
    """Stands in for the node: records what the session sends."""

    def __init__(self):
        self.sent = []

    def toSession(self, session, kind, stanza):
        self.sent.append((kind, session.full, stanza))

    def closeSession(self, session, condition, text=None):
        self.sent.append(("close", session.full, condition))


def make():
    cluster = Recorder()
    return RemoteSession(cluster, "n2", parseJID("bob@localhost/b"), 1.0), cluster


def test_identity():
    """The session carries its JID parts and node, and is unavailable until presence is known."""
    session, _ = make()
    assert (session.full, session.bare, session.username, session.resource, session.node) == \
        ("bob@localhost/b", "bob@localhost", "bob", "b", "n2")
    assert session.remote and not session.available
    session.presence = parse("<presence/>")
    assert session.available


def test_deliverAndWriteGoToItsNode():
    """deliver, write, the stream's send and close all go to the session's node."""
    session, cluster = make()
    message = parse("<message to='bob@localhost/b'/>")
    session.deliver(message)
    session.write(message)
    session.stream.send(message)
    session.close("conflict")
    assert [entry[0] for entry in cluster.sent] == ["deliver", "write", "write", "close"]


def test_ownBroadcastNotSent():
    """A presence broadcast by another resource of the same user is left to the directory."""
    session, cluster = make()
    session.deliver(parse("<presence from='bob@localhost/other'/>"))
    session.deliver(parse("<presence from='alice@localhost/a'/>"))
    session.deliver(parse("<presence from='bob@localhost/other' to='bob@localhost/b'/>"))
    assert [entry[2]["from"] for entry in cluster.sent] == ["alice@localhost/a",
                                                            "bob@localhost/other"]


def test_inactiveSendsNothing():
    """A session known to be gone sends nothing."""
    session, cluster = make()
    session.active = False
    session.deliver(parse("<message/>"))
    session.write(parse("<message/>"))
    assert cluster.sent == []
