"""
Tests for L{jabberd.sm.caps}: entity capabilities (XEP-0115) learnt from
presence, asked once per verification string, verified, cached and shared;
bounds, failures, and the server's own caps in the stream features.
"""

from twisted.internet.task import Clock

from jabberd.caps import infoOf, verificationString
from jabberd.config import ConfigError, parse as parseConfig
from jabberd.handler import Handler
from jabberd.ns import NS_CAPS, NS_DISCO_INFO
from jabberd.sm.caps import SERVER_NODE, CapsHandler
from jabberd.sm.disco import DiscoHandler
from jabberd.stanza import firstChild
from tests.sm.helpers import ALICE, BOB, CAROL, Harness, errorCondition

import pytest

NODE = "http://example.org/client"
NOTIFY = "urn:xmpp:avatar:metadata+notify"
IDENTITY = ("client", "pc", "", "Example")
FEATURES = (NS_DISCO_INFO, NS_CAPS, NOTIFY)
VER = verificationString([IDENTITY], FEATURES)
OTHER_FEATURES = (NS_DISCO_INFO, NS_CAPS)
OTHER_VER = verificationString([IDENTITY], OTHER_FEATURES)


class Announcements(Handler):
    """Records the capsKnown hook."""

    def __init__(self):
        self.known = []

    def capsKnown(self, jid, features):
        self.known.append((jid.full(), features, self.host.session(jid.full()).available
                           if self.host.session(jid.full()) else None))


def harness(**options):
    h = Harness(users=("alice", "bob"))
    h.clock = Clock()
    h.caps = h.sm.addHandler(CapsHandler(clock=h.clock, **options))
    h.sm.addHandler(DiscoHandler())
    h.announced = h.sm.addHandler(Announcements())
    return h


def caps(ver=VER, node=NODE, hashName="sha-1"):
    hashAttr = f" hash='{hashName}'" if hashName else ""
    return f"<c xmlns='{NS_CAPS}'{hashAttr} node='{node}' ver='{ver}'/>"


def available(h, user, resource, ver=VER, **kwargs):
    """Bind C{user}/C{resource} and send initial presence with caps (nothing is cleared)."""
    session = h.bind(user, resource)
    h.send(session, f"<presence>{caps(ver, **kwargs)}</presence>")
    return session


def discoQueries(elements):
    """The disco#info gets among C{elements}."""
    return [e for e in elements if e.name == "iq" and e.getAttribute("type") == "get"
            and firstChild(e, NS_DISCO_INFO, "query") is not None]


def infoXML(features=FEATURES, identity=IDENTITY):
    category, kind, _lang, name = identity
    return (f"<identity category='{category}' type='{kind}' name='{name}'/>"
            + "".join(f"<feature var='{f}'/>" for f in features))


def answer(h, session, query, features=FEATURES):
    """C{session}'s client answers the disco#info C{query} with C{features}."""
    node = firstChild(query, NS_DISCO_INFO, "query")["node"]
    h.send(session, f"<iq type='result' id='{query['id']}' to='{query['from']}'>"
                    f"<query xmlns='{NS_DISCO_INFO}' node='{node}'>{infoXML(features)}</query></iq>")


# --- one query per verification string ---


def test_unknownVerAskedOnce():
    """Caps with an unknown ver get one disco#info of node#ver from the server to the full JID; a verified answer is trusted."""
    h = harness()
    a = available(h, "alice", "a")
    [query] = discoQueries(h.take(a))
    assert (query["from"], query["to"]) == ("localhost", f"{ALICE}/a")
    assert firstChild(query, NS_DISCO_INFO, "query")["node"] == f"{NODE}#{VER}"
    assert not h.caps.wants(a.jid, NOTIFY)
    answer(h, a, query)
    assert h.caps.wants(a.jid, NOTIFY) and h.caps.wants(f"{ALICE}/a", NOTIFY)
    assert not h.caps.wants(a.jid, "urn:xmpp:other+notify")
    assert h.announced.known == [(f"{ALICE}/a", frozenset(FEATURES), True)]
    assert h.caps.cache == {("sha-1", VER): frozenset(FEATURES)}


def test_sameVerCoalesced():
    """Two resources (two users) advertising one ver while it is asked cause one query; the answer serves both."""
    h = harness()
    a = available(h, "alice", "a")
    b = available(h, "bob", "b")
    [query] = discoQueries(h.take(a))
    assert discoQueries(h.take(b)) == []
    answer(h, a, query)
    assert h.caps.wants(a.jid, NOTIFY) and h.caps.wants(b.jid, NOTIFY)
    assert sorted(jid for jid, _f, _a in h.announced.known) == [f"{ALICE}/a", f"{BOB}/b"]


def test_cachedVerNeedsNoQuery():
    """A ver already verified is trusted at once; capsKnown comes once the initial presence is broadcast."""
    h = harness()
    a = available(h, "alice", "a")
    answer(h, a, discoQueries(h.take(a))[0])
    h.announced.known.clear()
    b = available(h, "bob", "b")
    assert discoQueries(h.take(b)) == []
    assert h.caps.wants(b.jid, NOTIFY)
    assert h.announced.known == [(f"{BOB}/b", frozenset(FEATURES), True)]


def test_repeatedPresenceChangesNothing():
    """The same caps again (a presence update) cause no query and no new announcement."""
    h = harness()
    a = available(h, "alice", "a")
    answer(h, a, discoQueries(h.take(a))[0])
    h.send(a, f"<presence><show>away</show>{caps()}</presence>")
    h.send(a, "<presence><show>dnd</show></presence>")
    assert discoQueries(h.take(a)) == [] and len(h.announced.known) == 1
    assert h.caps.wants(a.jid, NOTIFY)


def test_changedVerAnnouncedAgain():
    """A new ver replaces the old one: asked if unknown, then announced with the new features."""
    h = harness()
    a = available(h, "alice", "a")
    answer(h, a, discoQueries(h.take(a))[0])
    h.send(a, f"<presence>{caps(OTHER_VER)}</presence>")
    assert not h.caps.wants(a.jid, NOTIFY)
    [query] = discoQueries(h.take(a))
    answer(h, a, query, OTHER_FEATURES)
    assert h.announced.known[-1] == (f"{ALICE}/a", frozenset(OTHER_FEATURES), True)
    assert not h.caps.wants(a.jid, NOTIFY)


def test_unavailableAndSessionEndForget():
    """Unavailable presence and the end of a session forget the resource's caps."""
    h = harness()
    a = available(h, "alice", "a")
    answer(h, a, discoQueries(h.take(a))[0])
    h.send(a, "<presence type='unavailable'/>")
    assert not h.caps.wants(a.jid, NOTIFY) and h.caps.entities == {}
    h.send(a, f"<presence>{caps()}</presence>")
    assert h.caps.wants(a.jid, NOTIFY)
    h.sm.unbindSession(a)
    assert h.caps.entities == {}


# --- bad input ---


def test_wrongHashNotTrusted():
    """An answer that does not hash to the ver is not trusted nor cached; the next entity with that ver is asked."""
    h = harness()
    liar = available(h, "alice", "liar")
    honest = available(h, "bob", "honest")
    [query] = discoQueries(h.take(liar))
    answer(h, liar, query, FEATURES + ("urn:xmpp:extra",))
    assert not h.caps.wants(liar.jid, NOTIFY) and h.caps.cache == {}
    [second] = discoQueries(h.take(honest))
    assert second["to"] == f"{BOB}/honest"
    answer(h, honest, second)
    assert h.caps.wants(honest.jid, NOTIFY) and not h.caps.wants(liar.jid, NOTIFY)
    assert [jid for jid, _f, _a in h.announced.known] == [f"{BOB}/honest"]


def test_errorAnswerNotTrusted():
    """An error answer leaves the entity with no features."""
    h = harness()
    a = available(h, "alice", "a")
    [query] = discoQueries(h.take(a))
    h.send(a, f"<iq type='error' id='{query['id']}' to='localhost'>"
              "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
              "</error></iq>")
    assert not h.caps.wants(a.jid, NOTIFY) and h.caps.queries == {}


def test_answerFromAnotherJIDIgnored():
    """An answer with the query's id from another resource does not count, and reaches no one."""
    h = harness()
    other = h.login("alice", "other")
    a = available(h, "alice", "a")
    [query] = discoQueries(h.take(a))
    h.take(other)
    answer(h, other, query)
    assert not h.caps.wants(a.jid, NOTIFY) and len(h.caps.requests) == 1
    assert h.take(a) == [] and h.take(other) == []


def test_noAnswerTimesOut():
    """A client that never answers is given up after the timeout; the ver is asked again on a later presence."""
    h = harness(timeout=30)
    a = available(h, "alice", "a")
    assert len(discoQueries(h.take(a))) == 1
    h.clock.advance(30)
    assert h.caps.queries == {} and len(h.caps.requests) == 0
    assert not h.caps.wants(a.jid, NOTIFY)
    b = available(h, "bob", "b")
    [query] = discoQueries(h.take(b))
    answer(h, b, query)
    assert h.caps.wants(b.jid, NOTIFY)


def test_silentClientDoesNotHoldOthers():
    """While one client stays silent, the next one advertising the ver is asked after the timeout and trusted."""
    h = harness(timeout=30)
    silent = available(h, "alice", "silent")
    b = available(h, "bob", "b")
    h.take(silent)
    h.clock.advance(30)
    [query] = discoQueries(h.take(b))
    answer(h, b, query)
    assert h.caps.wants(b.jid, NOTIFY) and not h.caps.wants(silent.jid, NOTIFY)


def test_legacyAndUnsupportedHashIgnored():
    """Caps without hash (legacy format) or with MD5 are not asked about and give no features."""
    h = harness()
    a = available(h, "alice", "a", hashName=None)
    b = available(h, "bob", "b", hashName="md5")
    assert discoQueries(h.take(a)) == [] and discoQueries(h.take(b)) == []
    assert not h.caps.wants(a.jid, NOTIFY) and h.caps.queries == {}


def test_queriesBounded():
    """At most max_queries are outstanding and as many wait; beyond that a ver is not asked. A finished query lets the next go."""
    h = harness(maxQueries=1)
    vers = [verificationString([IDENTITY], FEATURES + (f"urn:x:{i}",)) for i in range(3)]
    sessions = [available(h, "alice", f"r{i}", ver) for i, ver in enumerate(vers)]
    [first] = discoQueries(h.take(sessions[0]))
    assert discoQueries(h.take(sessions[1])) == [] and discoQueries(h.take(sessions[2])) == []
    assert len(h.caps.requests) == 1 and list(h.caps.waiting) == [("sha-1", vers[1])]
    answer(h, sessions[0], first, FEATURES + ("urn:x:0",))
    [second] = discoQueries(h.take(sessions[1]))
    answer(h, sessions[1], second, FEATURES + ("urn:x:1",))
    assert h.caps.wants(sessions[1].jid, "urn:x:1")
    assert not h.caps.wants(sessions[2].jid, NOTIFY) and h.caps.queries == {}


def test_cacheBounded():
    """The cache keeps max_cached strings, dropping the least recently used; entities keep their features."""
    h = harness(maxCached=2)
    vers = [verificationString([IDENTITY], FEATURES + (f"urn:x:{i}",)) for i in range(3)]
    for i, ver in enumerate(vers):
        session = available(h, "alice", f"r{i}", ver)
        answer(h, session, discoQueries(h.take(session))[0], FEATURES + (f"urn:x:{i}",))
    assert list(h.caps.cache) == [("sha-1", vers[1]), ("sha-1", vers[2])]
    assert h.caps.wants("alice@localhost/r0", "urn:x:0")


def test_waitingQueryDroppedWhenNobodyAdvertises():
    """A ver waiting its turn is dropped when its only advertiser goes away."""
    h = harness(maxQueries=1)
    available(h, "alice", "a")
    other = verificationString([IDENTITY], OTHER_FEATURES)
    b = available(h, "bob", "b", other)
    assert ("sha-1", other) in h.caps.waiting
    h.sm.unbindSession(b)
    assert ("sha-1", other) not in h.caps.waiting and ("sha-1", other) not in h.caps.queries


# --- remote entities ---


def remotePresence(h, to=ALICE, presenceType=None, ver=VER, sender=f"{CAROL}/phone"):
    kind = f" type='{presenceType}'" if presenceType else ""
    payload = caps(ver) if presenceType is None else ""
    h.inbound(f"<presence from='{sender}' to='{to}'{kind}>{payload}</presence>")


def test_remoteEntityAsked():
    """Presence with caps from a remote full JID to a user online is asked about through the router, and trusted once verified."""
    h = harness()
    a = h.login("alice", "a")
    remotePresence(h)
    [query] = discoQueries(h.routed())
    assert (query["from"], query["to"]) == ("localhost", f"{CAROL}/phone")
    h.inbound(f"<iq type='result' id='{query['id']}' from='{CAROL}/phone' to='localhost'>"
              f"<query xmlns='{NS_DISCO_INFO}' node='{NODE}#{VER}'>{infoXML()}</query></iq>")
    assert h.caps.wants(f"{CAROL}/phone", NOTIFY)
    assert h.announced.known == [(f"{CAROL}/phone", frozenset(FEATURES), None)]
    assert [p.name for p in h.take(a)] == ["presence"]


def test_remoteEntityForgotten():
    """A remote entity is forgotten on unavailable to every user it told, or when those users' last sessions end."""
    h = harness()
    a = h.login("alice", "a")
    b = h.login("bob", "b")
    remotePresence(h)
    query = discoQueries(h.routed())[0]
    h.inbound(f"<iq type='result' id='{query['id']}' from='{CAROL}/phone' to='localhost'>"
              f"<query xmlns='{NS_DISCO_INFO}'>{infoXML()}</query></iq>")
    remotePresence(h, to=BOB)
    assert h.caps.heardBy(f"{CAROL}/phone") == {ALICE, BOB}
    assert len(h.announced.known) == 1  # known already: not announced for bob
    remotePresence(h, to=ALICE, presenceType="unavailable")
    assert h.caps.wants(f"{CAROL}/phone", NOTIFY)
    assert h.caps.heardBy(f"{CAROL}/phone") == {BOB} and h.caps.heardBy(a.jid) == frozenset()
    h.sm.unbindSession(b)
    assert not h.caps.wants(f"{CAROL}/phone", NOTIFY) and h.caps.entities == {}
    assert h.caps._remote == 0 and a.available


def test_remoteIgnoredForUserOffline():
    """Presence for a user with no session is not tracked (nobody would see it)."""
    h = harness()
    remotePresence(h)
    assert discoQueries(h.routed()) == [] and h.caps.entities == {}


def test_remoteEntitiesBounded():
    """Past max_entities, new remote entities are not tracked."""
    h = harness(maxEntities=1)
    h.login("alice", "a")
    remotePresence(h, sender=f"{CAROL}/one")
    remotePresence(h, sender=f"{CAROL}/two")
    assert list(h.caps.entities) == [f"{CAROL}/one"]


# --- the server's own caps (section 6.3) ---


def test_serverCapsVerifyAgainstDisco():
    """The stream feature's ver is the hash of the server's disco#info, which lists caps; its node#ver is answered alike."""
    h = harness()
    [c] = [e for e in h.sm.collect("streamFeatures") if e.uri == NS_CAPS]
    assert (c.uri, c.name, c["hash"], c["node"]) == (NS_CAPS, "c", "sha-1", SERVER_NODE)
    a = h.login("alice", "a")
    h.send(a, f"<iq type='get' id='d1' to='localhost'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    [plain] = h.take(a)
    info = firstChild(plain, NS_DISCO_INFO, "query")
    assert NS_CAPS in [f["var"] for f in info.elements(NS_DISCO_INFO, "feature")]
    assert infoOf(info) == c["ver"]
    h.send(a, f"<iq type='get' id='d2' to='localhost'><query xmlns='{NS_DISCO_INFO}' "
              f"node='{SERVER_NODE}#{c['ver']}'/></iq>")
    [noded] = h.take(a)
    assert noded["type"] == "result" and infoOf(firstChild(noded, NS_DISCO_INFO, "query")) == c["ver"]
    h.send(a, f"<iq type='get' id='d3' to='localhost'><query xmlns='{NS_DISCO_INFO}' "
              f"node='{SERVER_NODE}#wrong'/></iq>")
    assert errorCondition(h.take(a)[0]) == "item-not-found"


# --- configuration ---


def test_fromConfig():
    """[caps] sets the bounds and the timeout; zero for a bound that must hold something is an error."""
    config = parseConfig("[caps]\nmax_cached = 5\ntimeout = 7\nmax_queries = 3\nmax_entities = 9\n")
    handler = CapsHandler.fromConfig(config, clock=Clock())
    assert (handler.maxCached, handler.requests.timeout, handler.maxQueries,
            handler.maxEntities) == (5, 7, 3, 9)
    defaults = CapsHandler.fromConfig(parseConfig(""), clock=Clock())
    assert (defaults.maxCached, defaults.requests.timeout, defaults.maxQueries) == (10000, 30, 100)
    with pytest.raises(ConfigError, match=r"\[caps\] timeout"):
        parseConfig("[caps]\ntimeout = 0\n")


def test_attachedBeforePresenceDelivery():
    """In the built session manager the caps handler is 'caps' and sees presence before the presence handler takes it, after blocking."""
    from jabberd.sm.modules import buildSessionManager
    from jabberd.storage.memory import MemoryStorage

    sm = buildSessionManager(parseConfig(""), MemoryStorage(), router=None)
    caps = sm.handler("caps")
    assert isinstance(caps, CapsHandler)
    for hook in ("onInbound", "onOutbound"):
        owners = [method.__self__ for method in sm.hooks(hook)]
        assert owners.index(caps) < owners.index(sm.handler("presence"))
        assert owners.index(sm.handler("blocking")) < owners.index(caps)


def test_componentOccupantsNotTracked():
    """Presence with caps from a component's JID (a room occupant) is not asked about."""
    h = harness()

    class Route:
        remote = False

    class Router:
        routes = {"conference.localhost": Route()}

    h.sm.router = Router()
    h.login("alice", "a")
    remotePresence(h, sender="room@conference.localhost/nick")
    assert discoQueries(h.routed()) == [] and h.caps.entities == {}
    remotePresence(h)
    assert len(discoQueries(h.routed())) == 1
