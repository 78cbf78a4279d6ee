"""
Tests for L{jabberd.c2s.legacyauth}: C{jabber:iq:auth} (XEP-0078) for
jabberd 1.4-era clients.
"""

from jabberd.c2s.legacyauth import digestOf
from jabberd.ns import NS_AUTH, NS_AUTH_FEATURE
from tests.c2s.helpers import HEADER, LEGACY_HEADER, Server, child, login, streamError

GET = "<iq type='get' id='a1' to='localhost'><query xmlns='jabber:iq:auth'>%s</query></iq>"
SET = "<iq type='set' id='a2'><query xmlns='jabber:iq:auth'>%s</query></iq>"


def fields(username="alice", password="pw", resource="desk", digest=None):
    parts = []
    for name, value in (("username", username), ("password", password),
                        ("resource", resource), ("digest", digest)):
        if value is not None:
            parts.append("<%s>%s</%s>" % (name, value, name))
    return "".join(parts)


def legacyClient(server, secure=True):
    client = server.connect()
    client.stream.secure = secure
    assert client.send(LEGACY_HEADER) == []
    return client


def makeServer(storePlaintext=False, **c2s):
    server = Server(store_plaintext="yes" if storePlaintext else "no", **c2s)
    server.addUser("alice", "pw", storePlaintext=storePlaintext)
    return server


def errorOf(iq):
    error = child(iq, "error")
    return error.getAttribute("code"), next(error.elements()).name


def test_getFields():
    """A get returns username, password and resource fields, without digest by default."""
    client = legacyClient(makeServer())
    [iq] = client.send(GET % "<username>alice</username>")
    assert (iq["type"], iq["from"]) == ("result", "localhost")
    query = child(iq, "query", NS_AUTH)
    assert [c.name for c in query.elements()] == ["username", "password", "resource"]
    assert str(child(query, "username")) == "alice"


def test_getOffersDigestWithPlaintext():
    """With plaintext passwords stored, the digest field is offered too."""
    client = legacyClient(makeServer(storePlaintext=True))
    [iq] = client.send(GET % "<username>alice</username>")
    assert child(child(iq, "query"), "digest") is not None


def test_getFieldsSameForMissingAccount():
    """A get for an account that does not exist gets exactly the fields an existing one gets."""
    for storePlaintext in (False, True):
        server = makeServer(storePlaintext=storePlaintext)
        answers = []
        for name in ("alice", "nobody"):
            [iq] = legacyClient(server).send(GET % ("<username>%s</username>" % name))
            answers.append([c.name for c in child(iq, "query", NS_AUTH).elements()])
        assert answers[0] == answers[1]
        assert ("digest" in answers[0]) is storePlaintext


def test_setPasswordBinds():
    """A set with the right password authenticates and binds in one step."""
    server = makeServer()
    client = legacyClient(server)
    [iq] = client.send(SET % fields())
    assert (iq["type"], iq["id"]) == ("result", "a2")
    assert server.sm.session("alice@localhost/desk") is client.stream.session
    client.send("<message to='bob@example.org'><body>hi</body></message>")
    assert [s["from"] for s in server.routed] == ["alice@localhost/desk"]


def test_setDigest():
    """A set with the SHA-1 digest of stream id and password succeeds."""
    server = makeServer(storePlaintext=True)
    client = legacyClient(server)
    digest = digestOf(client.header["id"], "pw")
    [iq] = client.send(SET % fields(password=None, digest=digest))
    assert iq["type"] == "result"
    assert client.stream.session.full == "alice@localhost/desk"


def test_setWrongPassword():
    """A wrong password gets 401 not-authorized and no session."""
    client = legacyClient(makeServer())
    [iq] = client.send(SET % fields(password="wrong"))
    assert errorOf(iq) == ("401", "not-authorized")
    assert client.stream.session is None


def test_setWrongDigest():
    """A wrong digest gets 401 not-authorized."""
    client = legacyClient(makeServer(storePlaintext=True))
    [iq] = client.send(SET % fields(password=None, digest="0" * 40))
    assert errorOf(iq) == ("401", "not-authorized")


def test_setMissingResource():
    """A set without a resource gets 406 not-acceptable."""
    client = legacyClient(makeServer())
    [iq] = client.send(SET % fields(resource=None))
    assert errorOf(iq) == ("406", "not-acceptable")


def test_setMissingPassword():
    """A set without password or digest gets 406 not-acceptable."""
    client = legacyClient(makeServer())
    [iq] = client.send(SET % fields(password=None))
    assert errorOf(iq) == ("406", "not-acceptable")


def test_conflictReplacesOldSession():
    """Logging in to a resource in use replaces the old session with a conflict error."""
    server = makeServer()
    old = legacyClient(server)
    old.send(SET % fields())
    new = legacyClient(server)
    [iq] = new.send(SET % fields())
    assert iq["type"] == "result"
    assert streamError(old.output.read()) == "conflict"
    assert server.sm.session("alice@localhost/desk") is new.stream.session


def test_cleartextRefusedWhenTLSRequired():
    """On a cleartext stream with require_tls the iq is refused with policy-violation."""
    client = legacyClient(makeServer(), secure=False)
    [iq] = client.send(SET % fields())
    assert child(child(iq, "error"), "policy-violation") is not None
    assert client.stream.session is None


def test_cleartextAllowedWhenTLSOptional():
    """COMPAT: without require_tls an old client may log in over cleartext."""
    server = makeServer(require_tls="no")
    client = legacyClient(server, secure=False)
    [iq] = client.send(SET % fields())
    assert iq["type"] == "result"


def test_directTLSLegacyLogin():
    """An old client on the direct TLS port logs in with require_tls on."""
    server = makeServer()
    server.factory.directTLS = True
    client = server.connect()
    client.send(LEGACY_HEADER)
    [iq] = client.send(SET % fields())
    assert iq["type"] == "result"


def test_featureAdvertised():
    """A version 1.0 stream over TLS advertises the iq-auth feature."""
    client = makeServer().connect()
    client.stream.secure = True
    [features] = client.send(HEADER)
    assert child(features, "auth", NS_AUTH_FEATURE) is not None


def test_disabledByConfig():
    """With legacy_auth off the feature is absent and an iq:auth is a pre-auth stanza."""
    server = makeServer(legacy_auth="no")
    client = legacyClient(server)
    assert streamError(client.send(SET % fields())) == "not-authorized"


def test_authAfterLoginGoesToSessionManager():
    """After binding, jabber:iq:auth iqs are ordinary stanzas for the session manager."""
    server = makeServer()
    client = login(server)
    client.send(GET % "")
    assert [(s.name, s["from"]) for s in server.routed] == [("iq", "alice@localhost/home")]
    assert client.output.read() == []
