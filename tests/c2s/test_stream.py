"""
Tests for L{jabberd.c2s.stream}: headers, features, stanza flow, errors and
connection lifetime of a client stream (RFC 6120 sections 4, 7, 8).
"""

import socket

from twisted.internet import defer, reactor, tcp
from twisted.words.xish import domish

from jabberd.c2s.negotiation import Negotiator, handlesIQ
from jabberd.c2s.stream import ClientStream, parseVersion, shareWriteState
from jabberd.dispatch import handles
from jabberd.stanza import toClientNamespace
from jabberd.handler import Handler
from jabberd.ns import NS_CLIENT, NS_COMPONENT, NS_SERVER
from tests.c2s.helpers import (HEADER, LEGACY_HEADER, NS_STREAMS, Server, child, login, plain,
                               streamError)


def test_headerAttributes():
    """The response header names the domain, a stream id, version 1.0 and xml:lang."""
    client = Server().connect()
    client.send(HEADER)
    header = client.header
    assert (header.uri, header.name) == (NS_STREAMS, "stream")
    assert header.defaultUri == NS_CLIENT
    assert header["from"] == "localhost"
    assert header["version"] == "1.0"
    assert len(header["id"]) >= 16
    assert header[("http://www.w3.org/XML/1998/namespace", "lang")] == "en"


def test_headerEchoesClientFrom():
    """The client's 'from' comes back as the header's 'to' (RFC 6120 section 4.7.2)."""
    client = Server().connect()
    client.send(HEADER.replace("to='localhost'", "to='localhost' from='alice@localhost'"))
    assert client.header["to"] == "alice@localhost"


def test_headerEscapesTheClientsFrom():
    """A 'from' with XML special characters comes back escaped, the header well-formed."""
    client = Server().connect()
    client.send(HEADER.replace("to='localhost'",
                               "to='localhost' from='alice@localhost/x&amp;y&lt;&apos;z'"))
    assert client.header["to"] == "alice@localhost/x&y<'z"
    assert client.header["from"] == "localhost"


def test_featuresMadeOncePerPhase(monkeypatch):
    """
    Streams in the same phase share one serialised <features/>; another
    phase (here: encrypted) gets its own, with what that phase offers.
    """
    server = Server()
    built = []
    original = ClientStream.buildFeatures
    monkeypatch.setattr(ClientStream, "buildFeatures",
                        lambda self: built.append(self) or original(self))
    first, second = server.connect(), server.connect()
    [features1] = first.send(HEADER)
    [features2] = second.send(HEADER)
    assert len(built) == 1
    assert features1.toXml() == features2.toXml()
    assert child(features1, "starttls") is not None
    secure = server.connect()
    secure.stream.secure = True
    [features3] = secure.send(HEADER)
    assert len(built) == 2
    assert child(features3, "starttls") is None
    assert [m.children[0] for m in child(features3, "mechanisms").elements()] == \
        list(server.config.c2s.mechanisms)


def test_featuresFollowHeader():
    """A version 1.0 header is answered with stream features."""
    client = Server().connect()
    elements = client.send(HEADER)
    assert [(e.uri, e.name) for e in elements] == [(NS_STREAMS, "features")]


def test_secondDomainServed():
    """Any configured domain may be addressed; the header answers from it."""
    client = Server().connect()
    client.send(HEADER.replace("to='localhost'", "to='Example.ORG'"))
    assert client.header["from"] == "example.org"


def test_unknownHostIsHostUnknown():
    """A header to a domain not served gets host-unknown after our header."""
    client = Server().connect()
    elements = client.send(HEADER.replace("to='localhost'", "to='elsewhere.net'"))
    assert streamError(elements) == "host-unknown"
    assert client.output.closed
    assert client.transport.disconnecting


def test_wrongNamespaceIsInvalidNamespace():
    """A header with a default namespace other than jabber:client gets invalid-namespace."""
    client = Server().connect()
    elements = client.send(HEADER.replace("xmlns='jabber:client'", "xmlns='jabber:server'"))
    assert streamError(elements) == "invalid-namespace"


def test_futureVersionIsUnsupported():
    """A major version above 1 gets unsupported-version."""
    client = Server().connect()
    elements = client.send(HEADER.replace("version='1.0'", "version='2.0'"))
    assert streamError(elements) == "unsupported-version"


def test_parseVersion():
    """Versions parse as (major, minor); missing or garbage means a pre-1.0 stream."""
    assert parseVersion("1.0") == (1, 0)
    assert parseVersion("1.10") == (1, 10)
    assert parseVersion(None) == (0, 9)
    assert parseVersion("one") == (0, 9)


def test_legacyHeaderGetsNoFeatures():
    """A header without version gets a header without version and no features."""
    client = Server().connect()
    elements = client.send(LEGACY_HEADER)
    assert elements == []
    assert client.header.getAttribute("version") is None


def test_stanzaBeforeAuthIsNotAuthorized():
    """A message before authentication ends the stream with not-authorized."""
    server = Server()
    client = server.connect()
    client.send(HEADER)
    elements = client.send("<message to='bob@localhost'><body>x</body></message>")
    assert streamError(elements) == "not-authorized"
    assert server.routed == []


def test_stanzaAfterAuthBeforeBindIsNotAuthorized():
    """A presence after SASL but before binding ends the stream with not-authorized."""
    server = Server()
    server.addUser("alice", "pw")
    client = server.connect()
    client.stream.secure = True
    client.send(HEADER)
    client.send(plain("alice", "pw"))
    client.send(HEADER)
    assert streamError(client.send("<presence/>")) == "not-authorized"


def test_preAuthHook():
    """A subclass may take pre-authentication stanzas instead of the stream error."""
    taken = []

    class Registering(ClientStream):
        def onPreAuthStanza(self, element):
            taken.append(element)

    server = Server()
    server.factory.protocol = Registering
    client = server.connect()
    client.send(HEADER)
    assert client.send("<iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>") == []
    assert [e.name for e in taken] == ["iq"]


def test_unknownElementIsUnsupportedStanzaType():
    """A first-level element that is neither stanza nor negotiation gets unsupported-stanza-type."""
    client = Server().connect()
    client.send(HEADER)
    assert streamError(client.send("<foo xmlns='urn:example'/>")) == "unsupported-stanza-type"


def test_malformedXmlIsNotWellFormed():
    """Malformed XML ends a client stream with not-well-formed."""
    client = Server().connect()
    client.send(HEADER)
    assert streamError(client.send("<message><body>x</mess>")) == "not-well-formed"


def test_doctypeIsRestrictedXml():
    """A DTD before the header gets restricted-xml."""
    client = Server().connect()
    elements = client.send("<?xml version='1.0'?><!DOCTYPE a [<!ENTITY b 'c'>]>" + HEADER[21:])
    assert streamError(elements) == "restricted-xml"


def test_oversizedStanzaIsPolicyViolation():
    """A stanza over [server] max_stanza_size gets policy-violation."""
    server = Server()
    server.addUser("alice", "pw")
    client = login(server)
    body = "x" * 5000
    elements = client.send("<message to='bob@localhost'><body>%s</body></message>" % body)
    assert streamError(elements) == "policy-violation"
    assert server.routed == []


def test_boundStanzasGoToSessionManager():
    """After binding, stanzas reach the session manager with 'from' stamped."""
    server = Server()
    server.addUser("alice", "pw")
    client = login(server)
    client.send("<message to='bob@example.org' from='mallory@evil'><body>hi</body></message>")
    assert len(server.routed) == 1
    assert server.routed[0]["from"] == "alice@localhost/home"
    assert server.routed[0]["to"] == "bob@example.org"


def test_clientClosingTag():
    """The client's closing tag is answered with ours and the connection dropped."""
    server = Server()
    server.addUser("alice", "pw")
    client = login(server)
    client.send("</stream:stream>")
    assert client.output.closed
    assert client.transport.disconnecting


def test_clientStreamError():
    """A stream error from the client closes the stream without answering one."""
    client = Server().connect()
    client.send(HEADER)
    elements = client.send("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                           "</stream:error>")
    assert streamError(elements) is None
    assert client.output.closed


class Ends(Handler):
    """Counts sessionEnded calls."""

    def __init__(self):
        self.ended = []

    def sessionEnded(self, session):
        self.ended.append(session.full)


def test_connectionLostUnbindsOnce():
    """A dropped connection unbinds its session exactly once."""
    server = Server()
    ends = server.sm.addHandler(Ends())
    server.addUser("alice", "pw")
    client = login(server)
    assert server.sm.session("alice@localhost/home") is client.stream.session
    client.lose()
    client.lose()
    assert ends.ended == ["alice@localhost/home"]
    assert server.sm.session("alice@localhost/home") is None


def test_noOutputAfterClose():
    """Nothing is written once the closing tag has been sent."""
    server = Server()
    server.addUser("alice", "pw")
    client = login(server)
    session = client.stream.session
    client.stream.closeWithError("system-shutdown")
    client.output.read()
    session.stream.send(domish.Element((NS_CLIENT, "message")))
    assert client.transport.value() == b""


def test_idleTimeout():
    """No input for idle_timeout seconds ends the stream with connection-timeout."""
    server = Server()
    server.config.server.idleTimeout = 60
    client = server.connect()
    client.send(HEADER)
    server.clock.advance(50)
    client.send(" ")
    server.clock.advance(50)
    assert streamError(client.output.read()) is None
    server.clock.advance(11)
    assert streamError(client.output.read()) == "connection-timeout"


def test_keepalive():
    """A quiet stream gets a whitespace keepalive every keepalive_interval seconds."""
    server = Server()
    server.config.server.keepaliveInterval = 30
    client = server.connect()
    client.send(HEADER)
    server.clock.advance(30)
    assert client.transport.value() == b" "
    client.transport.clear()
    server.clock.advance(30)
    assert client.transport.value() == b" "


def test_timersCancelledOnClose():
    """Losing the connection cancels the keepalive and idle timers."""
    server = Server()
    server.config.server.keepaliveInterval = 30
    server.config.server.idleTimeout = 60
    client = server.connect()
    client.send(HEADER)
    client.lose()
    assert server.clock.getDelayedCalls() == []


def test_foreignNamespaceRewritten():
    """Stanzas from jabber:server or a component reach the client as jabber:client."""
    server = Server()
    server.addUser("alice", "pw")
    client = login(server)
    for uri in (NS_SERVER, NS_COMPONENT):
        message = domish.Element((uri, "message"))
        message.addElement("body", content="hi")
        client.stream.session.deliver(message)
        out = client.transport.value()
        client.output.read()
        assert uri.encode() not in out
        assert client.output.elements[-1].uri == NS_CLIENT


def test_toClientNamespaceNested():
    """Nested stanzas (e.g. forwarded ones) are moved to jabber:client too."""
    outer = domish.Element((NS_SERVER, "message"))
    inner = outer.addElement(("urn:xmpp:forward:0", "forwarded")).addElement((NS_SERVER, "message"))
    toClientNamespace(outer)
    assert outer.uri == NS_CLIENT and inner.uri == NS_CLIENT
    assert child(outer, "forwarded").uri == "urn:xmpp:forward:0"


class SlowAccounts:
    """An account store whose credential look-ups wait for the test to answer them."""

    def __init__(self, accounts):
        self.accounts = accounts
        self.pending = []

    def get(self, username):
        d = defer.Deferred()
        self.pending.append((d, username))
        return d

    def answer(self):
        d, username = self.pending.pop(0)
        self.accounts.get(username).addCallback(d.callback)


def test_inputHeldDuringLookup():
    """Stanzas pipelined behind a pending login are handled after it, in order."""
    server = Server(require_tls="no")
    server.addUser("alice", "pw")
    slow = SlowAccounts(server.storage.accounts)
    server.factory.credentials.accounts = slow
    client = server.connect()
    client.send("<stream:stream xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>")
    client.send("<iq type='set' id='a1'><query xmlns='jabber:iq:auth'><username>alice</username>"
                "<password>pw</password><resource>old</resource></query></iq>"
                "<message to='bob@localhost'><body>first</body></message>")
    assert server.routed == []
    slow.answer()
    assert [e.name for e in client.output.read()] == ["iq"]
    assert [str(child(m, "body")) for m in server.routed] == ["first"]


def test_nothingHandledAfterClose():
    """Stanzas in the same read after a stream error are not processed."""
    server = Server()
    server.addUser("alice", "pw")
    client = login(server)
    client.send("<foo xmlns='urn:example'/><message to='bob@example.org'/>")
    assert server.routed == []


def test_negotiatorsDroppedAfterBinding():
    """Binding frees the negotiators; a second bind and a late <auth/> are still refused."""
    server = Server()
    server.addUser("alice", "pw")
    client = login(server)
    assert client.stream._negotiators is None
    [iq] = client.send("<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert iq["type"] == "error" and child(child(iq, "error"), "not-allowed") is not None
    assert client.stream._negotiators is None
    assert streamError(client.send(plain("alice", "pw"))) == "policy-violation"


def test_restingStreamDropsItsParser():
    """After restAfter seconds without input the parser is freed; the next stanza still flows."""
    server = Server()
    server.addUser("alice", "pw")
    client = login(server)
    server.clock.advance(ClientStream.restAfter)
    assert client.stream.stream.parser is None
    assert server.clock.getDelayedCalls() == []
    client.send("<message to='bob@example.org'><body>hi</body></message>")
    assert [str(child(m, "body")) for m in server.routed] == ["hi"]
    assert client.stream.stream.parser is not None


class _Ping(Negotiator):
    """A negotiator marking one first-level element and one iq payload namespace."""

    seen = []

    @handles("urn:test:ping", "ping")
    def onPing(self, element):
        self.seen.append(element.name)
        self.stream.send(domish.Element(("urn:test:ping", "pong")))

    @handlesIQ("urn:test:ping")
    def onPingIQ(self, iq, payload):
        self.seen.append(payload.name)
        self.sendResult(iq)
        return True


def test_markedNegotiatorElements():
    """A negotiator's marked element and iq handlers take them before authentication."""
    server = Server()
    server.factory.negotiators = server.factory.negotiators + [_Ping]
    _Ping.seen = []
    client = server.connect()
    client.send(HEADER)
    [pong] = client.send("<ping xmlns='urn:test:ping'/>")
    assert (pong.uri, pong.name) == ("urn:test:ping", "pong")
    [result] = client.send("<iq type='get' id='p1'><q xmlns='urn:test:ping'/></iq>")
    assert result["type"] == "result" and _Ping.seen == ["ping", "q"]


def test_firstNegotiatorWins():
    """When two negotiator classes mark the same element, the first in the list handles it."""

    class Other(_Ping):
        @handles("urn:test:ping", "ping")
        def onOtherPing(self, element):
            self.seen.append("other")

    server = Server()
    server.factory.negotiators = [_Ping, Other] + server.factory.negotiators
    _Ping.seen = []
    client = server.connect()
    client.send(HEADER)
    client.send("<ping xmlns='urn:test:ping'/>")
    assert _Ping.seen == ["ping"]


class Nonzas(Handler):
    """Records the nonzas offered to it and takes those in urn:example:nonza."""

    def __init__(self):
        self.offered = []

    def onNonza(self, session, element):
        self.offered.append((session.full, element.name))
        return element.uri == "urn:example:nonza"


def test_boundNonzaGoesToSessionManager():
    """After binding, a first-level element that is not a stanza is offered to onNonza."""
    server = Server()
    nonzas = server.sm.addHandler(Nonzas())
    server.addUser("alice", "pw")
    client = login(server)
    assert client.send("<ping xmlns='urn:example:nonza'/>") == []
    assert nonzas.offered == [("alice@localhost/home", "ping")]
    assert not client.transport.disconnecting


def test_unhandledNonzaIsUnsupportedStanzaType():
    """A bound stream's nonza that no onNonza hook takes gets unsupported-stanza-type."""
    server = Server()
    nonzas = server.sm.addHandler(Nonzas())
    server.addUser("alice", "pw")
    client = login(server)
    assert streamError(client.send("<foo xmlns='urn:example'/>")) == "unsupported-stanza-type"
    assert nonzas.offered == [("alice@localhost/home", "foo")]


def test_nonzaBeforeBindingNotOffered():
    """Before a resource is bound, a nonza never reaches the session manager."""
    server = Server()
    nonzas = server.sm.addHandler(Nonzas())
    client = server.connect()
    client.send(HEADER)
    assert streamError(client.send("<ping xmlns='urn:example:nonza'/>")) == \
        "unsupported-stanza-type"
    assert nonzas.offered == []


def test_stanzasOverTheRateWaitEvenWithinOneRead():
    """With stanza_rate 2, five messages in one read: three reach the session manager now, two after the pause."""
    server = Server(stanza_rate="2", stanza_burst="2", input_rate="0")
    server.addUser("alice", "pw")
    client = login(server)
    del server.routed[:]
    client.send("".join("<message to='bob@example.org' id='m%d'><body>hi</body></message>" % n
                        for n in range(5)))
    assert [m["id"] for m in server.routed] == ["m0", "m1", "m2"]
    assert client.transport.producerState == "paused"
    server.clock.advance(1)
    assert [m["id"] for m in server.routed] == ["m0", "m1", "m2", "m3", "m4"]


def test_streamNamesFitOneSharedKeyTable():
    """
    Over a whole life (connect, log in, bind, chat, lose the connection),
    streams set at most 29 attribute names, so CPython keeps one shared key
    table for all of them instead of a 1.5 KB dict per held connection.
    """
    server = Server()
    server.addUser("alice", "pw")
    names = set()
    for _ in range(2):
        client = login(server)
        client.send("<message to='bob@example.org'><body>hi</body></message>")
        names.update(vars(client.stream))
        client.lose()
        names.update(vars(client.stream))
    assert len(names) <= 29, sorted(names)


def test_newTransportHasItsWriteStateAlready():
    """
    A TCP transport gets the attributes Twisted sets at the first write
    when the stream starts, with the values it had, so they are in the
    class's shared key table before an accept storm closes it.
    """
    ours, theirs = socket.socketpair()
    try:
        transport = tcp.Connection(ours, None, reactor=reactor)
        assert "dataBuffer" not in vars(transport)
        shareWriteState(transport)
        state = vars(transport)
        assert (state["dataBuffer"], state["offset"], state["producerPaused"]) == (b"", 0, False)
    finally:
        ours.close()
        theirs.close()
