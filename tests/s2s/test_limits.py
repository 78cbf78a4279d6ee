"""
Tests for the bounds on where and how often s2s dials out (L{jabberd.s2s.service}
with L{jabberd.s2s.addresses}): dialback checks per domain and in total, IP-literal
and private destinations.
"""

from twisted.internet import defer
from twisted.python.failure import Failure

from jabberd.s2s import dialback
from jabberd.s2s.outbound import S2SError
from tests.s2s.helpers import CONFIG, makeListener, makeService
from tests.s2s.test_outbound import chat
from tests.wire import Wire

NO_TLS = CONFIG + "require_tls = no\n"
LIMITS = NO_TLS + "max_verifications = 3\nmax_verifications_per_domain = 2\n"


def check(service, originating, results):
    """Start a key check for C{originating}; its outcome goes to C{results}."""
    service.verifyKey("a.test", originating, "sid", "k3y").addBoth(results.append)


def test_perDomainLimit():
    """A third concurrent check for one domain fails at once with resource-constraint."""
    service, _, _, reactor = makeService(LIMITS)
    results = []
    for _ in range(3):
        check(service, "b.test", results)
    assert len(reactor.tcpClients) == 2
    [refused] = results
    assert isinstance(refused, Failure) and refused.value.condition == "resource-constraint"


def test_totalLimit():
    """Checks for distinct domains stop at max_verifications in all."""
    text = LIMITS.replace("hosts = b.test=127.0.0.1:5999",
                          "hosts = b.test=127.0.0.1:5999 c.test=127.0.0.1:5998 "
                          "d.test=127.0.0.1:5997")
    service, _, _, reactor = makeService(text)
    results = []
    for domain in ("b.test", "b.test", "c.test", "d.test"):
        check(service, domain, results)
    assert len(reactor.tcpClients) == 3
    assert [r.value.condition for r in results] == ["resource-constraint"]


def test_refusalsLoggedOncePerInterval():
    """A flood of refused checks is warned of once per interval, with the count, not once per claim."""
    from twisted.logger import globalLogPublisher
    service, _, _, reactor = makeService(LIMITS)
    service.REFUSAL_LOG_INTERVAL = 1.0  # shorter than the checks' own timeout
    warnings = []

    def observe(event):
        if "refused" in event.get("log_format", ""):
            warnings.append(event["count"])
    globalLogPublisher.addObserver(observe)
    try:
        results = []
        for _ in range(50):
            check(service, "b.test", results)
        reactor.advance(service.REFUSAL_LOG_INTERVAL)
        check(service, "b.test", results)
    finally:
        globalLogPublisher.removeObserver(observe)
    assert len(results) == 49
    assert warnings == [1, 48]


def test_finishedChecksFreeTheirPlace():
    """Once a check ends (here by timing out), a new one may start."""
    service, _, _, reactor = makeService(LIMITS)
    results = []
    check(service, "b.test", results)
    check(service, "b.test", results)
    reactor.advance(5)
    assert len(results) == 2 and service.verifications == {}
    check(service, "b.test", results)
    assert len(reactor.tcpClients) == 3 and len(results) == 2


def test_answeredCheckFreesItsPlace():
    """An answered check is counted no more."""
    service, _, _, reactor = makeService(LIMITS)
    results = []
    check(service, "b.test", results)
    wire = Wire(reactor.tcpClients[0][2].buildProtocol(None)).start()
    wire.feed("<stream:stream xmlns='jabber:server' "
              "xmlns:stream='http://etherx.jabber.org/streams'"
              " xmlns:db='jabber:server:dialback' from='b.test' to='a.test' id='x'>")
    wire.feed("<db:verify from='b.test' to='a.test' id='sid' type='valid'/>")
    assert results == [True]
    assert service.verifications == {} and service.verificationsTotal == 0


def test_refusedCheckAnsweredWithResourceConstraint():
    """The peer whose key cannot be checked now gets a resource-constraint dialback error."""
    factory, service, _ = makeListener(NO_TLS)
    service.verifyKey = lambda *args: defer.fail(S2SError("resource-constraint"))
    peer = Wire(factory.buildProtocol(None)).start()
    peer.feed("<stream:stream xmlns='jabber:server' "
              "xmlns:stream='http://etherx.jabber.org/streams'"
              " xmlns:db='jabber:server:dialback' from='b.test' to='a.test' version='1.0'>")
    peer.read()
    peer.feed("<db:result from='b.test' to='a.test'>k3y</db:result>")
    [answer] = peer.read()
    assert answer["type"] == "error"
    assert dialback.errorCondition(answer) == "resource-constraint"


def test_ipLiteralBounces():
    """A message to an IP-literal domain bounces remote-server-not-found without a connection."""
    service, router, local, reactor = makeService(NO_TLS)
    router.route(chat(to="x@10.0.0.5"))
    assert reactor.tcpClients == [] and service.pairs == {}
    [bounce] = local.stanzas
    assert bounce["type"] == "error"
    assert next(bounce.elements(None, "error")).firstChildElement().name == \
        "remote-server-not-found"


def test_privateAddressBounces():
    """Without an allowance, a domain mapped to loopback is not dialed and its queue bounces."""
    service, router, local, reactor = makeService(NO_TLS.replace(
        "allowed_networks = 127.0.0.0/8\n", ""))
    router.route(chat())
    reactor.advance(0)
    assert reactor.tcpClients == [] and service.pairs == {}
    [bounce] = local.stanzas
    assert next(bounce.elements(None, "error")).firstChildElement().name == \
        "remote-server-not-found"


def test_connectingBounded():
    """Past max_connecting streams being set up, a stanza for one more domain bounces."""
    text = NO_TLS.replace("hosts = b.test=127.0.0.1:5999",
                          "hosts = b.test=127.0.0.1:5999 c.test=127.0.0.1:5998\n"
                          "max_connecting = 1")
    service, router, local, reactor = makeService(text)
    router.route(chat())
    router.route(chat(to="carol@c.test"))
    assert len(reactor.tcpClients) == 1 and list(service.pairs) == [("a.test", "b.test")]
    [bounce] = local.stanzas
    assert bounce["from"] == "carol@c.test"
    assert next(bounce.elements(None, "error")).firstChildElement().name == "resource-constraint"
    router.route(chat(body="still queued"))
    assert len(local.stanzas) == 1  # the domain being set up still takes stanzas
