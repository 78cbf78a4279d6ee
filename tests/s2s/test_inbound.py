"""Tests for L{jabberd.s2s.inbound}: the receiving end of a server-to-server stream, in memory."""

import pytest
from twisted.internet import defer

from jabberd.ns import (NS_CLIENT, NS_COMPONENT, NS_DIALBACK, NS_DIALBACK_FEATURE, NS_SERVER,
                        NS_STREAMS, NS_TLS)
from jabberd.s2s import dialback
from tests.s2s.helpers import CONFIG, HEADER, makeListener
from tests.wire import Wire

NO_TLS = CONFIG + "require_tls = no\n"


def connect(text=NO_TLS, sender="b.test", to="a.test", extra="version='1.0'"):
    factory, service, local = makeListener(text)
    peer = Wire(factory.buildProtocol(None)).start()
    peer.feed(HEADER.format(sender=sender, to=to, extra=extra))
    return peer, service, local


def authorize(peer, service, valid=True):
    """Have the peer present a key that the stubbed authoritative server judges."""
    asked = []
    service.verifyKey = lambda *args: asked.append(args) or defer.succeed(valid)
    peer.read()
    peer.feed("<db:result from='b.test' to='a.test'>k3y</db:result>")
    return asked, peer.read()


def test_headerAndFeatures():
    """The answer header is from our domain with a stream id; features offer dialback (XEP-0220 2.1)."""
    peer, _, _ = connect()
    [features] = peer.read()
    assert peer.root.defaultUri == NS_SERVER
    assert peer.root["from"] == "a.test" and peer.root["id"]
    assert peer.root.localPrefixes.get("db") == NS_DIALBACK
    assert (features.uri, features.name) == (NS_STREAMS, "features")
    assert [(c.uri, c.name) for c in features.elements()] == [(NS_DIALBACK_FEATURE, "dialback")]


def test_startTLSOfferedAndRequired():
    """With a TLS context and require_tls, STARTTLS is offered as required (RFC 6120 5.3.1)."""
    factory, _, _ = makeListener()
    factory.contextFactory = object()
    peer = Wire(factory.buildProtocol(None)).start()
    peer.feed(HEADER.format(sender="b.test", to="a.test", extra="version='1.0'"))
    [features] = peer.read()
    starttls = next(features.elements(NS_TLS, "starttls"))
    assert [c.name for c in starttls.elements()] == ["required"]


def test_unknownHost():
    """A stream to a domain we do not serve ends with host-unknown."""
    peer, _, _ = connect(to="c.test")
    assert peer.streamError() == "host-unknown"


def test_wrongNamespace():
    """A stream in jabber:client on the server port ends with invalid-namespace."""
    factory, _, _ = makeListener(NO_TLS)
    peer = Wire(factory.buildProtocol(None)).start()
    peer.feed(HEADER.format(sender="b.test", to="a.test", extra="version='1.0'")
              .replace("xmlns='jabber:server'", f"xmlns='{NS_CLIENT}'"))
    assert peer.streamError() == "invalid-namespace"


def test_dialbackNeedsTLS():
    """Under require_tls a key on a plain stream ends it with policy-violation."""
    peer, _, _ = connect(CONFIG)
    peer.read()
    peer.feed("<db:result from='b.test' to='a.test'>k3y</db:result>")
    assert peer.streamError() == "policy-violation"


def test_validKeyAuthorizes():
    """A key the authoritative server confirms is answered valid; then stanzas are routed in."""
    peer, service, local = connect()
    asked, answer = authorize(peer, service)
    assert asked == [("a.test", "b.test", peer.protocol.sid, "k3y")]
    [result] = answer
    assert (result.name, result["type"], result["from"], result["to"]) == (
        "result", "valid", "a.test", "b.test")
    peer.feed("<message from='bob@b.test/r' to='alice@a.test' type='chat'><body>hi</body></message>")
    [message] = local.stanzas
    assert message.uri == NS_CLIENT and message["from"] == "bob@b.test/r"
    assert str(message.body) == "hi" and message.body.uri == NS_CLIENT


def test_invalidKeyRefused():
    """A key the authoritative server denies is answered invalid and authorizes nothing."""
    peer, service, local = connect()
    _, answer = authorize(peer, service, valid=False)
    assert answer[0]["type"] == "invalid"
    peer.feed("<message from='bob@b.test' to='alice@a.test'><body>x</body></message>")
    assert peer.streamError() == "invalid-from"
    assert local.stanzas == []


def test_unverifiableKey():
    """When the authoritative server cannot be reached the answer is an error, not valid."""
    peer, service, _ = connect()
    service.verifyKey = lambda *args: defer.fail(RuntimeError("no route"))
    peer.read()
    peer.feed("<db:result from='b.test' to='a.test'>k3y</db:result>")
    [answer] = peer.read()
    assert answer["type"] == "error"
    assert dialback.errorCondition(answer) == "remote-server-not-found"


def test_keyForDomainWeDoNotHost():
    """A key for a receiving domain we do not host is answered with item-not-found."""
    peer, _, _ = connect()
    peer.read()
    peer.feed("<db:result from='b.test' to='c.test'>k3y</db:result>")
    [answer] = peer.read()
    assert dialback.errorCondition(answer) == "item-not-found"


def test_spoofedSenderDomain():
    """After proving b.test, a stanza from another domain ends the stream with invalid-from."""
    peer, service, local = connect()
    authorize(peer, service)
    peer.feed("<message from='eve@evil.test' to='alice@a.test'><body>x</body></message>")
    assert peer.streamError() == "invalid-from"
    assert local.stanzas == []


def test_stanzaWithoutAddresses():
    """A stanza without from or to ends the stream with improper-addressing (RFC 6120 4.9.3.7)."""
    peer, service, _ = connect()
    authorize(peer, service)
    peer.feed("<message to='alice@a.test'><body>x</body></message>")
    assert peer.streamError() == "improper-addressing"


def test_verifyAsAuthoritativeServer():
    """db:verify is answered valid only for a key we made for that stream (XEP-0220 2.3)."""
    peer, service, _ = connect()
    peer.read()
    key = dialback.dialbackKey(service.secret, "b.test", "a.test", "sid-1")
    peer.feed(f"<db:verify from='b.test' to='a.test' id='sid-1'>{key}</db:verify>")
    peer.feed(f"<db:verify from='b.test' to='a.test' id='sid-2'>{key}</db:verify>")
    first, second = peer.read()
    assert (first["type"], first["id"], first["from"], first["to"]) == (
        "valid", "sid-1", "a.test", "b.test")
    assert (second["type"], second["id"]) == ("invalid", "sid-2")


def test_unknownElement():
    """An element that is neither a stanza nor dialback ends the stream (RFC 6120 4.9.3.22)."""
    peer, _, _ = connect()
    peer.read()
    peer.feed("<query xmlns='jabber:iq:version'/>")
    assert peer.streamError() == "unsupported-stanza-type"


@pytest.mark.parametrize("ns", [NS_COMPONENT, NS_CLIENT])
def test_foreignStanzaRefused(ns):
    """A stanza in another stream's namespace is no jabber:server stanza: it ends the stream."""
    peer, service, local = connect()
    authorize(peer, service)
    peer.feed(f"<message xmlns='{ns}' from='b.test' to='a.test'/>")
    assert (peer.streamError(), local.stanzas) == ("unsupported-stanza-type", [])


def test_ownDomainClaimRefused():
    """A peer claiming one of our own domains ends with invalid-from, without a verification."""
    peer, service, _ = connect(sender="a.test")
    asked = []
    service.verifyKey = lambda *args: asked.append(args)
    peer.read()
    peer.feed("<db:result from='a.test' to='a.test'>k3y</db:result>")
    assert peer.streamError() == "invalid-from" and asked == []


def test_unprovenPeerTimedOut():
    """A connection that proves no domain within twice connect_timeout ends with connection-timeout."""
    factory, service, _ = makeListener(NO_TLS)
    peer = Wire(factory.buildProtocol(None)).start()
    peer.feed(HEADER.format(sender="b.test", to="a.test", extra="version='1.0'"))
    peer.read()
    factory.clock.advance(10)
    assert peer.streamError() == "connection-timeout"


def test_provenPeerStays():
    """A peer that proved its domain is not cut off by the negotiation deadline."""
    factory, service, _ = makeListener(NO_TLS)
    peer = Wire(factory.buildProtocol(None)).start()
    peer.feed(HEADER.format(sender="b.test", to="a.test", extra="version='1.0'"))
    authorize(peer, service)
    factory.clock.advance(10)
    assert peer.read() == [] and not peer.protocol.closing


def test_malformedDialback():
    """A key without a usable from, or a verify without an id, ends the stream with improper-addressing."""
    for element in ("<db:result from='not a domain@' to='a.test'>k</db:result>",
                    "<db:result from='bob@b.test' to='a.test'>k</db:result>",
                    "<db:verify from='b.test' to='a.test'>k</db:verify>"):
        peer, _, _ = connect()
        peer.read()
        peer.feed(element)
        assert peer.streamError() == "improper-addressing", element


def test_oversizedStanzaRefused():
    """A stanza over max_stanza_size ends the stream with policy-violation, as on client streams."""
    peer, service, local = connect(NO_TLS.replace("domains = a.test\n",
                                                  "domains = a.test\nmax_stanza_size = 1024\n"))
    authorize(peer, service)
    peer.feed("<message from='bob@b.test' to='alice@a.test'><body>" + "x" * 4096 + "</body></message>")
    assert peer.streamError() == "policy-violation"
    assert local.stanzas == []


def test_connectionsPerAddressRefused():
    """Past [connections] max_per_address another server's connection gets policy-violation."""
    factory, service, local = makeListener(NO_TLS + "[connections]\nmax_per_address = 2\n")
    peers = [Wire(factory.buildProtocol(None)).start() for i in range(3)]
    assert b"policy-violation" in peers[2].transport.value()
    assert b"policy-violation" not in peers[0].transport.value()
    peers[0].protocol.connectionLost(None)
    assert factory.limiter.total == 1
