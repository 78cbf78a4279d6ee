"""
Tests for L{jabberd.c2s.register}: the XEP-0077 stream feature and
registration iqs from unauthenticated streams, answered by the register
component through the session manager (all in memory).
"""

import pytest

from twisted.internet import address
from twisted.internet.task import Clock

from jabberd.c2s.listener import C2SFactory, defaultNegotiators
from jabberd.c2s.register import RegisterNegotiator, registrationOpen
from jabberd.config import ConfigError, parse as parseConfig
from jabberd.ns import NS_REGISTER, NS_REGISTER_FEATURE
from tests.c2s.helpers import (HEADER, NS_STREAMS, Client, TLSTransport, bindIQ, child, plain,
                               streamError)
from tests.components.register.reghelpers import CONFIG, RegWorld, condition

GET = "<iq type='get' id='g1' to='localhost'><query xmlns='jabber:iq:register'/></iq>"
SET = ("<iq type='set' id='s1'><query xmlns='jabber:iq:register'>"
       "<username>%s</username><password>%s</password></query></iq>")


class C2SWorld(RegWorld):
    """The in-memory server of the register tests with a c2s factory in front."""

    def __init__(self, open="yes", requireTLS="yes"):
        RegWorld.__init__(self, open)
        self.config.c2s.requireTLS = requireTLS == "yes"
        self.factory = C2SFactory(self.config, self.sm, object(), clock=Clock())

    def connect(self, secure=True, ip="198.51.100.4"):
        peer = address.IPv4Address("TCP", ip, 40000)
        client = Client(self.factory, TLSTransport(peerAddress=peer))
        client.stream.secure = secure
        return client


def _features(elements):
    features = next(e for e in elements if (e.uri, e.name) == (NS_STREAMS, "features"))
    return [(c.uri, c.name) for c in features.elements()]


def test_negotiatorOnlyWithComponent():
    """The negotiator is used only when a trusted component answers jabber:iq:register."""
    assert RegisterNegotiator in defaultNegotiators(parseConfig(CONFIG.format(open="no")))
    assert RegisterNegotiator not in defaultNegotiators(parseConfig(""))
    assert registrationOpen(parseConfig(CONFIG.format(open="yes")))
    assert not registrationOpen(parseConfig(CONFIG.format(open="no")))


def test_badOpenIsStartupError():
    """A value of open that is not yes or no fails when the listener is built, naming section and key."""
    with pytest.raises(ConfigError, match=r"\[component:[^\]]+\] open"):
        defaultNegotiators(parseConfig(CONFIG.format(open="maybe")))


def test_featureAdvertisedBeforeAuth():
    """An encrypted, unauthenticated stream is offered the register feature."""
    client = C2SWorld().connect()
    assert (NS_REGISTER_FEATURE, "register") in _features(client.send(HEADER))


def test_featureWaitsForTLS():
    """With require_tls the feature is not offered on a cleartext stream."""
    client = C2SWorld().connect(secure=False)
    assert (NS_REGISTER_FEATURE, "register") not in _features(client.send(HEADER))


def test_featureNotOfferedWhenClosed():
    """With open = no the feature is not advertised."""
    client = C2SWorld(open="no").connect()
    assert (NS_REGISTER_FEATURE, "register") not in _features(client.send(HEADER))


def test_featureGoneAfterAuth():
    """After authentication the register feature is not offered again."""
    world = C2SWorld()
    world.addUser("alice", "pw")
    client = world.connect()
    client.send(HEADER)
    client.send(plain("alice", "pw"))
    assert (NS_REGISTER_FEATURE, "register") not in _features(client.send(HEADER))


def test_preAuthGetIsAnswered():
    """A register get before authentication comes back on the same stream."""
    client = C2SWorld().connect()
    client.send(HEADER)
    reply = client.send(GET)[0]
    assert (reply.name, reply["type"], reply["id"]) == ("iq", "result", "g1")
    assert child(child(reply, "query", NS_REGISTER), "username") is not None
    assert not client.stream.closing


def test_registerThenLogin():
    """A client registers before authenticating, then logs in with the new account."""
    world = C2SWorld()
    client = world.connect()
    client.send(HEADER)
    reply = client.send(SET % ("newbie", "pw1"))[0]
    assert reply["type"] == "result" and reply["id"] == "s1"
    success = client.send(plain("newbie", "pw1"))[0]
    assert success.name == "success"
    client.send(HEADER)
    bound = client.send(bindIQ("home"))[0]
    assert bound["type"] == "result"
    assert client.stream.session.full == "newbie@localhost/home"


def test_duplicateIsConflict():
    """Registering a taken name answers conflict on the stream."""
    world = C2SWorld()
    world.addUser("alice", "pw")
    client = world.connect()
    client.send(HEADER)
    assert condition(client.send(SET % ("alice", "x"))[0]) == "conflict"


def test_closedRegistrationNotAllowed():
    """With open = no a registration attempt is not-allowed and the stream stays up."""
    client = C2SWorld(open="no").connect()
    client.send(HEADER)
    assert condition(client.send(SET % ("newbie", "pw"))[0]) == "not-allowed"
    assert not client.stream.closing


def test_cleartextIsPolicyViolation():
    """On a stream that still needs TLS registration is refused with policy-violation."""
    world = C2SWorld()
    client = world.connect(secure=False)
    client.send(HEADER)
    assert condition(client.send(SET % ("newbie", "pw"))[0]) == "policy-violation"
    assert world.storage.accounts.data == {}


def test_cleartextAllowedWithoutRequireTLS():
    """Without require_tls a cleartext stream is offered and may use registration."""
    world = C2SWorld(requireTLS="no")
    client = world.connect(secure=False)
    assert (NS_REGISTER_FEATURE, "register") in _features(client.send(HEADER))
    assert condition(client.send(SET % ("newbie", "pw"))[0]) is None


def test_otherPreAuthStanzaStillRefused():
    """Any other iq before authentication ends the stream with not-authorized."""
    client = C2SWorld().connect()
    client.send(HEADER)
    out = client.send("<iq type='get' id='v'><query xmlns='jabber:iq:version'/></iq>")
    assert streamError(out) == "not-authorized"


def test_registerToOtherEntityRefused():
    """A pre-auth register iq to another entity than the server is not passed."""
    client = C2SWorld().connect()
    client.send(HEADER)
    out = client.send("<iq type='get' id='x' to='conference.localhost'>"
                      "<query xmlns='jabber:iq:register'/></iq>")
    assert streamError(out) == "not-authorized"


def test_withoutComponentPreAuthRefused():
    """Without a registration component a pre-auth register iq ends the stream."""
    world = C2SWorld()
    world.config.components.clear()
    factory = C2SFactory(world.config, world.sm, object(), clock=Clock())
    client = Client(factory)
    client.stream.secure = True
    client.send(HEADER)
    assert streamError(client.send(GET)) == "not-authorized"


def test_temporaryAddressCarriesIPAndIsFreed():
    """The temporary address records the client IP and is forgotten when the stream ends."""
    world = C2SWorld()
    client = world.connect(ip="203.0.113.9")
    client.send(HEADER)
    client.send(GET)
    (addr, preAuth), = world.sm.preAuth.items()
    assert addr.startswith("localhost/preauth-") and preAuth.clientIP == "203.0.113.9"
    client.send(GET.replace("g1", "g2"))
    assert len(world.sm.preAuth) == 1
    client.lose()
    assert world.sm.preAuth == {}


def test_afterBindRegisterIsOrdinaryIq():
    """Once bound, a register iq (password change) goes to the session manager as the user."""
    world = C2SWorld()
    world.addUser("alice", "old")
    client = world.connect()
    client.send(HEADER)
    client.send(plain("alice", "old"))
    client.send(HEADER)
    client.send(bindIQ("home"))
    reply = client.send(SET % ("alice", "new"))[0]
    assert reply["type"] == "result" and reply["to"] == "alice@localhost/home"
    assert world.passwordIs("alice", "new")
    assert world.sm.preAuth == {}
