"""
Tests for L{components.echo} and the L{jabberd.component.info} handler it
attaches, on an in-memory host (its output appends to a list).
"""

from twisted.words.xish import domish

import jabberd
from components import echo
from jabberd.config import ComponentConfig, parse
from jabberd.ns import (NS_CLIENT, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION,
                        NS_XMPP_STANZAS)

DOMAIN = "echo.localhost"


def makeHost(**options):
    component = ComponentConfig(domain=DOMAIN, plugin="echo", options=options)
    host = echo.makeHost(parse(""), component, None)
    sent = []
    host.output = sent.append
    return host, sent


def message(body="hello", kind="chat", to=DOMAIN, **children):
    el = domish.Element((NS_CLIENT, "message"))
    el["from"], el["to"], el["type"], el["id"] = "alice@localhost/home", to, kind, "m1"
    if body is not None:
        el.addElement("body", content=body)
    for name, text in children.items():
        el.addElement(name, content=text)
    return el


def query(uri, node=None, iqType="get"):
    iq = domish.Element((NS_CLIENT, "iq"))
    iq["from"], iq["to"], iq["type"], iq["id"] = "alice@localhost/home", DOMAIN, iqType, "q1"
    payload = iq.addElement((uri, "query"))
    if node:
        payload["node"] = node
    return iq


def condition(stanza):
    return next(stanza.error.elements(NS_XMPP_STANZAS)).name


def test_echoesBody():
    """A chat message comes back to its sender with the same body, from the address it was sent to."""
    host, sent = makeHost()
    host.receive(message("hello", to="bot@" + DOMAIN))
    [reply] = sent
    assert reply.name == "message" and reply["type"] == "chat"
    assert (reply["to"], reply["from"]) == ("alice@localhost/home", "bot@" + DOMAIN)
    assert str(next(reply.elements(None, "body"))) == "hello"


def test_keepsThreadAndType():
    """A normal message with a thread is echoed as normal, in the same thread."""
    host, sent = makeHost()
    host.receive(message("x", kind="normal", thread="t-1"))
    [reply] = sent
    assert reply["type"] == "normal" and str(next(reply.elements(None, "thread"))) == "t-1"


def test_bodilessIgnored():
    """A message without a body (a chat state) is consumed without a reply or an error."""
    host, sent = makeHost()
    host.receive(message(body=None))
    assert sent == []


def test_noLoops():
    """Error, groupchat and headline messages are never answered."""
    host, sent = makeHost()
    for kind in ("error", "groupchat", "headline"):
        host.receive(message(kind=kind))
    assert sent == []


def test_discoInfo():
    """disco#info names the service and lists disco and version as features."""
    host, sent = makeHost(name="Echo test")
    host.receive(query(NS_DISCO_INFO))
    [result] = sent
    assert result["type"] == "result" and result["id"] == "q1"
    payload = next(result.elements(NS_DISCO_INFO, "query"))
    [identity] = payload.elements(NS_DISCO_INFO, "identity")
    assert (identity["category"], identity["type"], identity["name"]) == \
        ("component", "generic", "Echo test")
    features = {f["var"] for f in payload.elements(NS_DISCO_INFO, "feature")}
    assert {NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION} <= features


def test_discoInfoUnknownNode():
    """disco#info on a node nobody provides is item-not-found."""
    host, sent = makeHost()
    host.receive(query(NS_DISCO_INFO, node="nothing-here"))
    assert sent[0]["type"] == "error" and condition(sent[0]) == "item-not-found"


def test_discoItemsEmpty():
    """disco#items answers with an empty list: the echo service has no items."""
    host, sent = makeHost()
    host.receive(query(NS_DISCO_ITEMS))
    payload = next(sent[0].elements(NS_DISCO_ITEMS, "query"))
    assert sent[0]["type"] == "result" and list(payload.elements()) == []


def test_version():
    """A version query is answered with the software name and version."""
    host, sent = makeHost()
    host.receive(query(NS_VERSION))
    payload = next(sent[0].elements(NS_VERSION, "query"))
    assert str(next(payload.elements(NS_VERSION, "name"))) == "jabberd"
    assert str(next(payload.elements(NS_VERSION, "version"))) == jabberd.__version__
    assert list(payload.elements(NS_VERSION, "os")) == []


def test_unknownQuery():
    """An iq the component does not handle gets service-unavailable."""
    host, sent = makeHost()
    host.receive(query("jabber:iq:roster", iqType="set"))
    assert sent[0]["type"] == "error" and condition(sent[0]) == "service-unavailable"


def test_servesConfiguredDomain():
    """makeHost builds a host for the section's domain."""
    host, _ = makeHost()
    assert host.domains == [DOMAIN]
