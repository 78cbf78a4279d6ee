"""
Tests for L{jabberd.sm.offline}: the session manager and the offline store
component (L{components.offline}) together, in process, on one real
L{Router} and MemoryStorage; no sockets, the clock is fake.
"""

from twisted.internet.task import Clock
from twisted.words.protocols.jabber.jid import JID

import components.offline
from jabberd.config import ComponentConfig, parse
from jabberd.ns import (NS_DATA, NS_DELAY, NS_DELAY_LEGACY, NS_DISCO_INFO, NS_DISCO_ITEMS,
                        NS_MSGOFFLINE, NS_OFFLINE, NS_X_OOB)
from jabberd.router import Router
from jabberd.sm.delegation import DelegationHandler
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.manager import SessionManager
from jabberd.sm.message import MessageHandler
from jabberd.sm.offline import OfflineHandler, offlineComponent
from jabberd.sm.presence import PresenceHandler
from jabberd.sm.roster import RosterHandler
from jabberd.sm.session import Session
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import FakeStream, assertNoFailures, errorCondition, parse as xml, result

STORE = "offline.localhost"


class World:
    """
    A session manager (delegation, message, presence, roster, disco,
    offline) and, unless told otherwise, the offline component attached to
    the same router, as the server runs them.
    """

    def __init__(self, component=True, quota="1000", delegate=True, store=STORE):
        self.clock = Clock()
        self.storage = MemoryStorage()
        for user in ("alice", "bob"):
            self.storage.accounts.create(user, {})
        self.router = Router()
        self.sm = SessionManager(["localhost"], self.storage, self.router)
        delegates = {NS_OFFLINE: STORE} if delegate else {}
        self.sm.addHandler(DelegationHandler(delegates, clock=self.clock))
        self.sm.addHandler(MessageHandler())
        self.sm.addHandler(PresenceHandler())
        self.sm.addHandler(RosterHandler())
        self.sm.addHandler(DiscoHandler())
        self.offline = self.sm.addHandler(
            OfflineHandler(store, STORE if delegate else None, clock=self.clock))
        self.router.attachHost(self.sm, trusted=True)
        if component:
            config = ComponentConfig(domain=STORE, plugin="offline", trusted=True,
                                     options={"quota": quota})
            self.component = components.offline.makeHost(parse(""), config, self.storage)
            self.router.attachHost(self.component, trusted=True)

    def bind(self, user, resource="res"):
        session = Session(FakeStream(), JID(f"{user}@localhost/{resource}"))
        self.sm.bindSession(session)
        return session

    def send(self, session, text):
        self.sm.outbound(session, xml(text))

    def available(self, session, priority=0):
        self.send(session, f"<presence><priority>{priority}</priority></presence>")

    def take(self, session, name=None):
        assertNoFailures()
        sent = [s for s in session.stream.sent if name is None or s.name == name]
        session.stream.sent.clear()
        return sent

    def stored(self, user="bob"):
        return result(self.storage.offline.list(user))


def _chat(world, sender, to="bob@localhost", body="hello", kind="chat", extra=""):
    world.send(sender, f"<message to='{to}' type='{kind}' id='m1'><body>{body}</body>"
                       f"{extra}</message>")


def _bodies(messages):
    return [str(m.body) for m in messages]


# --- storing ---


def test_messageToOfflineUserIsStoredSilently():
    """A chat message for an offline account is kept and the sender gets no error."""
    w = World()
    alice = w.bind("alice")
    _chat(w, alice)
    assert w.take(alice) == []
    [kept] = w.stored()
    assert "hello" in kept.xml and "alice@localhost/res" in kept.xml


def test_messageToGoneResourceIsStored():
    """A chat message to a full JID that is not connected is kept for the account."""
    w = World()
    alice = w.bind("alice")
    _chat(w, alice, to="bob@localhost/old")
    assert len(w.stored()) == 1 and w.take(alice) == []


def test_unknownAccountBounces():
    """A message to an account that does not exist bounces with service-unavailable."""
    w = World()
    alice = w.bind("alice")
    _chat(w, alice, to="nobody@localhost")
    [error] = w.take(alice)
    assert errorCondition(error) == "service-unavailable"
    assert w.stored("nobody") == []


def test_headlineDroppedGroupchatBounced():
    """Headlines and errors for offline users are dropped, groupchat bounces; none is stored."""
    w = World()
    alice = w.bind("alice")
    _chat(w, alice, kind="headline")
    _chat(w, alice, kind="error")
    assert w.take(alice) == []
    _chat(w, alice, kind="groupchat")
    [error] = w.take(alice)
    assert errorCondition(error) == "service-unavailable"
    assert w.stored() == []


def test_normalMessageStored():
    """A message without a type (normal) is stored."""
    w = World()
    alice = w.bind("alice")
    w.send(alice, "<message to='bob@localhost'><body>normal</body></message>")
    assert len(w.stored()) == 1


def test_quotaFullBounces():
    """When the recipient's quota is full the sender gets service-unavailable, its id, not its body back."""
    w = World(quota="1")
    alice = w.bind("alice")
    _chat(w, alice, body="one")
    w.send(alice, "<message to='bob@localhost' type='chat' id='m2'><body>two</body></message>")
    [error] = w.take(alice)
    assert errorCondition(error) == "service-unavailable"
    assert error["id"] == "m2" and error.body is None
    assert len(w.stored()) == 1


def test_storeNotRoutedBounces():
    """With the store component not attached the message bounces (RFC 6121 behaviour)."""
    w = World(component=False)
    alice = w.bind("alice")
    _chat(w, alice)
    [error] = w.take(alice)
    assert errorCondition(error) == "service-unavailable"
    assert len(w.offline.requests) == 0


def test_storeSilentBouncesAfterTimeout():
    """A store that never answers makes the message bounce after the timeout."""
    w = World(component=False)
    w.router.addRoute(STORE, _BlackHole())
    alice = w.bind("alice")
    _chat(w, alice)
    assert w.take(alice) == []
    w.clock.advance(OfflineHandler.timeout)
    [error] = w.take(alice)
    assert errorCondition(error) == "service-unavailable"


class _BlackHole:
    domain, trusted = STORE, False

    def deliver(self, stanza):
        pass


def test_noStoreConfiguredBounces():
    """Without an offline component configured, messages for offline users bounce."""
    w = World(component=False, store=None)
    alice = w.bind("alice")
    _chat(w, alice)
    [error] = w.take(alice)
    assert errorCondition(error) == "service-unavailable"
    assert result(w.sm.undeliverable(xml("<message to='alice@localhost'/>"))) is False


def test_answerFromElsewhereIgnored():
    """A result with the id of a pending request but from another domain is not taken."""
    w = World(component=False)
    w.router.addRoute(STORE, _BlackHole())
    alice = w.bind("alice")
    _chat(w, alice)
    [iqId] = list(w.offline.requests)
    w.sm.receive(xml(f"<iq type='result' id='{iqId}' from='alice@localhost/res' "
                     f"to='localhost'/>"))
    assert iqId in w.offline.requests


# --- delivery on initial presence ---


def test_initialPresenceDeliversWithDelay():
    """On initial presence the stored messages arrive in order, from their senders, with delays."""
    w = World()
    alice = w.bind("alice")
    _chat(w, alice, body="one")
    _chat(w, alice, body="two")
    bob = w.bind("bob", "phone")
    w.available(bob)
    messages = w.take(bob, "message")
    assert _bodies(messages) == ["one", "two"]
    for message in messages:
        assert message["from"] == "alice@localhost/res"
        assert message["to"] == "bob@localhost/phone"
        delay = next(message.elements(NS_DELAY, "delay"))
        assert delay["from"] == "localhost" and delay["stamp"].endswith("Z")
        assert str(delay) == "Offline Storage"
        assert next(message.elements(NS_DELAY_LEGACY, "x"))["stamp"][8] == "T"
    assert w.stored() == []


def test_oobPassesThroughStore():
    """A jabber:x:oob payload reaches the recipient intact through the offline store."""
    w = World()
    alice = w.bind("alice")
    _chat(w, alice, extra=f"<x xmlns='{NS_X_OOB}'><url>http://localhost/f.txt</url>"
                          "<desc>file</desc></x>")
    bob = w.bind("bob")
    w.available(bob)
    [message] = w.take(bob, "message")
    oob = next(message.elements(NS_X_OOB, "x"))
    assert str(oob.url) == "http://localhost/f.txt" and str(oob.desc) == "file"


def test_presenceUpdateDoesNotDeliver():
    """Only initial presence asks the store to deliver; a presence update does not."""
    w = World()
    bob = w.bind("bob")
    w.available(bob)
    w.storage.offline.store("bob", "<message xmlns='jabber:client' from='alice@localhost/x' "
                                   "to='bob@localhost'><body>late</body></message>")
    w.available(bob, priority=3)
    assert w.take(bob, "message") == []
    assert len(w.stored()) == 1


def test_negativePriorityGetsNothing():
    """A resource with negative priority gets no offline messages; they stay stored."""
    w = World()
    alice = w.bind("alice")
    _chat(w, alice)
    bob = w.bind("bob")
    w.available(bob, priority=-1)
    assert w.take(bob, "message") == []
    assert len(w.stored()) == 1


class _Held:
    """A route that keeps what is routed to it until released, one by one."""

    trusted = True

    def __init__(self, route):
        self.route, self.domain, self.held = route, route.domain, []

    def deliver(self, stanza):
        self.held.append(stanza)

    def release(self, index=0):
        self.route.deliver(self.held.pop(index))


def test_storedWhileComingOnlineIsDelivered():
    """A message whose storing completes after the recipient's delivery is still delivered."""
    w = World()
    held = w.router.routes[STORE] = _Held(w.router.routes[STORE])
    alice = w.bind("alice")
    _chat(w, alice)
    bob = w.bind("bob")
    w.available(bob)
    store, deliver = held.held
    assert next(deliver.elements()).name == "deliver"
    held.release(1)  # the deliver request overtakes the store: nothing to deliver yet
    assert w.take(bob, "message") == []
    held.release(0)  # now the store commits and answers...
    held.release(0)  # ...and the session manager asks again
    assert _bodies(w.take(bob, "message")) == ["hello"]
    assert held.held == []


# --- XEP-0013 ---


def _count(w, session):
    w.send(session, f"<iq type='get' id='c1'><query xmlns='{NS_DISCO_INFO}' "
                    f"node='{NS_OFFLINE}'/></iq>")
    [reply] = w.take(session, "iq")
    assert reply["type"] == "result" and reply["id"] == "c1"
    form = next(next(reply.elements(NS_DISCO_INFO, "query")).elements(NS_DATA, "x"))
    for field in form.elements(NS_DATA, "field"):
        if field["var"] == "number_of_messages":
            return int(str(next(field.elements(NS_DATA, "value"))))


def _headers(w, session):
    w.send(session, f"<iq type='get' id='h1' to='bob@localhost'><query "
                    f"xmlns='{NS_DISCO_ITEMS}' node='{NS_OFFLINE}'/></iq>")
    [reply] = w.take(session, "iq")
    assert reply["type"] == "result"
    query = next(reply.elements(NS_DISCO_ITEMS, "query"))
    return [i["node"] for i in query.elements(NS_DISCO_ITEMS, "item")]


def test_flexibleRetrievalThroughServer():
    """A client counts, lists, views and removes its messages; presence then floods nothing."""
    w = World()
    alice = w.bind("alice")
    for body in ("one", "two"):
        _chat(w, alice, body=body)
    bob = w.bind("bob")
    assert _count(w, bob) == 2
    first, second = _headers(w, bob)
    w.send(bob, f"<iq type='get' id='v1'><offline xmlns='{NS_OFFLINE}'>"
                f"<item action='view' node='{second}'/></offline></iq>")
    message, reply = w.take(bob)
    assert str(message.body) == "two" and reply["type"] == "result" and reply["id"] == "v1"
    w.send(bob, f"<iq type='set' id='r1'><offline xmlns='{NS_OFFLINE}'>"
                f"<item action='remove' node='{first}'/></offline></iq>")
    [reply] = w.take(bob)
    assert reply["type"] == "result"
    w.available(bob)
    assert w.take(bob, "message") == []
    assert len(w.stored()) == 1


def test_countAloneStillFloods():
    """Only asking for the count does not opt out of delivery on presence."""
    w = World()
    alice = w.bind("alice")
    _chat(w, alice)
    bob = w.bind("bob")
    assert _count(w, bob) == 1
    w.available(bob)
    assert _bodies(w.take(bob, "message")) == ["hello"]


def test_flexibleChoiceEndsWithSession():
    """A new session of the same resource is flooded again."""
    w = World()
    alice = w.bind("alice")
    bob = w.bind("bob")
    _headers(w, bob)
    w.sm.unbindSession(bob)
    _chat(w, alice)
    bob = w.bind("bob")
    w.available(bob)
    assert _bodies(w.take(bob, "message")) == ["hello"]


def test_offlineNodeOfAnotherAccountNotForwarded():
    """Disco of someone else's offline node is not forwarded to the store."""
    w = World()
    alice = w.bind("alice")
    w.send(alice, f"<iq type='get' id='x' to='bob@localhost'><query xmlns='{NS_DISCO_ITEMS}' "
                  f"node='{NS_OFFLINE}'/></iq>")
    assert len(w.offline.requests) == 0


def test_withoutDelegationNodeNotForwarded():
    """Without the XEP-0013 delegate the offline node is left to the server's disco."""
    w = World(delegate=False)
    bob = w.bind("bob")
    w.send(bob, f"<iq type='get' id='x'><query xmlns='{NS_DISCO_INFO}' "
                f"node='{NS_OFFLINE}'/></iq>")
    [reply] = w.take(bob)
    assert reply["type"] == "error" and errorCondition(reply) == "item-not-found"


def test_serverAdvertisesOfflineFeatures():
    """The server's disco#info lists msgoffline (XEP-0160) and the offline namespace (XEP-0013)."""
    w = World()
    bob = w.bind("bob")
    w.send(bob, f"<iq type='get' id='d' to='localhost'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    [reply] = w.take(bob)
    features = {f["var"] for f in next(reply.elements(NS_DISCO_INFO, "query")).elements(
        NS_DISCO_INFO, "feature")}
    assert {NS_MSGOFFLINE, NS_OFFLINE} <= features


def test_noFeatureWithoutStore():
    """Without offline storage the server does not claim msgoffline."""
    assert OfflineHandler(None, clock=Clock()).discoFeatures(JID("localhost"), "") == []


# --- configuration ---


def test_storeFoundByPlugin():
    """The store is the component whose plugin is offline."""
    config = parse("[component:msgs.example]\nplugin = offline\ntrusted = yes\n")
    assert offlineComponent(config) == "msgs.example"


def test_storeNamedExplicitly():
    """[server] offline_store names the store explicitly."""
    config = parse("[server]\noffline_store = Store.Example\n"
                   "[component:msgs.example]\nplugin = offline\ntrusted = yes\n")
    assert offlineComponent(config) == "store.example"


def test_noStore():
    """Without such a component there is no store."""
    assert offlineComponent(parse("[component:x.example]\nplugin = echo\n")) is None
