"""Tests for L{jabberd.s2s.dialback}: XEP-0185 keys and the db: elements of XEP-0220."""

import hashlib
import hmac

from jabberd.ns import NS_DIALBACK, NS_DIALBACK_FEATURE
from jabberd.s2s import dialback


def test_keyIsXEP0185():
    """The key is HMAC-SHA256 keyed by hex SHA-256(secret) over 'receiving originating id', in hex."""
    secret = "s3cr3tf0rd14lb4ck"
    keyed = hashlib.sha256(secret.encode()).hexdigest().encode()
    expected = hmac.new(keyed, b"example.net example.com D60000229F", hashlib.sha256).hexdigest()
    assert dialback.dialbackKey(secret, "example.net", "example.com", "D60000229F") == expected
    assert len(expected) == 64


def test_keyBindsEveryInput():
    """Changing the secret, either domain or the stream id changes the key."""
    base = dialback.dialbackKey("s", "b.test", "a.test", "id1")
    assert base != dialback.dialbackKey("t", "b.test", "a.test", "id1")
    assert base != dialback.dialbackKey("s", "a.test", "b.test", "id1")
    assert base != dialback.dialbackKey("s", "b.test", "a.test", "id2")


def test_keyMatches():
    """Only the key made for those inputs matches; surrounding whitespace is ignored."""
    key = dialback.dialbackKey("s", "b.test", "a.test", "id1")
    assert dialback.keyMatches("s", "b.test", "a.test", "id1", " " + key + "\n")
    assert not dialback.keyMatches("s", "b.test", "a.test", "id2", key)
    assert not dialback.keyMatches("s", "b.test", "a.test", "id1", "ü" + key[1:])


def test_elements():
    """db:result and db:verify carry from, to, id, type and the key as text."""
    result = dialback.result("a.test", "b.test", key="k1")
    assert (result.uri, result.name) == (NS_DIALBACK, "result")
    assert (result["from"], result["to"], str(result)) == ("a.test", "b.test", "k1")
    assert not result.hasAttribute("type")
    verify = dialback.verify("b.test", "a.test", "sid", type="valid")
    assert (verify.name, verify["id"], verify["type"], str(verify)) == (
        "verify", "sid", "valid", "")


def test_errorAnswer():
    """An error answer is type='error' with a stanza error condition that can be read back."""
    answer = dialback.withError(dialback.result("b.test", "a.test"), "item-not-found")
    assert answer["type"] == "error"
    assert dialback.errorCondition(answer) == "item-not-found"
    assert dialback.errorCondition(dialback.result("b.test", "a.test", type="invalid")) is None


def test_feature():
    """The dialback feature announces support for dialback errors."""
    feature = dialback.feature()
    assert (feature.uri, feature.name) == (NS_DIALBACK_FEATURE, "dialback")
    assert [child.name for child in feature.elements()] == ["errors"]
