"""
Tests for L{jabberd.sm.delegation} and L{jabberd.component.delegation}: the session
manager forwards iqs of delegated namespaces to a trusted component
(XEP-0355) and relays its answers, in process through a real L{Router}.
"""

import pytest
from twisted.internet.task import Clock
from twisted.words.xish import domish

from jabberd.config import ConfigError, parse as parseConfig
from jabberd.component.delegation import (DelegatedIQHandler, DelegationReceiver, clientAddress,
                               stanzaErrorOf, unwrap, wrap)
from jabberd.error import StanzaError
from jabberd.handler import Handler, IQHandler, iqGet
from jabberd.host import Host
from jabberd.jidutil import JID
from jabberd.ns import (NS_CLIENT, NS_CLIENT_IP, NS_DELEGATION, NS_FORWARD,
                        NS_XMPP_STANZAS)
from jabberd.router import Router
from jabberd.sm.delegation import DelegationHandler, delegatesOf
from jabberd.sm.manager import SessionManager
from jabberd.sm.message import MessageHandler
from jabberd.sm.session import Session
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import FakeStream, parse

NS_TEST = "urn:example:delegated"
COMPONENT = "svc.localhost"


class Answering(DelegatedIQHandler):
    """A delegated handler that records what it gets and answers as told."""

    def __init__(self):
        self.received = []
        self.error = None

    @iqGet(NS_TEST)
    def onGet(self, iq):
        self.received.append(iq)
        if self.error is not None:
            raise StanzaError(self.error)
        answer = domish.Element((NS_TEST, "query"))
        answer["seen-from"] = iq.getAttribute("from")
        answer["client-ip"] = clientAddress(iq) or ""
        return answer


class BuiltIn(IQHandler):
    """A server handler for the delegated namespace, which delegation overrides."""

    @iqGet(NS_TEST)
    def onGet(self, iq):
        return domish.Element((NS_TEST, "builtin"))


class Sink:
    """A route that swallows what it is given (a component that never answers)."""

    trusted = True

    def __init__(self):
        self.stanzas = []

    def deliver(self, stanza):
        self.stanzas.append(stanza)


class World:
    """A session manager and a component host on one router; alice is online."""

    def __init__(self, timeout=5, attachComponent=True):
        self.clock = Clock()
        self.router = Router()
        self.sm = SessionManager(["localhost"], MemoryStorage(), self.router)
        self.delegation = self.sm.addHandler(
            DelegationHandler({NS_TEST: COMPONENT}, timeout=timeout, clock=self.clock))
        self.sm.addHandler(MessageHandler())
        self.sm.addHandler(BuiltIn())
        self.router.attachHost(self.sm, trusted=True)
        self.component = Host([COMPONENT])
        self.component.addHandler(DelegationReceiver(["localhost"]))
        self.answering = self.component.addHandler(Answering())
        if attachComponent:
            self.router.attachHost(self.component, trusted=True)
        self.stream = FakeStream()
        self.session = Session(self.stream, JID("alice@localhost/pc"))
        self.sm.bindSession(self.session)

    def request(self, xml):
        """Send C{xml} as alice's client would."""
        self.sm.outbound(self.session, parse(xml))
        return self.stream.sent


def _error(stanza):
    error = next(stanza.elements(None, "error"), None) or next(stanza.elements(NS_CLIENT, "error"))
    return error, next(c.name for c in error.elements() if c.uri == NS_XMPP_STANZAS)


def test_resultIsRelayedToRequester():
    """A delegated get to the server reaches the component and its result reaches the client."""
    world = World()
    sent = world.request(f"<iq type='get' id='q1' to='localhost'><query xmlns='{NS_TEST}'/></iq>")
    assert len(sent) == 1
    reply = sent[0]
    assert (reply["type"], reply["id"], reply["to"]) == ("result", "q1", "alice@localhost/pc")
    assert reply.getAttribute("from") == "localhost"
    query = next(reply.elements(NS_TEST, "query"))
    assert query["seen-from"] == "alice@localhost/pc"
    assert len(world.delegation.requests) == 0


def test_innerIqKeepsItsAddresses():
    """The component sees the original iq, with the requester's from, inside forwarded."""
    world = World()
    world.request(f"<iq type='get' id='q1'><query xmlns='{NS_TEST}'/></iq>")
    inner = world.answering.received[0]
    assert (inner.uri, inner["id"], inner["from"]) == (NS_CLIENT, "q1", "alice@localhost/pc")
    assert (inner.parent.uri, inner.parent.name) == (NS_FORWARD, "forwarded")
    assert (inner.parent.parent.uri, inner.parent.parent.name) == (NS_DELEGATION, "delegation")


def test_delegationOverridesBuiltInHandler():
    """The delegated namespace is answered by the component, not by the server's handler."""
    world = World()
    sent = world.request(f"<iq type='get' id='q1' to='alice@localhost'>"
                         f"<query xmlns='{NS_TEST}'/></iq>")
    assert next(sent[0].elements(NS_TEST, "builtin"), None) is None
    assert next(sent[0].elements(NS_TEST, "query"), None) is not None


def test_componentErrorIsRelayed():
    """A stanza error raised by the component reaches the requester with its legacy code."""
    world = World()
    world.answering.error = "conflict"
    sent = world.request(f"<iq type='get' id='q2'><query xmlns='{NS_TEST}'/></iq>")
    assert (sent[0]["type"], sent[0]["id"]) == ("error", "q2")
    error, condition = _error(sent[0])
    assert condition == "conflict" and error["code"] == "409"


def test_unhandledTypeIsServiceUnavailable():
    """A set the component has no handler for comes back service-unavailable."""
    world = World()
    sent = world.request(f"<iq type='set' id='q3'><query xmlns='{NS_TEST}'/></iq>")
    assert _error(sent[0])[1] == "service-unavailable"


def test_timeoutIsServiceUnavailable():
    """Without an answer within the timeout the requester gets service-unavailable."""
    world = World(timeout=3, attachComponent=False)
    lost = Sink()
    world.router.addRoute(COMPONENT, lost)
    sent = world.request(f"<iq type='get' id='q4'><query xmlns='{NS_TEST}'/></iq>")
    assert sent == [] and len(lost.stanzas) == 1
    world.clock.advance(3)
    assert _error(sent[0])[1] == "service-unavailable"
    assert len(world.delegation.requests) == 0


def test_bouncedWrapperIsRelayed():
    """A wrapper bounced by the router (no component there) gives the requester that error."""
    world = World(attachComponent=False)
    sent = world.request(f"<iq type='get' id='q5'><query xmlns='{NS_TEST}'/></iq>")
    assert (sent[0]["type"], sent[0]["id"]) == ("error", "q5")
    assert _error(sent[0])[1] == "remote-server-not-found"
    assert len(world.delegation.requests) == 0


def test_answerFromAnotherDomainIsIgnored():
    """Only the delegate's own answer settles a pending delegation."""
    world = World(attachComponent=False)
    world.router.addRoute(COMPONENT, Sink())
    sent = world.request(f"<iq type='get' id='q6'><query xmlns='{NS_TEST}'/></iq>")
    ident = next(iter(world.delegation.requests))
    world.sm.receive(parse(f"<iq type='result' id='{ident}' from='evil.example' "
                           f"to='localhost'/>"))
    assert sent == [] and ident in world.delegation.requests


def test_delegatedResultHooksSeeResultsOnly():
    """The delegatedResult hooks run after a delegated result, not after an error."""
    world = World()
    seen = []

    class Watcher(Handler):
        def delegatedResult(self, namespace, iq, payload):
            if namespace == NS_TEST:
                seen.append((iq["id"], payload.name))

    world.sm.addHandler(Watcher())
    world.request(f"<iq type='get' id='ok'><query xmlns='{NS_TEST}'/></iq>")
    world.answering.error = "not-allowed"
    world.request(f"<iq type='get' id='bad'><query xmlns='{NS_TEST}'/></iq>")
    assert seen == [("ok", "query")]


def test_discoFeaturesForServerOnly():
    """The server advertises delegation and the delegated namespaces; accounts do not."""
    handler = DelegationHandler({NS_TEST: COMPONENT}, clock=Clock())
    assert handler.discoFeatures(JID("localhost"), "") == [NS_DELEGATION, NS_TEST]
    assert handler.discoFeatures(JID("alice@localhost"), "") == []
    assert DelegationHandler({}, clock=Clock()).discoFeatures(JID("localhost"), "") == []


def test_preAuthAnswerGoesToItsStream():
    """An iq from a pre-auth address carries the client IP and its answer reaches that stream."""
    world = World()
    stream = FakeStream()
    address = world.sm.bindPreAuth(stream, "localhost", "192.0.2.7")
    assert address.startswith("localhost/preauth-")
    iq = parse(f"<iq type='get' id='r1'><query xmlns='{NS_TEST}'/></iq>")
    iq["from"] = address
    world.sm.receive(iq)
    reply = stream.sent[0]
    assert (reply["type"], reply["id"]) == ("result", "r1")
    assert reply.getAttribute("to") is None
    assert next(reply.elements(NS_TEST, "query"))["client-ip"] == "192.0.2.7"
    world.sm.unbindPreAuth(address)
    assert address not in world.sm.preAuth


def test_preAuthGetsOnlyIqAnswers():
    """Messages to a pre-auth address are not written to its stream."""
    world = World()
    stream = FakeStream()
    address = world.sm.bindPreAuth(stream, "localhost")
    world.sm.receive(parse(f"<message to='{address}' from='bob@localhost/x'><body>hi</body>"
                           "</message>"))
    assert stream.sent == []


def test_receiverRefusesStrangers():
    """Only a server domain may delegate to the component."""
    world = World()
    out = []
    world.component.output = out.append
    wrapper = domish.Element((None, "iq"))
    wrapper["type"], wrapper["from"], wrapper["id"] = "set", "evil.example", "w1"
    wrapper["to"] = COMPONENT
    wrapper.addChild(wrap(parse(f"<iq type='get' id='i'><query xmlns='{NS_TEST}'/></iq>")))
    world.component.receive(wrapper)
    assert out[0]["type"] == "error" and _error(out[0])[1] == "forbidden"
    assert world.answering.received == []


def test_directIqDoesNotReachDelegatedHandler():
    """An iq sent straight to the component's domain does not reach delegated handlers."""
    world = World()
    out = []
    world.component.output = out.append
    world.component.receive(parse(f"<iq type='get' id='d' from='alice@localhost/pc' "
                                  f"to='{COMPONENT}'><query xmlns='{NS_TEST}'/></iq>"))
    assert _error(out[0])[1] == "service-unavailable"
    assert world.answering.received == []


def test_wireRoundTrip():
    """Wrapped iqs keep jabber:client and their payload through serialisation."""
    iq = domish.Element((None, "iq"))
    iq["type"], iq["id"] = "error", "x"
    iq.addChild(StanzaError("not-acceptable", text="bad name").getElement())
    xml = wrap(iq, "198.51.100.1").toXml()
    back = parse(xml, namespace="jabber:component:accept")
    inner = unwrap(back)
    assert (inner.uri, inner["id"]) == (NS_CLIENT, "x")
    error = stanzaErrorOf(inner)
    assert (error.condition, error.text, error.code) == ("not-acceptable", "bad name", "406")
    assert str(next(back.elements(NS_CLIENT_IP, "ip"))) == "198.51.100.1"
    assert clientAddress(inner) == "198.51.100.1"


def test_unwrapWithoutForwarded():
    """An iq without a forwarded stanza unwraps to None."""
    assert unwrap(parse(f"<iq type='result'><delegation xmlns='{NS_DELEGATION}'/></iq>")) is None
    assert unwrap(parse("<iq type='result'/>")) is None


def test_delegatesFromConfig():
    """Trusted components' delegate keys map namespaces to their domains."""
    config = parseConfig("[component:reg.localhost]\nplugin = register\ntrusted = yes\n"
                         "delegate = jabber:iq:register urn:x\n")
    assert config.components["reg.localhost"].delegate == ["jabber:iq:register", "urn:x"]
    assert "delegate" not in config.components["reg.localhost"].options
    assert delegatesOf(config) == {"jabber:iq:register": "reg.localhost",
                                   "urn:x": "reg.localhost"}


@pytest.mark.parametrize("text", [
    "[component:a.localhost]\nplugin = echo\ndelegate = urn:x\n",
    "[component:a.localhost]\nplugin = echo\ntrusted = yes\ndelegate = urn:x\n"
    "[component:b.localhost]\nplugin = echo\ntrusted = yes\ndelegate = urn:x\n",
])
def test_badDelegationConfig(text):
    """Delegating to an untrusted component or to two components is a start-up error."""
    with pytest.raises(ConfigError) as e:
        parseConfig(text)
    assert "delegate" in str(e.value)


def test_receiverRefusesDelegationFromUser():
    """A delegation wrapper sent by a local user (not the server itself) is forbidden."""
    from twisted.words.xish import domish

    from jabberd.component.delegation import DelegationReceiver
    from jabberd.error import StanzaError

    receiver = DelegationReceiver(["localhost"])
    iq = domish.Element((None, "iq"))
    iq["type"], iq["from"], iq["to"] = "set", "bob@localhost/x", "register.localhost"
    try:
        receiver.onDelegation(iq)
    except StanzaError as e:
        assert e.condition == "forbidden"
    else:
        raise AssertionError("delegation from a user accepted")
