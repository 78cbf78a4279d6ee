"""
Room archives, occupant ids and self-ping end to end (XEP-0313 for MUC
rooms, XEP-0359, XEP-0421, XEP-0410): a real jabberd on SQLite and
PostgreSQL, slixmpp's xep_0045, xep_0313, xep_0359, xep_0421 and xep_0410
plugins, raw XML for the error cases; a persistent room's history and
archive survive a restart of the server.
"""

import asyncio
import xml.etree.ElementTree as ET

import pytest
from slixmpp.exceptions import IqError

from tests.integration.clients import Client, run

MUC = "conference.localhost"
NS_MAM = "urn:xmpp:mam:2"
NS_SID = "urn:xmpp:sid:0"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
NS_SELF_PING = "http://jabber.org/protocol/muc#self-ping-optimization"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
PLUGINS = ["xep_0004", "xep_0045", "xep_0059", "xep_0313", "xep_0359", "xep_0421",
           "xep_0410"]
CONFERENCE_SECTION = f"[component:{MUC}]\nplugin = conference\n"


async def login(server, name, resource="archive"):
    client = Client(f"{name}@localhost/{resource}", name + "pw", plugins=PLUGINS)
    assert await client.login(server.ports["c2s"])
    return client


async def makeRoom(owner, room, nick, **fields):
    """Create C{room} with C{fields} (var -> value) set in its configuration form."""
    await owner["xep_0045"].join_muc_wait(room, nick, timeout=10)
    form = await owner["xep_0045"].get_room_config(room)
    existing = form.get_fields()
    for var, value in fields.items():
        existing[var]["value"] = value
    await owner["xep_0045"].set_room_config(room, form)


async def say(sender, room, text, readers=()):
    """Send C{text} to the room; the copy each of C{readers} (and the sender) got."""
    sender.send_message(room, text, mtype="groupchat")
    return [await c.nextMessage(lambda m: m["body"] == text) for c in (sender, *readers)]


def roomStanzaIds(message, room):
    return [e.get("id") for e in message.xml.findall(f"{{{NS_SID}}}stanza-id")
            if e.get("by") == room]


async def features(client, room):
    info = await client["xep_0030"].get_info(jid=room, timeout=10)
    return set(info["disco_info"]["features"])


async def retrieve(client, room, **kwargs):
    """(archive id, sender, body) of one query's results, and the answer."""
    iq = await client["xep_0313"].retrieve(jid=room, timeout=10, **kwargs)
    return [(m["mam_result"]["id"], str(m["mam_result"]["forwarded"]["stanza"]["from"]),
             m["mam_result"]["forwarded"]["stanza"]["body"])
            for m in iq["mam"]["results"]], iq


async def queryCondition(client, room):
    """The error condition of a raw query of C{room}'s archive, or None on success."""
    iq = client.make_iq_set(ito=room)
    iq.append(ET.fromstring(f"<query xmlns='{NS_MAM}'/>"))
    try:
        await iq.send(timeout=10)
    except IqError as e:
        return e.condition
    return None


async def archivedCount(client, room, count):
    """Wait until the room's archive holds C{count} messages (writes are not waited for)."""
    for _ in range(100):
        results, _ = await retrieve(client, room)
        if len(results) >= count:
            return results
        await asyncio.sleep(0.05)
    raise AssertionError(f"the archive of {room} never held {count} messages")


def test_reflectedMessagesAreArchivedAndQueriedFromTheRoom(server):
    """Copies carry the room's stanza-id; the room's archive pages them with those ids."""
    async def body():
        alice, bob = await login(server, "alice"), await login(server, "bob")
        room = "archived@" + MUC
        await makeRoom(alice, room, "Alice")
        await bob["xep_0045"].join_muc_wait(room, "Bob", timeout=10)
        found = await features(bob, room)
        assert {NS_MAM, NS_SID, NS_OCCUPANT_ID, NS_SELF_PING} <= found
        ids = []
        for n in range(5):
            copies = await say(alice if n % 2 else bob, room, f"message {n}",
                               readers=(bob if n % 2 else alice,))
            [one], [two] = (roomStanzaIds(c, room) for c in copies)
            assert one == two and copies[0]["stanza_id"]["by"] == room
            ids.append(one)
        results, iq = await retrieve(bob, room, rsm={"max": 2})
        assert [r[0] for r in results] == ids[:2]
        assert [r[1:] for r in results] == [(room + "/Bob", "message 0"),
                                           (room + "/Alice", "message 1")]
        last = iq["mam_fin"]["rsm"]["last"]
        results, iq = await retrieve(bob, room, rsm={"max": 10, "after": last})
        assert [r[0] for r in results] == ids[2:] and iq["mam_fin"]["complete"]
        for client in (alice, bob):
            await client.close()
    run(body())


def test_roomMayTurnArchivingOff(server):
    """With muc#roomconfig_enablearchiving off: no stanza-id, no disco feature, no queries."""
    async def body():
        carol = await login(server, "carol")
        room = "unarchived@" + MUC
        await makeRoom(carol, room, "Carol", **{"muc#roomconfig_enablearchiving": False})
        [copy] = await say(carol, room, "not kept")
        assert roomStanzaIds(copy, room) == []
        assert NS_MAM not in await features(carol, room)
        assert await queryCondition(carol, room) == "feature-not-implemented"
        await carol.close()
    run(body())


def test_membersOnlyArchiveRefusesNonMembers(server):
    """A members-only room's archive answers its members and refuses anyone else."""
    async def body():
        dave, erin, frank = [await login(server, n) for n in ("dave", "erin", "frank")]
        room = "members@" + MUC
        await makeRoom(dave, room, "Dave", **{"muc#roomconfig_membersonly": True})
        await dave["xep_0045"].set_affiliation(room, "member", jid="erin@localhost")
        await say(dave, room, "for members")
        assert await queryCondition(frank, room) == "forbidden"
        results = await archivedCount(erin, room, 1)
        assert [r[2] for r in results] == ["for members"]
        for client in (dave, erin, frank):
            await client.close()
    run(body())


def test_occupantIdStableAcrossRejoinAndDistinct(server):
    """The occupant id is the same after leaving and rejoining, and differs between users."""
    async def body():
        alice, bob = await login(server, "alice", "oid"), await login(server, "bob", "oid")
        room = "ids@" + MUC
        await makeRoom(alice, room, "Alice")
        presence, *_ = await bob["xep_0045"].join_muc_wait(room, "Bob", timeout=10)
        first = presence["occupant-id"]["id"]
        [mine, seen] = await say(bob, room, "who am I", readers=(alice,))
        assert mine["occupant-id"]["id"] == seen["occupant-id"]["id"] == first
        bob["xep_0045"].leave_muc(room, "Bob")
        await bob.nextPresence(lambda p: p["type"] == "unavailable")
        presence, *_ = await bob["xep_0045"].join_muc_wait(room, "Robert", timeout=10)
        assert presence["occupant-id"]["id"] == first
        [own] = await say(alice, room, "and me")
        assert first and own["occupant-id"]["id"] not in ("", first)
        for client in (alice, bob):
            await client.close()
    run(body())


def test_selfPing(server):
    """A self-ping is answered while joined, and not-acceptable after leaving."""
    async def body():
        carol = await login(server, "carol", "ping")
        room = "pings@" + MUC
        await makeRoom(carol, room, "Carol")
        status = await carol["xep_0410"].send_self_ping(f"{room}/Carol", timeout=10)
        assert status.name == "JOINED"
        carol["xep_0045"].leave_muc(room, "Carol")
        await carol.nextPresence(lambda p: p["type"] == "unavailable")
        iq = carol.make_iq_get(ito=f"{room}/Carol")
        iq.append(ET.fromstring("<ping xmlns='urn:xmpp:ping'/>"))
        with pytest.raises(IqError) as refused:
            await iq.send(timeout=10)
        assert refused.value.condition == "not-acceptable"
        assert await carol["xep_0410"].send_self_ping(f"{room}/Carol", timeout=10) \
            != status
        await carol.close()
    run(body())


@pytest.fixture
def ownServer(ownServers):
    """Make a jabberd of this module's back end with a database of its own and extra conference options."""
    return lambda options="": ownServers.make({CONFERENCE_SECTION: CONFERENCE_SECTION + options})


def test_persistentHistoryAndArchiveSurviveRestart(ownServer):
    """After a restart, joining a persistent room brings its history, and its archive is intact."""
    proc = ownServer()
    room = "kept@" + MUC

    async def before():
        alice = await login(proc, "alice")
        await makeRoom(alice, room, "Alice", **{"muc#roomconfig_persistentroom": True})
        ids = []
        for text in ("kept 1", "kept 2"):
            [copy] = await say(alice, room, text)
            ids.extend(roomStanzaIds(copy, room))
        await archivedCount(alice, room, 2)
        await alice.close()
        return ids, copy["occupant-id"]["id"]

    ids, occupantId = run(before())
    proc.stop()
    proc.start()

    async def after():
        bob = await login(proc, "bob")
        _presence, _subject, _occupants, history = await bob["xep_0045"].join_muc_wait(
            room, "Bob", maxstanzas=10, timeout=10)
        kept = [m for m in history if m["body"].startswith("kept")]
        assert [m["body"] for m in kept] == ["kept 1", "kept 2"]
        assert all(m.xml.find("{urn:xmpp:delay}delay") is not None for m in kept)
        assert [roomStanzaIds(m, room) for m in kept] == [[i] for i in ids]
        assert {m["occupant-id"]["id"] for m in kept} == {occupantId}
        results, _ = await retrieve(bob, room)
        assert [r[0] for r in results] == ids
        await bob.close()

    run(after())


def test_serviceDefaultArchiveOff(ownServer):
    """With archive = no for the service, a new room neither archives nor advertises it."""
    proc = ownServer("archive = no\n")

    async def body():
        alice = await login(proc, "alice")
        room = "quiet@" + MUC
        await makeRoom(alice, room, "Alice")
        [copy] = await say(alice, room, "unrecorded")
        assert roomStanzaIds(copy, room) == []
        assert NS_MAM not in await features(alice, room)
        await alice.close()
    run(body())
