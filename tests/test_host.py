"""Tests for L{jabberd.host} and L{jabberd.handler}: iq dispatch and hooks."""

import pytest
from twisted.internet import defer
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import DuplicateRoute, Handler, IQHandler, Stage, iqGet, iqSet
from jabberd.host import Host, MissingHandler

NS_TEST = "urn:example:test"


class EchoIQ(IQHandler):
    """Answers gets with a payload, sets with nothing, and fails on demand."""

    @iqGet(NS_TEST)
    def onGet(self, iq):
        result = domish.Element((NS_TEST, "query"))
        result.addElement("answer", content="42")
        return result

    @iqSet(NS_TEST)
    def onSet(self, iq):
        if iq.query.getAttribute("fail") == "stanza":
            raise StanzaError("not-allowed")
        if iq.query.getAttribute("fail") == "bug":
            raise RuntimeError("bug")
        return defer.succeed(None)


def makeHost(*handlers):
    host = Host(["example.localhost"])
    sent = []
    host.output = sent.append
    for handler in handlers:
        host.addHandler(handler)
    return host, sent


def iq(type, ns=NS_TEST, **attrs):
    element = domish.Element((None, "iq"))
    element["type"], element["id"] = type, "q1"
    element["from"], element["to"] = "a@localhost/r", "example.localhost"
    query = element.addElement((ns, "query"))
    for key, value in attrs.items():
        query[key] = value
    return element


def test_getReturnsPayload():
    """A get is answered with the handler's payload in a result."""
    host, sent = makeHost(EchoIQ())
    host.receive(iq("get"))
    [reply] = sent
    assert reply["type"] == "result" and reply["id"] == "q1"
    assert reply["to"] == "a@localhost/r" and reply["from"] == "example.localhost"
    assert str(reply.query.answer) == "42"


def test_setWithDeferredNone():
    """A set whose handler returns a Deferred of None gets an empty result."""
    host, sent = makeHost(EchoIQ())
    host.receive(iq("set"))
    [reply] = sent
    assert reply["type"] == "result" and not list(reply.elements())


def test_stanzaErrorBecomesErrorReply():
    """A raised StanzaError becomes that error, with its legacy code."""
    host, sent = makeHost(EchoIQ())
    host.receive(iq("set", fail="stanza"))
    [reply] = sent
    assert reply["type"] == "error"
    assert reply.error["code"] == "405"
    assert reply.error.firstChildElement().name == "not-allowed"


def test_bugBecomesInternalServerError(caplog=None):
    """Any other exception is answered internal-server-error, never silence."""
    host, sent = makeHost(EchoIQ())
    host.receive(iq("set", fail="bug"))
    [reply] = sent
    assert reply.error.firstChildElement().name == "internal-server-error"


def test_unknownNamespaceServiceUnavailable():
    """A get for a namespace nobody handles is answered service-unavailable (503)."""
    host, sent = makeHost(EchoIQ())
    host.receive(iq("get", ns="urn:example:unknown"))
    [reply] = sent
    assert reply.error.firstChildElement().name == "service-unavailable"
    assert reply.error["code"] == "503"


def test_emptyIqIsAnswered():
    """An iq get without a payload still gets an error, not silence."""
    host, sent = makeHost()
    element = domish.Element((None, "iq"))
    element["type"], element["from"], element["id"] = "get", "a@localhost/r", "x"
    host.receive(element)
    [reply] = sent
    assert reply["type"] == "error"


def test_resultsAreNotAnswered():
    """Results and errors are never answered (no loops)."""
    host, sent = makeHost(EchoIQ())
    host.receive(iq("result"))
    host.receive(iq("error"))
    assert sent == []


def test_unclaimedMessageGetsError():
    """A message nobody consumes bounces with service-unavailable; presence is dropped."""
    host, sent = makeHost()
    message = domish.Element((None, "message"))
    message["from"], message["to"] = "a@localhost/r", "example.localhost"
    host.receive(message)
    presence = domish.Element((None, "presence"))
    presence["from"], presence["to"] = "a@localhost/r", "example.localhost"
    host.receive(presence)
    [reply] = sent
    assert reply.name == "message" and reply["type"] == "error"


def test_inboundHooksInOrder():
    """onInbound hooks run in attachment order and the first True stops dispatch."""
    calls = []

    class First(Handler):
        def onInbound(self, stanza):
            calls.append("first")
            return stanza.name == "message"

    class Second(Handler):
        def onInbound(self, stanza):
            calls.append("second")
            return False

    host, sent = makeHost(First(), Second(), EchoIQ())
    host.receive(domish.Element((None, "message")))
    assert calls == ["first"]
    host.receive(iq("get"))
    assert calls == ["first", "first", "second"] and sent[0]["type"] == "result"


def test_handlerByName():
    """handler() finds an attached handler by its handlerName."""
    echo = EchoIQ()
    echo.handlerName = "echo"
    host, _ = makeHost(Handler(), echo)
    assert host.handler("echo") is echo


class Recorder(Handler):
    """Records the hooks it is called with, under its own label."""

    def __init__(self, label, calls, stage=None, answer=False):
        self.label, self.calls, self.answer = label, calls, answer
        if stage is not None:
            self.stage = stage

    def onInbound(self, stanza):
        self.calls.append(self.label)
        return self.answer

    def sessionEnded(self, session):
        self.calls.append(self.label)

    def discoFeatures(self, target, node):
        return [self.label]


def test_hooksRunByStageThenAttachment():
    """Hooks run in stage order, and in attachment order within a stage."""
    calls = []
    host, _ = makeHost(Recorder("cache", calls, Stage.CACHE), Recorder("a", calls),
                       Recorder("routing", calls, Stage.ROUTING), Recorder("b", calls))
    host.notify("sessionEnded", None)
    assert calls == ["routing", "a", "b", "cache"]
    assert host.collect("discoFeatures", None, "") == ["routing", "a", "b", "cache"]


def test_firstStopsAtTrueAnswer():
    """A 'first' hook stops at the first handler answering true and returns that answer."""
    calls = []
    host, _ = makeHost(Recorder("a", calls), Recorder("b", calls, answer="taken"),
                       Recorder("c", calls))
    assert host.first("onInbound", None) == "taken"
    assert calls == ["a", "b"]


def test_notifyIsolatesFailingHook():
    """A hook that raises is logged, and the other handlers' hooks still run."""
    calls = []

    class Broken(Handler):
        def sessionEnded(self, session):
            raise RuntimeError("broken")

    host, _ = makeHost(Broken(), Recorder("after", calls))
    host.notify("sessionEnded", None)
    assert calls == ["after"]


def test_offerWaitsForDeferredAnswers():
    """offer() asks one hook at a time, waiting on Deferreds, until one takes the stanza."""
    first, asked = defer.Deferred(), []

    class Later(Handler):
        def onUndeliverable(self, stanza):
            asked.append("later")
            return first

    class Taker(Handler):
        def onUndeliverable(self, stanza):
            asked.append("taker")
            return True

    host, _ = makeHost(Later(), Taker())
    outcome = []
    host.offer("onUndeliverable", None).addCallback(outcome.append)
    assert asked == ["later"] and outcome == []
    first.callback(False)
    assert asked == ["later", "taker"] and outcome == [True]


def test_offerWithoutTakerIsFalse():
    """When no hook takes what is offered the Deferred fires False."""
    host, _ = makeHost(Handler())
    outcome = []
    host.offer("onUndeliverable", None).addCallback(outcome.append)
    assert outcome == [False]


def test_duplicateRouteRefused():
    """A second handler for the same iq type and namespace is refused at attachment."""
    class OtherEcho(IQHandler):
        @iqGet(NS_TEST)
        def onGet(self, iq):
            return None

    host, _ = makeHost(EchoIQ())
    with pytest.raises(DuplicateRoute):
        host.addHandler(OtherEcho())


def test_overridingRouteWinsEitherOrder():
    """A route declared override answers instead of a plain one, attached before or after it."""
    class Override(IQHandler):
        @iqGet(NS_TEST, override=True)
        def onGet(self, iq):
            return domish.Element((NS_TEST, "overridden"))

    for handlers in ((EchoIQ(), Override()), (Override(), EchoIQ())):
        host, sent = makeHost(*handlers)
        host.receive(iq("get"))
        assert next(sent[0].elements()).name == "overridden"


def test_checkRequirements():
    """A handler whose required handler is not attached stops the host from starting."""
    class Needy(Handler):
        requires = ("roster",)

    class Roster(Handler):
        handlerName = "roster"

    host, _ = makeHost(Needy())
    with pytest.raises(MissingHandler, match="roster"):
        host.checkRequirements()
    host.addHandler(Roster())
    host.checkRequirements()


def test_duplicateHandlerNameRefused():
    """Two handlers with one handlerName cannot both be attached."""
    class Roster(Handler):
        handlerName = "roster"

    host, _ = makeHost(Roster())
    with pytest.raises(ValueError, match="roster"):
        host.addHandler(Roster())
    assert len(host.handlers) == 1
