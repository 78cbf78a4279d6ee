"""
Tests for L{jabberd.web.framing}: what BOSH and WebSocket framings share
(serialising stanzas for a foreign wrapper, the fake transport, the
security rule), and the C{[http]} keys of the web transports.
"""

import pytest

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.words.xish import domish

from jabberd.config import ConfigError, HTTPConfig, parse
from jabberd.web.framing import SessionTransport, countsAsSecure, serializeForWrapper


def test_stanzaKeepsExplicitClientNamespace():
    """A jabber:client stanza is written with its xmlns (the wrapper's default differs)."""
    message = domish.Element(("jabber:client", "message"))
    message.addElement("body", content="hi")
    assert serializeForWrapper(message) == "<message xmlns='jabber:client'><body>hi</body></message>"


def test_namespacelessStanzaBecomesClient():
    """A stanza built without a namespace (a roster push) is written in jabber:client."""
    iq = domish.Element((None, "iq"))
    iq.addElement(("jabber:iq:roster", "query"))
    assert serializeForWrapper(iq) == "<iq xmlns='jabber:client'><query xmlns='jabber:iq:roster'/></iq>"


def test_serverStanzaBecomesClient():
    """A stanza in jabber:server reaches the client in jabber:client (RFC 6120 section 4.8.3)."""
    presence = domish.Element(("jabber:server", "presence"))
    assert serializeForWrapper(presence) == "<presence xmlns='jabber:client'/>"


def test_streamElementsWithOrWithoutPrefix():
    """Stream features use the stream: prefix in BOSH and their own xmlns in WebSocket."""
    features = domish.Element(("http://etherx.jabber.org/streams", "features"))
    assert serializeForWrapper(features, streamPrefix=True) == "<stream:features/>"
    assert serializeForWrapper(features) == "<features xmlns='http://etherx.jabber.org/streams'/>"


def test_sessionTransportHasNoStartTLS():
    """The framings' transport reports addresses and cannot start TLS."""
    peer = IPv4Address("TCP", "127.0.0.1", 1)
    transport = SessionTransport(peer)
    assert transport.getPeer() is peer
    assert transport.getHost().host == ""
    assert not hasattr(transport, "startTLS")


@pytest.mark.parametrize("peer, expected", [
    (IPv4Address("TCP", "127.0.0.1", 1), True),
    (IPv4Address("TCP", "127.5.6.7", 1), True),
    (IPv6Address("TCP", "::1", 1), True),
    (IPv6Address("TCP", "::ffff:127.0.0.1", 1), True),
    (IPv4Address("TCP", "192.0.2.1", 1), False),
    (UNIXAddress(b"/tmp/socket"), False),
    (None, False),
])
def test_loopbackCountsAsSecure(peer, expected):
    """Plain HTTP counts as secure from loopback addresses only (by default)."""
    assert countsAsSecure(HTTPConfig(), False, peer) is expected


def test_httpsAndConsiderSecure():
    """HTTPS is always secure; consider_secure trusts plain HTTP; loopback_secure = no does not."""
    remote = IPv4Address("TCP", "192.0.2.1", 1)
    local = IPv4Address("TCP", "127.0.0.1", 1)
    assert countsAsSecure(HTTPConfig(), True, remote)
    assert countsAsSecure(HTTPConfig(considerSecure=True), False, remote)
    assert not countsAsSecure(HTTPConfig(loopbackSecure=False), False, local)


def test_webConfigDefaults():
    """Without [http] keys BOSH, WebSocket and the web chat are on at their usual paths."""
    h = parse("").http
    assert (h.boshPath, h.websocketPath, h.webchat, h.webchatPath) == \
        ("http-bind", "xmpp-websocket", True, "")
    assert (h.considerSecure, h.loopbackSecure) == (False, True)
    assert (h.boshMaxWait, h.boshMaxHold, h.boshInactivity, h.boshMaxPause, h.boshPolling) == \
        (60, 1, 60, 300, 2)


def test_webConfigValues():
    """The [http] keys are read, paths without their slashes; empty paths turn features off."""
    h = parse("[http]\nbosh_path = /bind/\nwebsocket_path =\nwebchat = no\nwebchat_path = chat\n"
              "consider_secure = yes\nbosh_max_wait = 20\nbosh_max_hold = 2\n").http
    assert (h.boshPath, h.websocketPath, h.webchat, h.webchatPath) == ("bind", "", False, "chat")
    assert h.considerSecure and (h.boshMaxWait, h.boshMaxHold) == (20, 2)


@pytest.mark.parametrize("text, key", [
    ("bosh_path = a/b", "bosh_path"),
    ("bosh_path = x\nwebsocket_path = x", "websocket_path"),
    ("bosh_max_wait = 0", "bosh_max_wait"),
    ("bosh_max_hold = many", "bosh_max_hold"),
    ("webchat = perhaps", "webchat"),
])
def test_webConfigErrorsNameTheKey(text, key):
    """A bad web key is a start-up error naming [http] and the key."""
    with pytest.raises(ConfigError, match=r"\[http\] " + key):
        parse("[http]\n" + text)
