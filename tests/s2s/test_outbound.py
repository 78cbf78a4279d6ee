"""Tests for L{jabberd.s2s.outbound} and L{jabberd.s2s.service}: sending to remote domains, in memory."""

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.internet.error import ConnectionRefusedError
from twisted.words.xish import domish

from jabberd.ns import NS_CLIENT, NS_DIALBACK, NS_TLS, NS_XMPP_STANZAS
from jabberd.s2s import dialback
from tests.s2s.helpers import CONFIG, makeListener, makeService
from tests.wire import Wire

NO_TLS = CONFIG + "require_tls = no\n"
REMOTE_HEADER = ("<stream:stream xmlns='jabber:server' xmlns:stream="
                 "'http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
                 "from='b.test' to='a.test' id='remote-sid' version='1.0'>")
DIALBACK_ONLY = ("<stream:features><dialback xmlns='urn:xmpp:features:dialback'><errors/>"
                 "</dialback></stream:features>")


def chat(sender="alice@a.test/home", to="bob@b.test", body="hi"):
    message = domish.Element((NS_CLIENT, "message"))
    message["from"], message["to"], message["type"] = sender, to, "chat"
    message.addElement("body", content=body)
    return message


def dial(text=NO_TLS):
    """Send one message to b.test; return the service, the local route, the reactor and the wire."""
    service, router, local, reactor = makeService(text)
    router.route(chat())
    [(host, port, factory, timeout, _)] = reactor.tcpClients
    assert (host, port, timeout) == ("127.0.0.1", 5999, 5)
    wire = Wire(factory.buildProtocol(None)).start()
    return service, local, reactor, wire, factory


def test_headerThenKey():
    """We open jabber:server from a.test to b.test, then send the XEP-0185 key for its stream id."""
    service, _, _, wire, _ = dial()
    wire.read()
    assert wire.root["from"] == "a.test" and wire.root["to"] == "b.test"
    assert not wire.root.hasAttribute("id")
    wire.feed(REMOTE_HEADER + DIALBACK_ONLY)
    [result] = wire.read()
    assert (result.uri, result.name, result["from"], result["to"]) == (
        NS_DIALBACK, "result", "a.test", "b.test")
    assert str(result) == dialback.dialbackKey("sekrit", "b.test", "a.test", "remote-sid")


def test_queuedUntilValid():
    """Stanzas wait until the peer says valid, then go out in order; later ones go straight out."""
    service, local, reactor, wire, _ = dial()
    service.router.route(chat(body="second"))
    wire.feed(REMOTE_HEADER + DIALBACK_ONLY)
    wire.read()
    wire.feed("<db:result from='b.test' to='a.test' type='valid'/>")
    bodies = [str(el.body) for el in wire.read()]
    assert bodies == ["hi", "second"]
    service.router.route(chat(body="third"))
    assert b"jabber:client" not in wire.transport.value()
    [third] = wire.read()
    assert str(third.body) == "third" and third.uri == "jabber:server"
    assert reactor.getDelayedCalls() == []  # the connect timeout was cancelled
    assert local.stanzas == []


def test_invalidKeyBounces():
    """If the peer answers invalid, the queued stanzas bounce with remote-server-not-found."""
    service, local, _, wire, _ = dial()
    wire.feed(REMOTE_HEADER + DIALBACK_ONLY)
    wire.feed("<db:result from='b.test' to='a.test' type='invalid'/>")
    wire.protocol.connectionLost(Failure(ConnectionRefusedError()))
    [bounce] = local.stanzas
    assert bounce["type"] == "error" and bounce["to"] == "alice@a.test/home"
    assert next(bounce.error.elements(NS_XMPP_STANZAS)).name == "remote-server-not-found"
    assert service.pairs == {}


def test_connectionRefusedBounces():
    """When no connection can be made, queued stanzas bounce and the next one dials again."""
    service, router, local, reactor = makeService(NO_TLS)
    router.route(chat())
    [(_, _, factory, _, _)] = reactor.tcpClients
    factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
    [bounce] = local.stanzas
    assert next(bounce.error.elements(NS_XMPP_STANZAS)).name == "remote-server-not-found"
    router.route(chat())
    assert len(reactor.tcpClients) == 2


def test_timeoutBounces():
    """A peer that never completes dialback makes the stanzas bounce with remote-server-timeout."""
    service, local, reactor, wire, _ = dial()
    reactor.advance(5)
    [bounce] = local.stanzas
    assert next(bounce.error.elements(NS_XMPP_STANZAS)).name == "remote-server-timeout"
    assert wire.protocol.closing


def test_requireTLSWithoutOffer():
    """Under require_tls a peer that offers no STARTTLS gets no key, and the stanzas bounce."""
    service, local, _, wire, _ = dial(CONFIG)
    wire.feed(REMOTE_HEADER + DIALBACK_ONLY)
    assert [el.name for el in wire.read()] == []
    wire.protocol.connectionLost(Failure(ConnectionRefusedError()))
    assert len(local.stanzas) == 1 and local.stanzas[0]["type"] == "error"


def test_startTLSTaken():
    """An offered STARTTLS is taken before dialback (RFC 6120 5.4.1)."""
    service, _, _, wire, _ = dial(CONFIG)
    wire.read()
    wire.feed(REMOTE_HEADER + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
              "<required/></starttls></stream:features>")
    [starttls] = wire.read()
    assert (starttls.uri, starttls.name) == (NS_TLS, "starttls")


def test_fromRemoteDomainNotSent():
    """A stanza whose sender is not one of our domains is never sent out (no relaying)."""
    service, router, local, reactor = makeService(NO_TLS)
    service.send(chat(sender="eve@c.test"))
    assert reactor.tcpClients == []


def test_verifyRequest():
    """verifyKey opens a stream to the claimed domain, sends db:verify and reports the answer."""
    service, router, local, reactor = makeService(NO_TLS)
    results = []
    service.verifyKey("a.test", "b.test", "our-sid", "k3y").addBoth(results.append)
    [(_, _, factory, _, _)] = reactor.tcpClients
    wire = Wire(factory.buildProtocol(None)).start()
    wire.feed(REMOTE_HEADER + DIALBACK_ONLY)
    [question] = wire.read()
    assert (question.name, question["id"], question["from"], question["to"], str(question)) == (
        "verify", "our-sid", "a.test", "b.test", "k3y")
    wire.feed("<db:verify from='b.test' to='a.test' id='our-sid' type='valid'/>")
    assert results == [True]
    assert wire.protocol.closing


def test_verifyTimesOut():
    """An authoritative server that never answers makes the check fail after connect_timeout."""
    service, router, local, reactor = makeService(NO_TLS)
    results = []
    service.verifyKey("a.test", "b.test", "our-sid", "k3y").addBoth(results.append)
    reactor.advance(5)
    assert len(results) == 1 and isinstance(results[0], Failure)


def test_closingStreamRedials():
    """Stanzas sent while a working stream closes wait for a new one instead of being lost."""
    service, local, reactor, wire, _ = dial()
    wire.feed(REMOTE_HEADER + DIALBACK_ONLY)
    wire.feed("<db:result from='b.test' to='a.test' type='valid'/>")
    wire.protocol.closeStream()
    service.router.route(chat(body="late"))
    wire.protocol.connectionLost(Failure(ConnectionRefusedError()))
    assert len(reactor.tcpClients) == 2 and local.stanzas == []
    fresh = Wire(reactor.tcpClients[1][2].buildProtocol(None)).start()
    fresh.feed(REMOTE_HEADER + DIALBACK_ONLY)
    fresh.feed("<db:result from='b.test' to='a.test' type='valid'/>")
    assert [str(el.body) for el in fresh.read() if el.name == "message"] == ["late"]


def test_idleStreamsClosed():
    """Streams both ways that were quiet for idle_timeout are closed; the next stanza dials again."""
    factory, service, local = makeListener(NO_TLS + "idle_timeout = 60\n")
    reactor = factory.clock
    factory.doStart()
    service.router.route(chat())
    [(_, _, outFactory, _, _)] = reactor.tcpClients
    wire = Wire(outFactory.buildProtocol(None)).start()
    wire.feed(REMOTE_HEADER + DIALBACK_ONLY)
    wire.feed("<db:result from='b.test' to='a.test' type='valid'/>")
    inbound = Wire(factory.buildProtocol(None)).start()
    inbound.feed("<stream:stream xmlns='jabber:server' xmlns:stream="
                 "'http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
                 "from='b.test' to='a.test' version='1.0'>")
    service.verifyKey = lambda *args: defer.succeed(True)
    inbound.feed("<db:result from='b.test' to='a.test'>k3y</db:result>")
    assert inbound.protocol.authorized
    reactor.advance(30)
    service.router.route(chat(body="keeps it busy"))
    reactor.advance(45)  # the inbound stream was quiet for 75 s, the outbound for 45
    assert inbound.protocol.closing and not wire.protocol.closing
    reactor.advance(30)
    assert wire.protocol.closing
    wire.protocol.connectionLost(Failure(ConnectionRefusedError()))
    assert service.pairs == {} and local.stanzas == []
    service.router.route(chat(body="later"))
    assert len(reactor.tcpClients) == 2
    factory.doStop()
    assert factory._sweep is None


def test_idleTimeoutOff():
    """With idle_timeout = 0 nothing is swept."""
    factory, _, _ = makeListener(NO_TLS + "idle_timeout = 0\n")
    factory.doStart()
    assert factory._sweep is None
