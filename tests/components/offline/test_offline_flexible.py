"""
Tests for L{components.offline.flexible}: XEP-0013 requests, delegated by
the server (XEP-0355) to the offline component.
"""

from jabberd.component.delegation import unwrap
from jabberd.ns import (NS_DATA, NS_DELAY, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_OFFLINE,
                        NS_XMPP_STANZAS)
from components.offline.stanzas import nodeOf
from tests.components.offline.offlinehelpers import (ask, chat, condition, delegated,
                                                     makeHost, storeIQ, stored, userIQ)

BOB = "bob@localhost/phone"


def _hostWith(*bodies):
    host = makeHost()
    for n, body in enumerate(bodies):
        ask(host, storeIQ(chat(body, sender=f"sender{n}@localhost/r")))
    return host


def _delegate(host, inner):
    """Delegate C{inner}; return (messages sent to the user, the inner reply)."""
    sent, outer = ask(host, delegated(inner))
    assert outer["type"] == "result" and outer["to"] == "localhost"
    reply = unwrap(outer)
    assert reply["id"] == inner["id"] and reply["to"] == inner["from"]
    return sent, reply


def _innerCondition(reply):
    error = next(c for c in reply.elements() if c.name == "error")
    return next(c.name for c in error.elements(NS_XMPP_STANZAS) if c.name != "text")


def _item(action, node):
    iq, offline = userIQ("get" if action == "view" else "set", NS_OFFLINE, "offline")
    item = offline.addElement("item")
    item["action"], item["node"] = action, node
    return iq


def _nodes(host):
    return [nodeOf(m) for m in stored(host)]


def test_countInDiscoInfo():
    """Disco#info of the offline node gives the message-list identity and the count in a form."""
    host = _hostWith("a", "b")
    iq, _ = userIQ("get", NS_DISCO_INFO, "query", node=NS_OFFLINE)
    _, reply = _delegate(host, iq)
    query = next(reply.elements(NS_DISCO_INFO, "query"))
    assert query["node"] == NS_OFFLINE
    identity = next(query.elements(NS_DISCO_INFO, "identity"))
    assert (identity["category"], identity["type"]) == ("automation", "message-list")
    assert NS_OFFLINE in [f["var"] for f in query.elements(NS_DISCO_INFO, "feature")]
    form = next(query.elements(NS_DATA, "x"))
    values = {f["var"]: str(next(f.elements(NS_DATA, "value")))
              for f in form.elements(NS_DATA, "field")}
    assert values == {"FORM_TYPE": NS_OFFLINE, "number_of_messages": "2"}


def test_headersInDiscoItems():
    """Disco#items of the offline node lists one item per message: the user's JID, node, sender."""
    host = _hostWith("a", "b")
    iq, _ = userIQ("get", NS_DISCO_ITEMS, "query", node=NS_OFFLINE, to="bob@localhost")
    sent, reply = _delegate(host, iq)
    assert sent == []
    items = list(next(reply.elements(NS_DISCO_ITEMS, "query")).elements(NS_DISCO_ITEMS, "item"))
    assert [(i["jid"], i["node"], i["name"]) for i in items] == [
        ("bob@localhost", node, f"sender{n}@localhost/r") for n, node in enumerate(_nodes(host))]


def test_otherDiscoNodeNotFound():
    """A disco request of another node is item-not-found."""
    host = _hostWith("a")
    iq, _ = userIQ("get", NS_DISCO_INFO, "query", node="other")
    _, reply = _delegate(host, iq)
    assert _innerCondition(reply) == "item-not-found"


def test_viewSendsMessageWithNodeAndKeepsIt():
    """Viewing a message sends it with its node and delay, before the result; it stays stored."""
    host = _hostWith("a", "b")
    second = _nodes(host)[1]
    sent, reply = _delegate(host, _item("view", second))
    assert reply["type"] == "result"
    [message] = sent
    assert str(message.body) == "b" and message["to"] == BOB
    assert next(message.elements(NS_DELAY, "delay"))["from"] == "localhost"
    item = next(next(message.elements(NS_OFFLINE, "offline")).elements(NS_OFFLINE, "item"))
    assert item["node"] == second
    assert len(stored(host)) == 2


def test_viewUnknownNode():
    """Viewing a node that names no message is item-not-found and sends nothing."""
    host = _hostWith("a")
    for node in ("2020-01-01T00:00:00.000Z/999", "nonsense"):
        sent, reply = _delegate(host, _item("view", node))
        assert sent == [] and _innerCondition(reply) == "item-not-found"


def test_removeOne():
    """Removing a node forgets that message only."""
    host = _hostWith("a", "b")
    first, second = _nodes(host)
    _, reply = _delegate(host, _item("remove", first))
    assert reply["type"] == "result"
    assert _nodes(host) == [second]
    _, reply = _delegate(host, _item("remove", first))
    assert _innerCondition(reply) == "item-not-found"


def test_fetchSendsAllAndKeeps():
    """Fetch sends every message in order, each with its node; they stay stored."""
    host = _hostWith("a", "b", "c")
    iq, offline = userIQ("get", NS_OFFLINE, "offline")
    offline.addElement("fetch")
    sent, reply = _delegate(host, iq)
    assert reply["type"] == "result"
    assert [str(m.body) for m in sent] == ["a", "b", "c"]
    assert len(stored(host)) == 3


def test_fetchInSetAccepted():
    """A fetch sent as an iq set (as slixmpp does) is answered like a get."""
    host = _hostWith("a", "b")
    iq, offline = userIQ("set", NS_OFFLINE, "offline")
    offline.addElement("fetch")
    sent, reply = _delegate(host, iq)
    assert reply["type"] == "result" and [str(m.body) for m in sent] == ["a", "b"]


def test_purgeRemovesAll():
    """Purge forgets every message of the user."""
    host = _hostWith("a", "b")
    iq, offline = userIQ("set", NS_OFFLINE, "offline")
    offline.addElement("purge")
    _, reply = _delegate(host, iq)
    assert reply["type"] == "result" and stored(host) == []


def test_emptyRequestIsBad():
    """An <offline/> with neither items nor fetch/purge, or a mismatched action, is bad-request."""
    host = _hostWith("a")
    iq, _ = userIQ("get", NS_OFFLINE, "offline")
    _, reply = _delegate(host, iq)
    assert _innerCondition(reply) == "bad-request"
    wrong, offline = userIQ("get", NS_OFFLINE, "offline")
    item = offline.addElement("item")
    item["action"], item["node"] = "remove", _nodes(host)[0]
    _, reply = _delegate(host, wrong)
    assert _innerCondition(reply) == "bad-request"
    assert len(stored(host)) == 1


def test_onlyOwnMessages():
    """A request about another account, or from a remote user, is forbidden."""
    host = _hostWith("a")
    iq, _ = userIQ("get", NS_DISCO_ITEMS, "query", node=NS_OFFLINE, to="alice@localhost")
    _, reply = _delegate(host, iq)
    assert _innerCondition(reply) == "forbidden"
    iq, _ = userIQ("get", NS_DISCO_ITEMS, "query", node=NS_OFFLINE,
                   sender="bob@example.org/x")
    _, reply = _delegate(host, iq)
    assert _innerCondition(reply) == "forbidden"


def test_notReachableWithoutDelegation():
    """An <offline/> request sent straight to the component is not answered as XEP-0013."""
    host = _hostWith("a")
    iq, offline = userIQ("set", NS_OFFLINE, "offline", to="offline.localhost")
    offline.addElement("purge")
    _, reply = ask(host, iq)
    assert condition(reply) == "service-unavailable"
    assert len(stored(host)) == 1


def test_delegationOnlyFromServer():
    """A delegation sent by a user of the server, not the server itself, is refused and changes nothing."""
    host = _hostWith("a")
    iq, offline = userIQ("set", NS_OFFLINE, "offline")
    offline.addElement("purge")
    _, outer = ask(host, delegated(iq, server="bob@localhost/phone"))
    reply = unwrap(outer) if outer["type"] == "result" else outer
    assert reply["type"] == "error"
    assert len(stored(host)) == 1
