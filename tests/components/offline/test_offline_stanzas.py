"""Tests for L{components.offline.stanzas}: stored text, delay stamps, XEP-0013 nodes."""

from twisted.words.xish import domish

from components.offline.stanzas import (DELAY_REASON, forDelivery, forStorage, idOfNode,
                                        isoStamp, nodeOf, senderOf)
from jabberd.ns import NS_CLIENT, NS_DELAY, NS_DELAY_LEGACY, NS_OFFLINE, NS_X_OOB
from jabberd.storage import OfflineMessage
from jabberd.stanza import parseElement
from tests.components.offline.offlinehelpers import chat

STAMP = 1700000000.25  # 2023-11-14T22:13:20.250Z
SERVERS = {"localhost"}


def _stored(message, stamp=STAMP, msgId=7):
    xml, _ = forStorage(message, SERVERS)
    return OfflineMessage(msgId, xml, stamp)


def test_isoStampIsUTCWithMilliseconds():
    """Epoch seconds become an XEP-0082 UTC date-time with milliseconds."""
    assert isoStamp(STAMP) == "2023-11-14T22:13:20.250Z"


def test_nodeRoundTrip():
    """A message's node carries its stamp and gives back its id."""
    node = nodeOf(OfflineMessage(42, "<message/>", STAMP))
    assert node.startswith("2023-11-14T22:13:20.250Z")
    assert idOfNode(node) == 42


def test_foreignNodeHasNoId():
    """Text that is not one of our nodes names no message."""
    assert idOfNode("2023-11-14T22:13:20Z") is None
    assert idOfNode("x/abc") is None and idOfNode("") is None


def test_storedTextIsTheMessage():
    """The stored text is the message as received, in jabber:client, payloads intact."""
    oob = domish.Element((NS_X_OOB, "x"))
    oob.addElement("url", content="http://example.org/f.png")
    xml, stamp = forStorage(chat("hello", children=[oob]), SERVERS)
    assert stamp is None
    parsed = parseElement(xml)
    assert (parsed.uri, parsed.name, parsed["from"]) == (NS_CLIENT, "message",
                                                         "alice@localhost/home")
    assert str(next(parsed.elements(NS_X_OOB, "x")).url) == "http://example.org/f.png"


def test_forStorageLeavesTheMessageAlone():
    """Storing never changes the sender's stanza."""
    message = chat("hello")
    before = message.toXml()
    forStorage(message, SERVERS)
    assert message.toXml() == before


def test_deliveryAddsBothDelayMarkers():
    """Delivery addresses the resource and adds XEP-0203 and XEP-0091 delays from the server."""
    message = forDelivery(_stored(chat("hello")), "bob@localhost/phone")
    assert message["to"] == "bob@localhost/phone"
    assert message["from"] == "alice@localhost/home"
    delay = next(message.elements(NS_DELAY, "delay"))
    # to the millisecond (XEP-0082): a client orders it among archived messages
    assert delay["from"] == "localhost" and delay["stamp"] == "2023-11-14T22:13:20.250Z"
    assert str(delay) == DELAY_REASON == "Offline Storage"
    legacy = next(message.elements(NS_DELAY_LEGACY, "x"))
    assert legacy["stamp"] == "20231114T22:13:20" and str(legacy) == DELAY_REASON
    assert next(message.elements(NS_OFFLINE, "offline"), None) is None


def test_deliveryWithNode():
    """For XEP-0013 the delivered message names its node."""
    stored = _stored(chat("hello"))
    message = forDelivery(stored, "bob@localhost/phone", node=True)
    item = next(next(message.elements(NS_OFFLINE, "offline")).elements(NS_OFFLINE, "item"))
    assert item["node"] == nodeOf(stored)


def test_restoredMessageKeepsFirstStamp():
    """A delivered message stored again keeps its first stamp and gets no second delay."""
    delivered = forDelivery(_stored(chat("again")), "bob@localhost/gone")
    xml, stamp = forStorage(delivered, SERVERS)
    assert stamp == STAMP
    redelivered = forDelivery(OfflineMessage(8, xml, stamp), "bob@localhost/back")
    assert len(list(redelivered.elements(NS_DELAY, "delay"))) == 1
    assert len(list(redelivered.elements(NS_DELAY_LEGACY, "x"))) == 1


def test_foreignDelayKept():
    """A delay added by someone else (a MUC, a remote server) is kept as it is."""
    foreign = domish.Element((NS_DELAY, "delay"))
    foreign["from"], foreign["stamp"] = "conference.example.org", "2001-01-01T00:00:00Z"
    xml, stamp = forStorage(chat("old", children=[foreign]), SERVERS)
    assert stamp is None
    assert "conference.example.org" in xml


def test_unreadableStoredText():
    """Stored text that is not a message cannot be delivered."""
    for xml in ("<presence/>", "<message", "<!DOCTYPE x><message/>"):
        try:
            forDelivery(OfflineMessage(1, xml, STAMP), "bob@localhost/r")
        except ValueError:
            continue
        raise AssertionError(f"{xml!r} was delivered")


def test_senderOf():
    """The sender of a stored message, or '' when it cannot be read."""
    assert senderOf(_stored(chat("x"))) == "alice@localhost/home"
    assert senderOf(OfflineMessage(1, "<oops", STAMP)) == ""
