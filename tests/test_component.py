"""
Tests for L{jabberd.component}: the XEP-0114 listener, the component end,
in-process components and C{twistd jabberd-component}.
"""

from hashlib import sha1

import pytest
from twisted.application import service
from twisted.internet import defer, endpoints, reactor, task
from twisted.python import usage
from twisted.trial import unittest
from twisted.words.protocols.jabber.xmlstream import STREAM_END_EVENT
from twisted.words.xish import domish

from jabberd.component import tap as componenttap
from jabberd import config as configmod
from jabberd.component import (ComponentServerFactory, ExternalComponentService,
                               startInternalComponents)
from jabberd.component.accept import StandInRoute, StreamRoute
from jabberd.component.internal import loadPlugin
from jabberd.host import Host
from jabberd.ns import NS_CLIENT, NS_COMPONENT, NS_STREAMS, NS_XMPP_STANZAS, NS_XMPP_STREAMS
from jabberd.router import Router
from tests.routes import Collector
from tests.wire import Wire

CONFIG = """
[server]
domains = localhost
[component:conference.localhost]
secret = s3cret
[component:trusted.localhost]
secret = t0p
trusted = yes
[component:echo.localhost]
plugin = echo
[component:far.localhost]
plugin = echo
secret = f4r
external = yes
"""


class Peer(Wire):
    """One in-memory component connection to a L{ComponentServerFactory}."""

    def __init__(self, factory):
        Wire.__init__(self, factory.buildProtocol(None))
        self.xs = self.protocol
        self.start()

    def send(self, text):
        self.feed(text)

    def open(self, to, ns=NS_COMPONENT):
        self.send(f"<stream:stream xmlns='{ns}' xmlns:stream='{NS_STREAMS}' to='{to}'>")

    def handshake(self, secret):
        self.send("<handshake>%s</handshake>" % sha1((self.xs.sid + secret).encode()).hexdigest())

    def connect(self, to, secret):
        self.open(to)
        self.handshake(secret)
        return self

    def lose(self):
        self.xs.connectionLost(None)


def makeFactory(text=CONFIG):
    config = configmod.parse(text)
    router = Router()
    local = Collector("localhost")
    router.addRoute("localhost", local)
    return ComponentServerFactory(router, config, clock=task.Clock()), router, local


def stubServer(config):
    """The parts of L{jabberd.tap.Server} components use."""
    server = service.MultiService()
    server.config, server.router, server.storage = config, Router(), None
    return server


def message(sender, to, body="hi", ns=NS_CLIENT):
    el = domish.Element((ns, "message"))
    el["from"], el["to"], el["type"] = sender, to, "chat"
    el.addElement("body", content=body)
    return el


def test_streamHeader():
    """The server answers the header in jabber:component:accept, from the component's domain, with an id."""
    factory, _, _ = makeFactory()
    peer = Peer(factory)
    peer.open("conference.localhost")
    peer.read()
    assert peer.root.uri == NS_STREAMS and peer.root.defaultUri == NS_COMPONENT
    assert peer.root["from"] == "conference.localhost"
    assert peer.root["id"] == peer.xs.sid and "version" not in peer.root.attributes


def test_rightSecret():
    """A correct handshake is answered with an empty <handshake/> and the domain is routed to the stream."""
    factory, router, _ = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    assert [(el.uri, el.name) for el in peer.read()] == [(NS_COMPONENT, "handshake")]
    route = router.routes["conference.localhost"]
    assert isinstance(route, StreamRoute) and route.xmlstream is peer.xs and not route.trusted


def test_uppercaseDigest():
    """A handshake digest in upper-case hex is accepted too."""
    factory, router, _ = makeFactory()
    peer = Peer(factory)
    peer.open("conference.localhost")
    digest = sha1((peer.xs.sid + "s3cret").encode()).hexdigest().upper()
    peer.send(f"<handshake>{digest}</handshake>")
    assert isinstance(router.routes["conference.localhost"], StreamRoute)


def test_wrongSecret():
    """A wrong handshake gets a not-authorized stream error, the connection closes, nothing is routed."""
    factory, router, _ = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "wrong")
    assert peer.streamError() == "not-authorized"
    assert peer.transport.disconnecting
    assert isinstance(router.routes["conference.localhost"], StandInRoute)


def test_unknownDomain():
    """A domain without a [component:...] section gets host-unknown."""
    factory, _, _ = makeFactory()
    peer = Peer(factory)
    peer.open("stranger.localhost")
    assert peer.streamError() == "host-unknown"
    assert peer.transport.disconnecting


def test_inProcessDomainRefused():
    """A component the server runs in process (plugin, no external) cannot connect over TCP."""
    factory, _, _ = makeFactory()
    peer = Peer(factory)
    peer.open("echo.localhost")
    assert peer.streamError() == "host-unknown"


def test_wrongNamespace():
    """A stream not in jabber:component:accept gets invalid-namespace."""
    factory, _, _ = makeFactory()
    peer = Peer(factory)
    peer.open("conference.localhost", ns=NS_CLIENT)
    assert peer.streamError() == "invalid-namespace"


def test_stanzaBeforeHandshake():
    """A stanza sent before the handshake gets not-authorized and is not routed."""
    factory, _, local = makeFactory()
    peer = Peer(factory)
    peer.open("conference.localhost")
    peer.send("<message from='conference.localhost' to='a@localhost'><body>x</body></message>")
    assert peer.streamError() == "not-authorized"
    assert local.stanzas == []


def test_streamErrorBeforeHandshake():
    """A stream error as the first element fails the handshake with not-authorized."""
    factory, router, _ = makeFactory()
    peer = Peer(factory)
    peer.open("conference.localhost")
    peer.send(f"<stream:error><conflict xmlns='{NS_XMPP_STREAMS}'/></stream:error>")
    assert peer.streamError() == "not-authorized"
    assert isinstance(router.routes["conference.localhost"], StandInRoute)


def test_handshakeOnlyOnce():
    """After a wrong handshake a right one is ignored: the stream stays unattached."""
    factory, router, _ = makeFactory()
    peer = Peer(factory)
    peer.open("conference.localhost")
    peer.send("<handshake>wrong</handshake>")
    peer.handshake("s3cret")
    assert isinstance(router.routes["conference.localhost"], StandInRoute)


def test_secondConnectionConflict():
    """A second connection for a connected domain gets conflict; the first keeps the route."""
    factory, router, _ = makeFactory()
    first = Peer(factory).connect("conference.localhost", "s3cret")
    second = Peer(factory).connect("conference.localhost", "s3cret")
    assert second.streamError() == "conflict"
    assert second.transport.disconnecting and not first.transport.disconnecting
    assert router.routes["conference.localhost"].xmlstream is first.xs


def test_inboundRouted():
    """A stanza routed to the component's domain is written to its stream, in the stream's namespace."""
    factory, router, _ = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.read()
    router.route(message("a@localhost/r", "room@conference.localhost"))
    assert b"xmlns='jabber:client'" not in peer.transport.value()
    [received] = peer.read()
    assert (received.uri, received.name) == (NS_COMPONENT, "message")
    assert received["to"] == "room@conference.localhost" and str(received.body) == "hi"


def test_outboundRouted():
    """A stanza from the component reaches its target in jabber:client, payload namespaces untouched."""
    factory, _, local = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.send("<message from='room@conference.localhost/nick' to='a@localhost'>"
              "<body>x</body><x xmlns='jabber:x:conference'/></message>")
    [stanza] = local.stanzas
    assert stanza.uri == NS_CLIENT and stanza.body.uri == NS_CLIENT
    assert stanza.x.uri == "jabber:x:conference"


def test_bounceSerialisedInStreamNamespace():
    """An error bounce carrying the original payload is written without any jabber:client namespace."""
    factory, _, _ = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.read()
    peer.send("<message from='conference.localhost' to='a@nowhere.example'><body>x</body></message>")
    assert b"jabber:client" not in peer.transport.value()
    [bounce] = peer.read()
    assert bounce.body.uri == NS_COMPONENT
    assert next(bounce.error.elements(NS_XMPP_STANZAS)).name == "remote-server-not-found"


def test_untrustedSpoofRefused():
    """An untrusted component sending from another domain is not delivered and gets not-authorized back."""
    factory, _, local = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.read()
    peer.send("<message from='victim@localhost' to='a@localhost' id='m1'><body>x</body></message>")
    assert local.stanzas == []
    [bounce] = peer.read()
    assert bounce["type"] == "error" and bounce["to"] == "conference.localhost"
    assert next(bounce.error.elements(NS_XMPP_STANZAS)).name == "not-authorized"


def test_trustedMaySpoof():
    """A trusted component may send from any address."""
    factory, _, local = makeFactory()
    peer = Peer(factory).connect("trusted.localhost", "t0p")
    peer.send("<message from='someone@localhost' to='a@localhost'><body>x</body></message>")
    assert [s["from"] for s in local.stanzas] == ["someone@localhost"]


def test_missingFromStamped():
    """A stanza without from is taken as from the component's domain."""
    factory, _, local = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.send("<message to='a@localhost'><body>x</body></message>")
    assert local.stanzas[0]["from"] == "conference.localhost"


def test_missingToBounced():
    """A stanza without to comes back to the component as jid-malformed."""
    factory, _, _ = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.read()
    peer.send("<iq type='get' id='q1' from='conference.localhost'><query xmlns='jabber:iq:version'/></iq>")
    [bounce] = peer.read()
    assert bounce.name == "iq" and bounce["type"] == "error" and bounce["id"] == "q1"
    assert next(bounce.error.elements(NS_XMPP_STANZAS)).name == "jid-malformed"


def test_nonStanzaRefused():
    """A top-level element that is no stanza ends the stream with unsupported-stanza-type."""
    factory, _, _ = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.read()
    peer.send("<handshake>again</handshake>")
    assert peer.streamError() == "unsupported-stanza-type"


def test_notWellFormed():
    """Malformed XML gets a not-well-formed stream error."""
    factory, _, _ = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.read()
    peer.send("<message><body>x</bod></message>")
    assert peer.streamError() == "not-well-formed"
    assert peer.transport.disconnecting


def test_restrictedXML():
    """A DTD in the stream is refused with restricted-xml (the hardened parser is in use)."""
    factory, _, _ = makeFactory()
    peer = Peer(factory)
    peer.send("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>")
    assert peer.streamError() == "restricted-xml"


def test_stanzaSizeLimit():
    """A stanza over [server] max_stanza_size ends the stream with policy-violation."""
    factory, _, _ = makeFactory(CONFIG.replace("[server]", "[server]\nmax_stanza_size = 1000"))
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.read()
    peer.send("<message to='a@localhost'><body>%s" % ("x" * 2000))
    assert peer.streamError() == "policy-violation"


def test_handshakeTimeout():
    """A connection that does not authenticate in time gets connection-timeout."""
    factory, _, _ = makeFactory()
    peer = Peer(factory)
    peer.open("conference.localhost")
    factory.clock.advance(factory.handshakeTimeout)
    assert peer.streamError() == "connection-timeout"


def test_disconnectRemovesRoute():
    """When the stream ends its route goes; stanzas then bounce service-unavailable, presence is dropped."""
    factory, router, local = makeFactory()
    peer = Peer(factory).connect("conference.localhost", "s3cret")
    peer.lose()
    assert isinstance(router.routes["conference.localhost"], StandInRoute)
    presence = domish.Element((NS_CLIENT, "presence"))
    presence["from"], presence["to"] = "a@localhost/r", "room@conference.localhost"
    router.route(presence)
    router.route(message("a@localhost/r", "room@conference.localhost"))
    [bounce] = local.stanzas
    assert bounce.name == "message" and bounce["from"] == "room@conference.localhost"
    assert next(bounce.error.elements(NS_XMPP_STANZAS)).name == "service-unavailable"


def test_reconnectAfterDisconnect():
    """After a disconnect the component may connect again."""
    factory, router, _ = makeFactory()
    Peer(factory).connect("conference.localhost", "s3cret").lose()
    again = Peer(factory).connect("conference.localhost", "s3cret")
    assert router.routes["conference.localhost"].xmlstream is again.xs


def test_internalComponentsStarted():
    """startInternalComponents attaches in-process plugins only, and they answer at once."""
    config = configmod.parse(CONFIG)
    server = stubServer(config)
    [child] = startInternalComponents(server)
    assert child.name == "component:echo.localhost"
    assert "far.localhost" not in server.router.routes
    local = Collector("localhost")
    server.router.addRoute("localhost", local)
    server.router.route(message("a@localhost/r", "echo.localhost", body="ping"))
    assert [str(s.body) for s in local.stanzas] == ["ping"]


def test_internalComponentStop():
    """Stopping an in-process component's service removes its route."""
    server = stubServer(configmod.parse(CONFIG))
    server.startService()
    startInternalComponents(server)
    assert "echo.localhost" in server.router.routes
    server.stopService()
    assert "echo.localhost" not in server.router.routes


def test_unknownPlugin():
    """A plugin that cannot be imported is a ConfigError naming the section."""
    config = configmod.parse("[component:x.localhost]\nplugin = nonesuch\n")
    with pytest.raises(configmod.ConfigError, match=r"\[component:x.localhost\] plugin"):
        loadPlugin(config.components["x.localhost"])


def test_externalNeedsSecret():
    """external = yes without a secret is refused at start-up."""
    with pytest.raises(configmod.ConfigError, match="secret"):
        configmod.parse("[component:x.localhost]\nplugin = echo\nexternal = yes\n")


def test_tapRouterEndpoint(tmp_path):
    """jabberd-component derives the router's client endpoint from [components] listen."""
    path = tmp_path / "jabberd.ini"
    path.write_text(CONFIG + "[components]\nlisten = tcp:5347:interface=127.0.0.1\n")
    options = componenttap.Options()
    options.parseOptions(["-c", str(path), "far.localhost"])
    assert options["router"] == "tcp:host=127.0.0.1:port=5347"
    assert options["component"].secret == "f4r"


def test_tapBoundPort(tmp_path):
    """With a port 0 listener the router port is read from ports.json."""
    path = tmp_path / "jabberd.ini"
    path.write_text(CONFIG + "[components]\nlisten = tcp:0\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ports.json").write_text('{"components": 40123}')
    options = componenttap.Options()
    options.parseOptions(["-c", str(path), "far.localhost"])
    assert options["router"] == "tcp:host=127.0.0.1:port=40123"


def test_tapRefusesInProcess(tmp_path):
    """jabberd-component refuses a section the server runs in process, and unknown domains."""
    path = tmp_path / "jabberd.ini"
    path.write_text(CONFIG)
    for domain in ("echo.localhost", "nowhere.localhost"):
        with pytest.raises(usage.UsageError):
            componenttap.Options().parseOptions(["-c", str(path), domain])


def test_tapMakeService(tmp_path):
    """makeService builds the plugin's host behind an ExternalComponentService."""
    path = tmp_path / "jabberd.ini"
    path.write_text(CONFIG)
    options = componenttap.Options()
    options.parseOptions(["-c", str(path), "far.localhost"])
    connection = componenttap.makeService(options).getServiceNamed("component:far.localhost")
    assert isinstance(connection, ExternalComponentService)
    assert connection.host.domains == ["far.localhost"]


def test_disconnectedHostDrops():
    """While not connected, what the component's host sends is dropped and counted."""
    host = Host(["far.localhost"])
    connection = ExternalComponentService(host, "far.localhost", "f4r", "tcp:host=127.0.0.1:port=1")
    host.send(message("far.localhost", "a@localhost"))
    assert connection.dropped == 1 and connection.xmlstream is None


class LoopbackTests(unittest.TestCase):
    """Both ends of XEP-0114 over real TCP on 127.0.0.1."""

    @defer.inlineCallbacks
    def setUp(self):
        self.config = configmod.parse(CONFIG)
        self.router = Router()
        self.local = Collector("localhost")
        self.router.addRoute("localhost", self.local)
        factory = ComponentServerFactory(self.router, self.config)
        self.port = yield endpoints.TCP4ServerEndpoint(
            reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(self.port.stopListening)

    def startComponent(self, secret):
        component = self.config.components["far.localhost"]
        host = loadPlugin(component).makeHost(self.config, component, None)
        connection = ExternalComponentService(
            host, "far.localhost", secret,
            f"tcp:host=127.0.0.1:port={self.port.getHost().port}")
        connection.startService()
        self.addCleanup(connection.stopService)
        return connection

    @defer.inlineCallbacks
    def test_echoOverTCP(self):
        """The echo component connects through the listener and answers a message routed to it."""
        connection = self.startComponent("f4r")
        yield connection.whenAuthenticated()
        self.assertIsInstance(self.router.routes["far.localhost"], StreamRoute)
        answered = defer.Deferred()
        self.local.deliver = answered.callback
        self.router.route(message("a@localhost/r", "far.localhost", body="over tcp"))
        reply = yield answered
        self.assertEqual((reply.uri, reply["from"], reply["to"], str(reply.body)),
                         (NS_CLIENT, "far.localhost", "a@localhost/r", "over tcp"))

    @defer.inlineCallbacks
    def test_wrongSecretOverTCP(self):
        """With a wrong secret the component never authenticates and backs off."""
        connection = self.startComponent("nope")
        lost = defer.Deferred()
        connection.factory.addBootstrap(STREAM_END_EVENT, lambda _: lost.callback(None))
        yield lost
        self.assertIsNone(connection.xmlstream)
        self.assertIsInstance(self.router.routes["far.localhost"], StandInRoute)
