"""
Tests for L{jabberd.sm.subscriptionrequests} and the presence handler's use
of it: waiting subscription requests (RFC 6121 section 3.1.3) are kept
trimmed and bounded per account.
"""

from jabberd.ns import NS_CLIENT
from jabberd.sm.subscriptionrequests import NS_NICK, keptRequest
from jabberd.stanza import firstChild, parseElement
from tests.sm.helpers import BOB, Harness, errorCondition, parse, presences


def _subscribe(sender, extra=""):
    return f"<presence from='{sender}' to='{BOB}' type='subscribe'>{extra}</presence>"


def test_keptRequestIsTrimmed():
    """Only from, to, type, status and nick are kept, each text cut to the bound."""
    stanza = parse(_subscribe("carol@remote.test/phone",
                              "<status>" + "s" * 50 + "</status>"
                              f"<nick xmlns='{NS_NICK}'>" + "n" * 50 + "</nick>"
                              "<x xmlns='urn:example:big'>" + "x" * 5000 + "</x>"))
    kept = keptRequest(stanza, "carol@remote.test", BOB, maxText=10)
    assert (kept["from"], kept["to"], kept["type"]) == ("carol@remote.test", BOB, "subscribe")
    assert kept.uri == NS_CLIENT
    assert [(c.uri, c.name, str(c)) for c in kept.elements()] == [
        (NS_CLIENT, "status", "s" * 10), (NS_NICK, "nick", "n" * 10)]


def test_keptRequestWithoutTexts():
    """A bare request is kept bare."""
    kept = keptRequest(parse(_subscribe("carol@remote.test")), "carol@remote.test", BOB)
    assert list(kept.elements()) == []


def test_storedRequestIsSmall():
    """What the store holds for a request with a large payload is only the trimmed request."""
    h = Harness()
    h.inbound(_subscribe("carol@remote.test", "<x xmlns='urn:example:big'>" + "x" * 100000 +
                         "</x><status>hello</status>"))
    xml = h.pending("bob")["carol@remote.test"]
    assert len(xml) < 300
    stored = parseElement(xml)
    assert stored.uri == NS_CLIENT
    assert str(firstChild(stored, name="status")) == "hello"


def test_requestsPastTheLimitRefused():
    """A request from one more sender than the limit gets resource-constraint and is not kept."""
    h = Harness()
    h.presence.maxPending = 2
    for n in range(3):
        h.inbound(_subscribe(f"user{n}@remote.test"))
    assert set(h.pending("bob")) == {"user0@remote.test", "user1@remote.test"}
    [refusal] = presences(h.routed(), "error", to="user2@remote.test")
    assert errorCondition(refusal) == "resource-constraint"


def test_repeatedRequestAtTheLimitKept():
    """A sender already waiting may ask again at the limit; its entry is replaced."""
    h = Harness()
    h.presence.maxPending = 2
    for sender in ("user0@remote.test", "user1@remote.test"):
        h.inbound(_subscribe(sender))
    h.inbound(_subscribe("user0@remote.test", "<status>again</status>"))
    assert presences(h.routed(), "error") == []
    assert "again" in h.pending("bob")["user0@remote.test"]


def test_answeredRequestFreesAPlace():
    """Once the user denies a request, another sender's request is kept."""
    h = Harness()
    h.presence.maxPending = 1
    h.inbound(_subscribe("user0@remote.test"))
    bob = h.bind("bob")
    h.send(bob, "<presence to='user0@remote.test' type='unsubscribed'/>")
    h.inbound(_subscribe("user1@remote.test"))
    assert set(h.pending("bob")) == {"user1@remote.test"}
