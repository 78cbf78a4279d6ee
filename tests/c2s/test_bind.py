"""
Tests for L{jabberd.c2s.bind}: resource binding (RFC 6120 section 7) and
the legacy session iq (RFC 3921 section 3).
"""

from twisted.words.xish import domish

from jabberd.handler import Handler
from jabberd.ns import NS_BIND, NS_SESSION
from tests.c2s.helpers import HEADER, Server, bindIQ, child, login, plain, streamError


def authenticated(server):
    client = server.connect()
    client.stream.secure = True
    client.send(HEADER)
    client.send(plain("alice", "pw"))
    return client


def boundJid(elements):
    [iq] = elements
    assert (iq.name, iq["type"]) == ("iq", "result")
    return str(child(child(iq, "bind", NS_BIND), "jid"))


def makeServer():
    server = Server()
    server.addUser("alice", "pw")
    return server


def test_featuresAfterAuth():
    """After SASL the features offer bind and an optional session."""
    client = authenticated(makeServer())
    [features] = client.send(HEADER)
    assert child(features, "bind", NS_BIND) is not None
    assert child(child(features, "session", NS_SESSION), "optional") is not None


def test_bindChosenResource():
    """A chosen resource is bound and the full JID returned; a session is registered."""
    server = makeServer()
    client = authenticated(server)
    client.send(HEADER)
    assert boundJid(client.send(bindIQ("Laptop"))) == "alice@localhost/Laptop"
    assert server.sm.session("alice@localhost/Laptop") is client.stream.session


def test_bindGeneratedResource():
    """Without a resource the server generates a random one."""
    server = makeServer()
    jids = set()
    for _ in range(2):
        client = authenticated(server)
        client.send(HEADER)
        jids.add(boundJid(client.send(bindIQ())))
    assert len(jids) == 2
    assert all(j.startswith("alice@localhost/") and len(j) > len("alice@localhost/") for j in jids)


def test_bindBadResource():
    """A resource that fails resourceprep (here the bidi rule) gets bad-request."""
    client = authenticated(makeServer())
    client.send(HEADER)
    [iq] = client.send(bindIQ("\u0627" + "1"))
    assert iq["type"] == "error"
    assert child(iq, "error").getAttribute("code") == "400"
    assert child(child(iq, "error"), "bad-request") is not None
    assert client.stream.session is None


def test_bindBeforeAuthIsNotAuthorized():
    """A bind iq before authentication ends the stream with not-authorized."""
    client = makeServer().connect()
    client.stream.secure = True
    client.send(HEADER)
    assert streamError(client.send(bindIQ("x"))) == "not-authorized"


def test_conflictReplacesOldSession():
    """Binding a resource in use gives the old stream a conflict error and takes over."""
    server = makeServer()
    old = login(server, resource="home")
    new = login(server, resource="home")
    assert streamError(old.output.read()) == "conflict"
    assert old.output.closed and old.transport.disconnecting
    assert server.sm.session("alice@localhost/home") is new.stream.session
    old.lose()
    assert server.sm.session("alice@localhost/home") is new.stream.session


def test_secondBindNotAllowed():
    """A second bind on a bound stream gets not-allowed."""
    client = login(makeServer())
    [iq] = client.send(bindIQ("other", iqId="b2"))
    assert child(child(iq, "error"), "not-allowed") is not None


def test_sessionIq():
    """The legacy session iq after binding is answered with an empty result."""
    server = makeServer()
    client = login(server)
    [iq] = client.send("<iq type='set' id='s1' to='localhost'>"
                       "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
    assert (iq["type"], iq["id"], iq["from"]) == ("result", "s1", "localhost")
    assert server.routed == []


def test_noBindFeaturesAfterBinding():
    """Feature negotiators offer nothing once the session is bound."""
    client = login(makeServer())
    assert all(not n.features() for n in client.stream.negotiators)


def test_sessionManagerFeatures():
    """Session manager handlers with streamFeatures() add to the post-auth features."""
    class RosterVer(Handler):
        def streamFeatures(self):
            return [domish.Element(("urn:xmpp:features:rosterver", "ver"))]

    server = makeServer()
    server.sm.addHandler(RosterVer())
    client = authenticated(server)
    [features] = client.send(HEADER)
    assert child(features, "ver", "urn:xmpp:features:rosterver") is not None


def test_iqToOthersWithBindPayloadIsRouted():
    """An iq addressed to another entity is routed even if its payload is a bind element."""
    server = makeServer()
    client = login(server)
    client.send("<iq type='set' id='x' to='bob@localhost/r'>"
                "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert [s["to"] for s in server.routed] == ["bob@localhost/r"]
