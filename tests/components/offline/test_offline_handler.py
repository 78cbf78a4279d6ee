"""
Tests for L{components.offline.handler}: the store and deliver requests of
the session manager, on the component's host.
"""

from twisted.words.xish import domish

from components.offline.stanzas import forDelivery
from jabberd.ns import NS_DELAY, NS_DELAY_LEGACY, NS_OFFLINE_STORE, NS_X_OOB
from jabberd.storage.memory import MemoryStorage
from tests.components.offline.offlinehelpers import (SlowStorage, ask, chat, condition,
                                                     deliverIQ, makeHost, storeIQ, stored)


def test_storeAnswersEmptyResult():
    """A store request is answered with an empty result and the message is kept for the user."""
    host = makeHost()
    _, reply = ask(host, storeIQ(chat("hello")))
    assert reply["type"] == "result" and reply["to"] == "localhost"
    assert list(reply.elements()) == []
    [message] = stored(host)
    assert "hello" in message.xml and "alice@localhost/home" in message.xml


def test_resultOnlyAfterCommit():
    """The result is sent only once the storage has committed the message."""
    storage = SlowStorage()
    host = makeHost(storage)
    host.receive(storeIQ(chat("hello")))
    assert host.sent == []
    storage.flush()
    [reply] = host.sent
    assert reply["type"] == "result" and len(stored(host)) == 1


def test_storeKeyedByRecipientUsername():
    """A message to a full JID is kept for the account of its bare JID."""
    host = makeHost()
    ask(host, storeIQ(chat("x", to="Bob@localhost/gone")))
    assert len(stored(host, "bob")) == 1


def test_quotaFullIsResourceConstraint():
    """With the quota reached the store answers resource-constraint and keeps nothing more."""
    host = makeHost(quota="1")
    ask(host, storeIQ(chat("one")))
    _, reply = ask(host, storeIQ(chat("two")))
    assert condition(reply) == "resource-constraint"
    assert len(stored(host)) == 1


def test_onlyTheServerMayStore():
    """A store request from anyone but a server domain is forbidden."""
    host = makeHost()
    for sender in ("alice@localhost/home", "evil.example", "offline.localhost"):
        _, reply = ask(host, storeIQ(chat("x"), sender=sender))
        assert condition(reply) == "forbidden"
    assert stored(host) == []


def test_storeRefusesRemoteRecipient():
    """A message for a user of another domain is a bad request."""
    host = makeHost()
    _, reply = ask(host, storeIQ(chat("x", to="bob@example.org")))
    assert condition(reply) == "bad-request"


def test_storeRefusesGroupchatHeadlineError():
    """Only chat and normal messages are kept (XEP-0160 section 3): others are not acceptable."""
    host = makeHost()
    for kind in ("groupchat", "headline", "error"):
        _, reply = ask(host, storeIQ(chat("x", kind=kind)))
        assert condition(reply) == "not-acceptable"
    ask(host, storeIQ(chat("normal", kind=None)))
    ask(host, storeIQ(chat("odd type means normal", kind="bogus")))
    assert len(stored(host)) == 2


def test_storeWithoutMessage():
    """A store request with nothing forwarded is a bad request."""
    host = makeHost()
    iq = deliverIQ("bob@localhost/x")
    iq.children = []
    iq.addElement((NS_OFFLINE_STORE, "store"))
    _, reply = ask(host, iq)
    assert condition(reply) == "bad-request"


def test_oobPayloadStoredIntact():
    """A jabber:x:oob payload survives storage and delivery unchanged."""
    oob = domish.Element((NS_X_OOB, "x"))
    oob.addElement("url", content="http://localhost/upload/t/f.txt")
    oob.addElement("desc", content="a file")
    host = makeHost()
    ask(host, storeIQ(chat("see this", children=[oob])))
    sent, _ = ask(host, deliverIQ("bob@localhost/phone"))
    [message] = sent
    x = next(message.elements(NS_X_OOB, "x"))
    assert str(x.url) == "http://localhost/upload/t/f.txt" and str(x.desc) == "a file"


def test_deliverSendsInOrderFromSendersThenForgets():
    """Deliver sends each message to the resource from its sender, oldest first, then forgets them."""
    host = makeHost()
    ask(host, storeIQ(chat("first", sender="alice@localhost/a")))
    ask(host, storeIQ(chat("second", sender="carol@example.org/c")))
    sent, reply = ask(host, deliverIQ("bob@localhost/phone"))
    assert [str(m.body) for m in sent] == ["first", "second"]
    assert [m["from"] for m in sent] == ["alice@localhost/a", "carol@example.org/c"]
    assert all(m["to"] == "bob@localhost/phone" for m in sent)
    for message in sent:
        assert next(message.elements(NS_DELAY, "delay"))["from"] == "localhost"
        assert next(message.elements(NS_DELAY_LEGACY, "x"), None) is not None
    assert next(reply.elements(NS_OFFLINE_STORE, "deliver"))["count"] == "2"
    assert stored(host) == []


def test_deliverResultAfterMessages():
    """The deliver result comes after every delivered message."""
    host = makeHost()
    ask(host, storeIQ(chat("x")))
    host.receive(deliverIQ("bob@localhost/phone"))
    assert [s.name for s in host.sent[-2:]] == ["message", "iq"]


def test_deliverNothing():
    """Delivering to a user without messages sends nothing and counts zero."""
    host = makeHost()
    sent, reply = ask(host, deliverIQ("bob@localhost/phone"))
    assert sent == []
    assert next(reply.elements(NS_OFFLINE_STORE, "deliver"))["count"] == "0"


def test_deliverNeedsLocalFullJID():
    """Deliver to a bare JID or a remote user is a bad request; from a user, forbidden."""
    host = makeHost()
    for jid in ("bob@localhost", "bob@example.org/x", "localhost/x"):
        _, reply = ask(host, deliverIQ(jid))
        assert condition(reply) == "bad-request"
    _, reply = ask(host, deliverIQ("bob@localhost/x", sender="bob@localhost/x"))
    assert condition(reply) == "forbidden"


def test_unreadableMessageSkipped():
    """A stored text that cannot be parsed is dropped, the others are delivered."""
    storage = MemoryStorage()
    storage.offline.store("bob", "<message")
    host = makeHost(storage)
    ask(host, storeIQ(chat("good")))
    sent, _ = ask(host, deliverIQ("bob@localhost/phone"))
    assert [str(m.body) for m in sent] == ["good"]


def test_deliveredMessageMatchesStanzaHelper():
    """What deliver sends is what forDelivery makes of the stored message."""
    host = makeHost()
    ask(host, storeIQ(chat("same")))
    [kept] = stored(host)
    sent, _ = ask(host, deliverIQ("bob@localhost/phone"))
    assert sent[0].toXml() == forDelivery(kept, "bob@localhost/phone").toXml()
