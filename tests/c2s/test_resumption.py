"""
Tests for L{jabberd.c2s.resumption} and the client stream's part of
Stream Management (XEP-0198): C{<enable/>} only after binding, stanzas
from the client counted, connections lost without a closed stream
detaching the session, and C{<resume/>} on a new connection.
"""

from twisted.words.xish import domish

from jabberd.ns import NS_SM, NS_XMPP_STANZAS
from jabberd.sm.message import MessageHandler
from jabberd.sm.presence import PresenceHandler
from jabberd.sm.streammanagement import StreamManagementHandler
from tests.c2s.helpers import HEADER, Server, bindIQ, child, login, plain

ENABLE = f"<enable xmlns='{NS_SM}' resume='true'/>"
PING = "<iq type='get' id='p{n}'><ping xmlns='urn:xmpp:ping'/></iq>"


def makeServer(**c2s):
    server = Server(**c2s)
    server.addUser("alice", "pw")
    server.addUser("bob", "pw")
    server.sm.addHandler(MessageHandler())
    server.sm.addHandler(PresenceHandler())
    server.handler = server.sm.addHandler(StreamManagementHandler(clock=server.clock))
    return server


def authenticated(server, username="alice"):
    client = server.connect()
    client.stream.secure = True
    client.send(HEADER)
    client.send(plain(username, "pw"))
    return client


def enabled(server):
    client = login(server)
    [answer] = client.send(ENABLE)
    assert answer.name == "enabled"
    return client, answer["id"]


def condition(element):
    return [c.name for c in element.elements() if c.uri == NS_XMPP_STANZAS and c.name != "text"]


def test_featureAfterAuthentication():
    """The features after SASL offer <sm xmlns='urn:xmpp:sm:3'/>; those before do not."""
    server = makeServer()
    client = server.connect()
    client.stream.secure = True
    [features] = client.send(HEADER)
    assert child(features, "sm", NS_SM) is None
    client.send(plain("alice", "pw"))
    [features] = client.send(HEADER)
    assert child(features, "sm", NS_SM) is not None


def test_enableBeforeBind():
    """<enable/> before binding gets <failed/> with unexpected-request; binding still works."""
    server = makeServer()
    client = authenticated(server)
    client.send(HEADER)
    [failed] = client.send(ENABLE)
    assert (failed.uri, failed.name, condition(failed)) == (NS_SM, "failed",
                                                            ["unexpected-request"])
    [result] = client.send(bindIQ("home"))
    assert result["type"] == "result"


def test_enableBeforeAuthentication():
    """<enable/> and <resume/> before authentication get unexpected-request."""
    server = makeServer()
    client = server.connect()
    client.stream.secure = True
    client.send(HEADER)
    [failed] = client.send(ENABLE)
    assert condition(failed) == ["unexpected-request"]
    [failed] = client.send(f"<resume xmlns='{NS_SM}' previd='x' h='0'/>")
    assert condition(failed) == ["unexpected-request"]


def test_clientStanzasCounted():
    """Every stanza the client sends after <enable/> counts towards <a h/>."""
    server = makeServer()
    client, _ = enabled(server)
    for n in range(3):
        client.send(PING.format(n=n))
    client.send("<presence/>")
    [a] = [e for e in client.send(f"<r xmlns='{NS_SM}'/>") if e.name == "a"]
    assert a["h"] == "4"


def test_negotiationIqsCounted():
    """An iq answered by a negotiator after <enable/> (the legacy session iq) is counted."""
    server = makeServer()
    client, _ = enabled(server)
    client.send("<iq type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
    assert client.stream.session.management.sent == 1


def test_lostConnectionDetaches():
    """A connection lost without a closing tag leaves the session bound and detached."""
    server = makeServer()
    client, _ = enabled(server)
    session = client.stream.session
    client.lose()
    assert session.detached
    assert server.sm.session("alice@localhost/home") is session


def test_closedStreamEndsSession():
    """A client that closes its stream ends its session, resumable or not (section 7)."""
    server = makeServer()
    client, smId = enabled(server)
    client.send("</stream:stream>")
    client.lose()
    assert server.sm.session("alice@localhost/home") is None
    assert smId not in server.handler.resumable


def test_idleTimeoutDetaches():
    """A silent client's stream times out, and its resumable session is detached, not ended."""
    server = makeServer()
    server.config.server.idleTimeout = 30
    client, _ = enabled(server)
    session = client.stream.session
    client.stream.liveness.idleTimeout = 30
    client.stream.liveness.start()
    server.clock.advance(31)
    assert session.detached and session.active
    client.lose()
    assert server.sm.session("alice@localhost/home") is session


def test_resumeOnNewConnection():
    """<resume/> on a new authenticated connection takes the session over and resends."""
    server = makeServer()
    client, smId = enabled(server)
    session = client.stream.session
    client.send(PING.format(n=1))
    client.lose()
    server.sm.receive(_chat("while away"))
    again = authenticated(server)
    again.send(HEADER)
    out = again.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='0'/>")
    assert (out[0].name, out[0]["h"]) == ("resumed", "1")
    assert [e.name for e in out[1:]] == ["message"]
    assert str(child(out[1], "body")) == "while away"
    assert again.stream.session is session and session.stream is again.stream
    [a] = [e for e in again.send(f"<r xmlns='{NS_SM}'/>") if e.name == "a"]
    assert a["h"] == "1"


def test_resumeFailedThenBind():
    """After <failed/> item-not-found the client may still bind on the same stream."""
    server = makeServer()
    client = authenticated(server)
    client.send(HEADER)
    [failed] = client.send(f"<resume xmlns='{NS_SM}' previd='gone' h='0'/>")
    assert condition(failed) == ["item-not-found"]
    [result] = client.send(bindIQ("home"))
    assert result["type"] == "result"


def test_resumeAfterBindRefused():
    """<resume/> on a stream that already bound a resource gets unexpected-request."""
    server = makeServer()
    client, smId = enabled(server)
    [failed] = client.send(f"<resume xmlns='{NS_SM}' previd='{smId}' h='0'/>")
    assert condition(failed) == ["unexpected-request"]


def _chat(text):
    message = domish.Element((None, "message"))
    message["from"], message["to"] = "bob@localhost/x", "alice@localhost/home"
    message["type"] = "chat"
    message.addElement("body", content=text)
    return message
