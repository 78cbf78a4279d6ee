"""
Tests for rooms' message archives (components.conference.archive and
components.conference.mam; XEP-0313 for MUC rooms, XEP-0359 stanza-ids):
what is archived and stamped, the room configuration switch, queries to
the room with paging and access rules, join history from the archive after
a restart, removal and retention.
"""

from jabberd.ns import (NS_DATA, NS_DELAY, NS_DISCO_INFO, NS_FORWARD, NS_MAM, NS_MUC_OWNER,
                        NS_RSM, NS_SID)
from jabberd.stanza import firstChild
from jabberd.storage.memory import MemoryStorage
from components.conference.store import MemoryRoomStore
from tests.components.conference.muchelpers import (BOB, CAROL, OWNER, ROOM, Conference, bodyText,
                                                    child, delay, errorCondition, named, to)
from tests.sm.helpers import result

PERSISTENT = {"muc#roomconfig_persistentroom": "1"}


def room(*users, options="", storage=None, store=None, **fields):
    c = Conference(options, storage=storage if storage is not None else MemoryStorage(),
                   store=store)
    c.createConfigured(dict(fields)) if fields else c.createInstant()
    for user in users:
        c.join(user, user.split("@")[0])
    c.take()
    return c


def archivedIn(c, jid=ROOM):
    return result(c.service.archive.store.query(jid)).items


def stanzaIds(stanza):
    return [(e["by"], e["id"]) for e in stanza.elements(NS_SID, "stanza-id")]


def mamQuery(c, sender, rsm="", to_=ROOM, queryid="q1", form=""):
    return c.send(f"<iq type='set' id='mam1' from='{sender}' to='{to_}'>"
                  f"<query xmlns='{NS_MAM}' queryid='{queryid}'>{form}{rsm}</query></iq>")


def answer(out):
    """The iq answer among what a query sent."""
    return named(out, "iq")[0]


def forwardedMessages(out):
    messages = []
    for m in named(out, "message"):
        forwarded = firstChild(firstChild(m, NS_MAM, "result"), NS_FORWARD, "forwarded")
        messages.append((m, [e for e in forwarded.elements() if e.name == "message"][0],
                         firstChild(forwarded, NS_DELAY, "delay")))
    return messages


def roomFeatures(c, sender=BOB):
    out = c.send(f"<iq type='get' id='d1' from='{sender}' to='{ROOM}'>"
                 f"<query xmlns='{NS_DISCO_INFO}'/></iq>")
    query = child(out[0], NS_DISCO_INFO, "query")
    return {f["var"] for f in query.elements(NS_DISCO_INFO, "feature")}


def test_groupchatIsArchivedWithTheStanzaId():
    """A reflected message carries a stanza-id by the room, the id its archive holds."""
    c = room(BOB)
    out = c.say(BOB, "hello")
    items = archivedIn(c)
    assert len(items) == 1 and items[0].peer == ROOM + "/bob"
    assert {tuple(stanzaIds(s)) for s in out} == {((ROOM, items[0].id),)}
    assert items[0].type == "groupchat" and "hello" in items[0].xml


def test_forgedRoomStanzaIdIsRemoved():
    """A client's stanza-id claiming the room goes; one by another entity stays."""
    c = room(BOB)
    out = c.send(f"<message from='{BOB}' to='{ROOM}' type='groupchat'><body>b</body>"
                 f"<stanza-id xmlns='{NS_SID}' by='{ROOM}' id='forged'/>"
                 f"<stanza-id xmlns='{NS_SID}' by='bob@localhost' id='own'/></message>")
    ids = stanzaIds(out[0])
    assert ("bob@localhost", "own") in ids and (ROOM, "forged") not in ids
    assert [i for by, i in ids if by == ROOM] == [archivedIn(c)[0].id]


def test_subjectAndPrivateMessagesAreNotArchived():
    """Subject changes and private messages stay out of the room's archive."""
    c = room(BOB)
    c.send(f"<message from='{OWNER}' to='{ROOM}' type='groupchat'><subject>s</subject>"
           "</message>")
    out = c.send(f"<message from='{OWNER}' to='{ROOM}/bob' type='chat'><body>psst</body>"
                 "</message>")
    assert bodyText(out[0]) == "psst" and stanzaIds(out[0]) == []
    assert archivedIn(c) == []


def test_roomTurnsArchivingOff():
    """With muc#roomconfig_enablearchiving off, nothing is archived or stamped."""
    c = room(BOB, **{"muc#roomconfig_enablearchiving": "0"})
    out = c.say(BOB, "not kept")
    assert stanzaIds(out[0]) == [] and archivedIn(c) == []
    assert errorCondition(answer(mamQuery(c, BOB))) == "feature-not-implemented"


def test_serviceDefaultOffAndTheFormShowsIt():
    """archive = no makes new rooms not archive; the owner form offers the switch."""
    c = room(options="archive = no")
    assert c.room().config.archiving is False
    out = c.send(f"<iq type='get' id='f1' from='{OWNER}' to='{ROOM}'>"
                 f"<query xmlns='{NS_MUC_OWNER}'/></iq>")
    form = child(child(out[0], NS_MUC_OWNER, "query"), NS_DATA, "x")
    fields = {f["var"]: f for f in form.elements(NS_DATA, "field")}
    value = child(fields["muc#roomconfig_enablearchiving"], NS_DATA, "value")
    assert fields["muc#roomconfig_enablearchiving"]["type"] == "boolean"
    assert str(value) in ("0", "false")


def test_discoAdvertisesTheArchiveOnlyWhileArchiving():
    """A room lists urn:xmpp:mam:2 in disco#info while it archives, not after turning it off."""
    c = room(BOB)
    assert {NS_MAM, NS_SID} <= roomFeatures(c)
    c.submitConfig(OWNER, {"muc#roomconfig_enablearchiving": "0"})
    assert NS_MAM not in roomFeatures(c)


def test_queryPagesFromTheRoom():
    """Results come from the room JID, forward the reflected message, and page with RSM."""
    c = room(BOB, CAROL)
    for n in range(5):
        c.say(BOB if n % 2 else CAROL, f"m{n}")
    ids = [item.id for item in archivedIn(c)]
    out = mamQuery(c, BOB, rsm=f"<set xmlns='{NS_RSM}'><max>2</max></set>")
    results = forwardedMessages(out)
    assert [bodyText(inner) for _m, inner, _d in results] == ["m0", "m1"]
    assert all(m["from"] == ROOM and m["to"] == BOB for m, _i, _d in results)
    assert [inner["from"] for _m, inner, _d in results] == [ROOM + "/carol", ROOM + "/bob"]
    assert all(d is not None and d.getAttribute("stamp") for _m, _i, d in results)
    fin = child(answer(out), NS_MAM, "fin")
    assert fin["queryid"] == "q1" and fin.getAttribute("complete") is None
    last = str(child(child(fin, NS_RSM, "set"), NS_RSM, "last"))
    assert last == ids[1]
    out = mamQuery(c, BOB, rsm=f"<set xmlns='{NS_RSM}'><max>10</max><after>{last}</after>"
                               "</set>")
    assert [bodyText(inner) for _m, inner, _d in forwardedMessages(out)] == ["m2", "m3", "m4"]
    assert child(answer(out), NS_MAM, "fin")["complete"] == "true"


def test_queryWithOccupant():
    """with=room/nick selects that occupant's messages."""
    c = room(BOB, CAROL)
    c.say(BOB, "from bob")
    c.say(CAROL, "from carol")
    form = (f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'><value>{NS_MAM}"
            f"</value></field><field var='with'><value>{ROOM}/carol</value></field></x>")
    out = mamQuery(c, BOB, form=form)
    assert [bodyText(inner) for _m, inner, _d in forwardedMessages(out)] == ["from carol"]


def test_membersOnlyRoomRefusesNonMembers():
    """In a members-only room a non-member may not query; a member who is away may."""
    c = room(**{"muc#roomconfig_membersonly": "1"})
    c.admin(OWNER, "<item affiliation='member' jid='bob@localhost'/>")
    c.say(OWNER, "members only")
    assert errorCondition(answer(mamQuery(c, CAROL))) == "forbidden"
    out = mamQuery(c, BOB)
    assert [bodyText(inner) for _m, inner, _d in forwardedMessages(out)] == ["members only"]


def test_outcastMayNotQueryAnOpenRoom():
    """Anyone but an outcast may query an open room's archive."""
    c = room()
    c.say(OWNER, "open")
    c.admin(OWNER, "<item affiliation='outcast' jid='carol@localhost'/>")
    assert errorCondition(answer(mamQuery(c, CAROL))) == "forbidden"
    assert len(forwardedMessages(mamQuery(c, BOB))) == 1


def test_queryToTheServiceOrAMissingRoom():
    """The service keeps no archive; a room that does not exist is item-not-found."""
    c = room()
    assert errorCondition(answer(mamQuery(c, BOB, to_="conference.localhost"))) \
        == "service-unavailable"
    assert errorCondition(answer(mamQuery(c, BOB, to_="nosuch@conference.localhost"))) \
        == "item-not-found"


def test_queryFormFromTheRoom():
    """A get of the query element returns the search form."""
    c = room()
    out = c.send(f"<iq type='get' id='g' from='{BOB}' to='{ROOM}'><query xmlns='{NS_MAM}'/>"
                 "</iq>")
    assert out[0]["type"] == "result"
    assert child(child(out[0], NS_MAM, "query"), NS_DATA, "x") is not None


def test_persistentHistoryComesFromTheArchiveAfterRestart():
    """A fresh service fills a persistent room's join history from its archive."""
    storage, store = MemoryStorage(), MemoryRoomStore()
    c = room(BOB, storage=storage, store=store, **PERSISTENT)
    c.say(BOB, "before the restart")
    [archivedId] = [item.id for item in archivedIn(c)]

    fresh = Conference(storage=storage, store=store)
    assert fresh.service.ready
    out = to(fresh.join(CAROL, "carol"), CAROL)
    history = [m for m in named(out, "message") if bodyText(m)]
    assert [bodyText(m) for m in history] == ["before the restart"]
    assert history[0]["from"] == ROOM + "/bob"
    assert delay(history[0]) is not None and stanzaIds(history[0]) == [(ROOM, archivedId)]


def test_historyAfterRestartHonoursMaxstanzas():
    """The reloaded history is limited by the client's maxstanzas like any other."""
    storage, store = MemoryStorage(), MemoryRoomStore()
    c = room(BOB, storage=storage, store=store, **PERSISTENT)
    for n in range(4):
        c.say(BOB, f"m{n}")
    fresh = Conference(storage=storage, store=store)
    out = to(fresh.join(CAROL, "carol", history="maxstanzas='2'"), CAROL)
    assert [bodyText(m) for m in named(out, "message") if bodyText(m)] == ["m2", "m3"]


def test_destroyedRoomTakesItsArchive():
    """Destroying a room removes its archive."""
    c = room(BOB)
    c.say(BOB, "gone soon")
    c.send(f"<iq type='set' id='x' from='{OWNER}' to='{ROOM}'><query xmlns='{NS_MUC_OWNER}'>"
           "<destroy/></query></iq>")
    assert archivedIn(c) == []


def test_temporaryRoomTakesItsArchiveWhenEmpty():
    """A temporary room that vanishes with its last occupant removes its archive."""
    c = room()
    c.say(OWNER, "short-lived")
    c.leave(OWNER, "owner")
    assert c.room() is None and archivedIn(c) == []


def test_sweepTrimsToMaxPerRoom():
    """A sweep keeps the newest archive_max_per_room messages of each room."""
    c = room(BOB, options="archive_max_per_room = 2")
    for n in range(5):
        c.say(BOB, f"m{n}")
    result(c.service.archive.sweep())
    assert ["m3" in i.xml or "m4" in i.xml for i in archivedIn(c)] == [True, True]


def test_optionsAreRead():
    """The archive options of the component section reach the room archive."""
    c = room(options="archive_max_page = 7\narchive_max_per_room = 0")
    assert (c.service.archive.maxPage, c.service.archive.maxPerRoom) == (7, 0)


def test_shutdownWaitsForArchiveWork():
    """Stopping the service fires only after pending archive writes and removals are done."""
    from twisted.internet import defer

    class SlowStore:
        def __init__(self, store):
            self.store, self.held = store, []

        def __getattr__(self, name):
            return getattr(self.store, name)

        def appendMany(self, entries):
            d = defer.Deferred()
            self.held.append((d, entries))
            return d

    c = room(BOB)
    archive = c.service.archive
    slow = archive.store = SlowStore(archive.store)
    c.say(BOB, "on its way")
    done = c.service.shutdown()
    assert not done.called
    for d, entries in slow.held:
        result(slow.store.appendMany(entries))
        d.callback(None)
    assert done.called


def test_roomThatNeverArchivedCostsNoRemoval():
    """A room that archived nothing goes without a write to the archive store."""
    c = room()
    removed = []
    store = c.service.archive.store
    store.removeOwner = lambda jid: removed.append(jid)
    c.leave(OWNER, "owner")
    assert c.room() is None and removed == []
