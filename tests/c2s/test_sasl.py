"""
Tests for L{jabberd.c2s.sasl}: SASL negotiation on a client stream (RFC
6120 section 6) with SCRAM (RFC 5802, RFC 7677) and PLAIN (RFC 4616),
driven by a client-side SCRAM written for the tests.
"""

import base64

from twisted.internet import defer

from jabberd.ns import NS_BIND, NS_SASL
from tests.c2s.helpers import HEADER, ScramClient, Server, b64, child, plain, streamError

AUTH = "<auth xmlns='%s' mechanism='%%s'>%%s</auth>" % NS_SASL
RESPONSE = "<response xmlns='%s'>%%s</response>" % NS_SASL


def secureClient(server):
    client = server.connect()
    client.stream.secure = True
    client.send(HEADER)
    return client


def failure(elements):
    """The condition of the single <failure/> in C{elements}."""
    [element] = elements
    assert (element.uri, element.name) == (NS_SASL, "failure")
    return next(element.elements()).name


def scramLogin(server, mechanism, hashName, password="pw", **kwargs):
    """Run a SCRAM exchange; return (client, scram client, server's last answer)."""
    client = secureClient(server)
    scram = ScramClient(hashName, "alice", password, **kwargs)
    [challenge] = client.send(AUTH % (mechanism, b64(scram.first())))
    assert (challenge.uri, challenge.name) == (NS_SASL, "challenge")
    final = scram.final(base64.b64decode(str(challenge)))
    return client, scram, client.send(RESPONSE % b64(final))


def assertScramSuccess(mechanism, hashName):
    server = Server()
    server.addUser("alice", "pw")
    client, scram, [success] = scramLogin(server, mechanism, hashName)
    assert (success.uri, success.name) == (NS_SASL, "success")
    assert base64.b64decode(str(success)) == scram.expected
    assert client.stream.username == "alice"


def test_scramSha1():
    """A full SCRAM-SHA-1 exchange succeeds and carries the right server signature."""
    assertScramSuccess("SCRAM-SHA-1", "sha1")


def test_scramSha256():
    """A full SCRAM-SHA-256 exchange succeeds and carries the right server signature."""
    assertScramSuccess("SCRAM-SHA-256", "sha256")


def test_scramFromPlaintextOnly():
    """An account with only a plaintext password can still use SCRAM."""
    server = Server()
    server.storage.accounts.create("alice", {"plain": "pw"})
    _, _, [success] = scramLogin(server, "SCRAM-SHA-256", "sha256")
    assert success.name == "success"


def test_scramWrongPassword():
    """A wrong password makes SCRAM fail with not-authorized."""
    server = Server()
    server.addUser("alice", "pw")
    client, _, answer = scramLogin(server, "SCRAM-SHA-1", "sha1", password="nope")
    assert failure(answer) == "not-authorized"
    assert client.stream.username is None


def test_scramUnknownUserLooksNormal():
    """An unknown user gets a normal challenge and fails only at the end."""
    server = Server()
    _, _, answer = scramLogin(server, "SCRAM-SHA-256", "sha256")
    assert failure(answer) == "not-authorized"


def test_scramGs2FlagY():
    """The gs2 flag 'y' (client could bind, server does not offer it) is accepted."""
    server = Server()
    server.addUser("alice", "pw")
    _, _, [success] = scramLogin(server, "SCRAM-SHA-1", "sha1", flag="y")
    assert success.name == "success"


def test_scramChannelBindingRefused():
    """The gs2 flag 'p' (channel binding) is refused with malformed-request."""
    server = Server()
    server.addUser("alice", "pw")
    client = secureClient(server)
    scram = ScramClient("sha1", "alice", "pw", flag="p=tls-unique")
    assert failure(client.send(AUTH % ("SCRAM-SHA-1", b64(scram.first())))) == "malformed-request"


def test_scramOwnAuthzid():
    """An authzid equal to the user's bare JID is accepted."""
    server = Server()
    server.addUser("alice", "pw")
    _, _, [success] = scramLogin(server, "SCRAM-SHA-1", "sha1", authzid="alice@localhost")
    assert success.name == "success"


def test_scramOtherAuthzid():
    """An authzid of another user is refused with invalid-authzid."""
    server = Server()
    server.addUser("alice", "pw")
    client, _, answer = scramLogin(server, "SCRAM-SHA-1", "sha1", authzid="bob@localhost")
    assert failure(answer) == "invalid-authzid"
    assert client.stream.username is None


def test_plainSuccess():
    """PLAIN with the right password over TLS succeeds."""
    server = Server()
    server.addUser("alice", "pw")
    client = secureClient(server)
    [success] = client.send(plain("alice", "pw"))
    assert (success.uri, success.name) == (NS_SASL, "success")
    assert client.stream.username == "alice"


def test_plainPreparesUsername():
    """PLAIN usernames are nodeprep'd (case-folded)."""
    server = Server()
    server.addUser("alice", "pw")
    client = secureClient(server)
    client.send(plain("ALICE", "pw"))
    assert client.stream.username == "alice"


def test_plainWrongPassword():
    """PLAIN with a wrong password fails with not-authorized."""
    server = Server()
    server.addUser("alice", "pw")
    assert failure(secureClient(server).send(plain("alice", "bad"))) == "not-authorized"


def test_plainWithoutTLSIsEncryptionRequired():
    """PLAIN on a cleartext stream fails with encryption-required even if TLS is optional."""
    server = Server(require_tls="no")
    server.addUser("alice", "pw")
    client = server.connect()
    client.send(HEADER)
    assert failure(client.send(plain("alice", "pw"))) == "encryption-required"


def test_scramBeforeRequiredTLS():
    """Any SASL attempt before required TLS fails with encryption-required."""
    server = Server()
    client = server.connect()
    client.send(HEADER)
    scram = ScramClient("sha1", "alice", "pw")
    assert failure(client.send(AUTH % ("SCRAM-SHA-1", b64(scram.first())))) == \
        "encryption-required"


def test_invalidMechanism():
    """An unknown or unconfigured mechanism fails with invalid-mechanism."""
    server = Server(mechanisms="SCRAM-SHA-256")
    client = secureClient(server)
    assert failure(client.send(AUTH % ("DIGEST-MD5", "="))) == "invalid-mechanism"
    assert failure(client.send(plain("alice", "pw"))) == "invalid-mechanism"


def test_incorrectEncoding():
    """Data that is not base64 fails with incorrect-encoding."""
    client = secureClient(Server())
    assert failure(client.send(AUTH % ("PLAIN", "!!!not base64"))) == "incorrect-encoding"


def test_malformedPlain():
    """A PLAIN message without two NUL separators fails with malformed-request."""
    client = secureClient(Server())
    assert failure(client.send(AUTH % ("PLAIN", b64(b"alice")))) == "malformed-request"


def test_abort():
    """<abort/> during an exchange is answered with aborted and ends the exchange."""
    server = Server()
    client = secureClient(server)
    client.send(AUTH % ("SCRAM-SHA-1", b64(ScramClient("sha1", "alice", "pw").first())))
    assert failure(client.send("<abort xmlns='%s'/>" % NS_SASL)) == "aborted"
    assert failure(client.send(RESPONSE % "=")) == "malformed-request"


def test_responseWithoutExchange():
    """A <response/> with no exchange in progress fails with malformed-request."""
    client = secureClient(Server())
    assert failure(client.send(RESPONSE % "=")) == "malformed-request"


def test_noInitialResponse():
    """<auth/> without data gets an empty challenge; the response carries the data."""
    server = Server()
    server.addUser("alice", "pw")
    client = secureClient(server)
    [challenge] = client.send(AUTH % ("PLAIN", ""))
    assert (challenge.name, str(challenge)) == ("challenge", "")
    [success] = client.send(RESPONSE % b64(b"\0alice\0pw"))
    assert success.name == "success"


def test_tooManyFailuresClose():
    """The third failed attempt is followed by a policy-violation stream error."""
    server = Server()
    server.addUser("alice", "pw")
    client = secureClient(server)
    assert failure(client.send(plain("alice", "1"))) == "not-authorized"
    assert failure(client.send(plain("alice", "2"))) == "not-authorized"
    elements = client.send(plain("alice", "3"))
    assert elements[0].name == "failure"
    assert streamError(elements[1:]) == "policy-violation"
    assert client.output.closed


def test_storageFailureIsTemporary():
    """A failing credentials look-up is a temporary-auth-failure."""
    server = Server()
    server.storage.accounts.get = lambda username: defer.fail(RuntimeError("db down"))
    client = secureClient(server)
    assert failure(client.send(plain("alice", "pw"))) == "temporary-auth-failure"


def test_restartAfterSuccess():
    """After success the client restarts: a new stream id and the bind feature."""
    server = Server()
    server.addUser("alice", "pw")
    client = secureClient(server)
    firstId = client.header["id"]
    client.send(plain("alice", "pw"))
    [features] = client.send(HEADER)
    assert client.header["id"] != firstId
    assert child(features, "bind", NS_BIND) is not None
    assert child(features, "mechanisms", NS_SASL) is None


def test_authAfterSuccessRefused():
    """Authenticating again on an authenticated stream ends it with policy-violation."""
    server = Server()
    server.addUser("alice", "pw")
    client = secureClient(server)
    client.send(plain("alice", "pw"))
    client.send(HEADER)
    assert streamError(client.send(plain("alice", "pw"))) == "policy-violation"


def test_failuresAcrossStreamsAreThrottled():
    """Past auth_fail_free failures from one address, the next failure is answered only after the delay, on a new stream too."""
    server = Server(auth_fail_free="1", auth_fail_delay="2")
    server.addUser("alice", "pw")
    assert failure(secureClient(server).send(plain("alice", "1"))) == "not-authorized"
    client = secureClient(server)
    assert client.send(plain("alice", "2")) == []
    server.clock.advance(1.9)
    assert client.output.read() == []
    server.clock.advance(0.2)
    assert failure(client.output.read()) == "not-authorized"


def test_throttledAddressWaitsBeforeItsPasswordIsChecked():
    """A parallel attempt from a throttled address is held until the delay is over, even with the right password."""
    server = Server(auth_fail_free="0", auth_fail_delay="4")
    server.addUser("alice", "pw")
    client = secureClient(server)
    assert client.send(plain("alice", "bad")) == []
    server.clock.advance(1)
    other = secureClient(server)  # same address (the fake transport's peer)
    assert other.send(plain("alice", "pw")) == []
    server.clock.advance(2.9)
    assert other.output.read() == []
    server.clock.advance(0.2)
    assert failure(client.output.read()) == "not-authorized"
    [success] = other.output.read()
    assert success.name == "success"
