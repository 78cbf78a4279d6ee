"""
Tests for L{jabberd.c2s.mechanisms}: the XML-free server side of PLAIN
and SCRAM (RFC 4616, RFC 5802, RFC 7677).
"""

import base64

import pytest

from jabberd.auth.credentials import makeCredentials
from jabberd.c2s.mechanisms import (Challenge, CredentialSource, SASLFailure, ScramMechanism,
                                    Success, makeMechanism)
from jabberd.storage.memory import MemoryStorage
from tests.c2s.helpers import ScramClient


@pytest.fixture
def source():
    storage = MemoryStorage()
    storage.accounts.create("alice", makeCredentials("pw", iterations=16))
    return CredentialSource(storage.accounts, 16)


def result(d):
    """The synchronous result of C{d}, raising its failure."""
    outcome = []
    d.addBoth(outcome.append)
    if hasattr(outcome[0], "raiseException"):
        outcome[0].raiseException()
    return outcome[0]


def test_scramRoundTrip(source):
    """Client-first gets a challenge carrying the client nonce; a good proof succeeds."""
    mechanism = ScramMechanism("SCRAM-SHA-256", source)
    scram = ScramClient("sha256", "alice", "pw")
    challenge = result(mechanism.step(scram.first()))
    assert isinstance(challenge, Challenge)
    assert challenge.data.startswith(b"r=" + scram.nonce.encode())
    success = result(mechanism.step(scram.final(challenge.data)))
    assert isinstance(success, Success)
    assert (success.username, success.data) == ("alice", scram.expected)


def test_scramNonceMismatch(source):
    """A client-final with a different nonce fails."""
    mechanism = ScramMechanism("SCRAM-SHA-1", source)
    scram = ScramClient("sha1", "alice", "pw")
    challenge = result(mechanism.step(scram.first()))
    with pytest.raises(SASLFailure):
        result(mechanism.step(scram.final(challenge.data, nonce="forged")))


def test_scramBadProof(source):
    """A proof with one flipped bit is not-authorized."""
    mechanism = ScramMechanism("SCRAM-SHA-1", source)
    scram = ScramClient("sha1", "alice", "pw")
    challenge = result(mechanism.step(scram.first()))
    with pytest.raises(SASLFailure) as e:
        result(mechanism.step(scram.final(challenge.data, proofTweak=True)))
    assert e.value.condition == "not-authorized"


def test_scramMandatoryExtension(source):
    """A client-first with the reserved m= extension is malformed."""
    with pytest.raises(SASLFailure) as e:
        result(ScramMechanism("SCRAM-SHA-1", source).step(b"n,,m=x,n=alice,r=abc"))
    assert e.value.condition == "malformed-request"


def test_scramBadEscape(source):
    """A username with an '=' that is not =2C or =3D is malformed."""
    with pytest.raises(SASLFailure) as e:
        result(ScramMechanism("SCRAM-SHA-1", source).step(b"n,,n=al=ice,r=abc"))
    assert e.value.condition == "malformed-request"


def test_scramEscapedName(source):
    """Escaped names are decoded before preparation (=2C is ',', which nodeprep allows)."""
    source.accounts.create("a,b", makeCredentials("pw", iterations=16))
    mechanism = ScramMechanism("SCRAM-SHA-1", source)
    scram = ScramClient("sha1", "a,b", "pw")
    challenge = result(mechanism.step(scram.first()))
    assert result(mechanism.step(scram.final(challenge.data))).username == "a,b"


def test_scramExtraResponse(source):
    """A response after the exchange completed is malformed."""
    mechanism = ScramMechanism("SCRAM-SHA-1", source)
    scram = ScramClient("sha1", "alice", "pw")
    challenge = result(mechanism.step(scram.first()))
    result(mechanism.step(scram.final(challenge.data)))
    with pytest.raises(SASLFailure):
        result(mechanism.step(b""))


def test_standInSaltsAreStable(source):
    """Unknown users get the same salt each time, as a real account would."""
    first = result(source.scramEntry(None, "SCRAM-SHA-1", "nobody"))
    second = result(source.scramEntry(None, "SCRAM-SHA-1", "nobody"))
    assert first[0]["salt"] == second[0]["salt"] and first[1] is False
    assert base64.b64decode(first[0]["salt"]) != base64.b64decode(
        result(source.scramEntry(None, "SCRAM-SHA-1", "other"))[0]["salt"])


def test_standInSaltsFollowTheSecret(source):
    """A source with the same secret (the server after a restart) gives the same stand-in salt."""
    again = CredentialSource(source.accounts, 16, secret=source.secret)
    other = CredentialSource(source.accounts, 16)
    salt = result(source.scramEntry(None, "SCRAM-SHA-256", "nobody"))[0]["salt"]
    assert result(again.scramEntry(None, "SCRAM-SHA-256", "nobody"))[0]["salt"] == salt
    assert result(other.scramEntry(None, "SCRAM-SHA-256", "nobody"))[0]["salt"] != salt


def test_busyHashingIsTemporaryFailure(source):
    """A full hashing queue answers a PLAIN attempt temporary-auth-failure, not not-authorized."""
    from twisted.internet import defer
    from jabberd.auth.hashing import HashingBusy

    class Full:
        def run(self, function, *args):
            return defer.fail(HashingBusy())

    source.hashing = Full()
    with pytest.raises(SASLFailure) as caught:
        result(makeMechanism("PLAIN", source).step(b"\0alice\0pw"))
    assert caught.value.condition == "temporary-auth-failure"


def test_plainMechanism(source):
    """PLAIN returns the authzid and prepared username on success."""
    outcome = result(makeMechanism("PLAIN", source).step(b"alice@localhost\0Alice\0pw"))
    assert (outcome.username, outcome.authzid) == ("alice", "alice@localhost")
    with pytest.raises(SASLFailure):
        result(makeMechanism("PLAIN", source).step(b"\0alice\0wrong"))


def test_missingAccountCostsARealCheck(source):
    """A password for a missing account is checked in the hashing threads against stand-in credentials of the configured cost."""
    from jabberd.auth.credentials import checkPassword
    from jabberd.auth.hashing import InlineHashing

    calls = []

    class Recording(InlineHashing):
        def run(self, function, *args):
            calls.append((function, args))
            return InlineHashing.run(self, function, *args)

    source.hashing = Recording()
    assert result(source.verify(None, "nobody", "pw")) is False
    assert result(source.verify(result(source.lookup("alice")), "alice", "pw")) is True
    (missing, args), (real, _) = calls
    assert missing is real is checkPassword
    assert args[0]["SCRAM-SHA-256"]["iterations"] == source.iterations
