"""
Bookmarks end to end (XEP-0402 with its section 5.3 compatibility): a real
jabberd on SQLite and PostgreSQL; an old client of the account uses
slixmpp's xep_0048 over private XML storage (xep_0049) or over PEP
(xep_0223), a new one slixmpp's xep_0402 stanzas published with xep_0060,
and both see the same rooms, with notifications by caps (xep_0115).
"""

import re

from slixmpp.plugins.xep_0048 import Bookmarks
from slixmpp.plugins.xep_0402.stanza import Conference
from slixmpp.stanza.error import Error

from tests.integration.clients import run
from tests.integration.harness import ServerProcess
from tests.integration.test_pep import NS_EVENT, TIMEOUT, closeAll, failure, options, rawIq
from tests.integration.test_pep_abuse import rawUser, readCount
from tests.integration.test_pep_caps import login as capsLogin

# COMPAT: slixmpp knows the stanza error conditions of RFC 3920 only; without
# RFC 6120's policy-violation it cannot read the error a full node gets.
Error.conditions.add("policy-violation")

NS_BOOKMARKS2 = "urn:xmpp:bookmarks:1"
NS_BOOKMARKS = "storage:bookmarks"
OLD = ["xep_0045", "xep_0049", "xep_0060", "xep_0163", "xep_0223", "xep_0048"]
NEW = ["xep_0060", "xep_0163", "xep_0402"]
ROOM = "coven@conference.localhost"
OTHER = "orchard@conference.localhost"


def login(server, jid, plugins, interest=()):
    """A client with C{plugins} whose caps (xep_0115) want NODE+notify for each node of C{interest}."""
    return capsLogin(server, jid, interest, plugins)


def bookmarkOptions():
    """The publish-options of XEP-0402 section 3."""
    return options(persist_items="true", max_items="max", send_last_published_item="never",
                   access_model="whitelist")


def publish(client, room, name=None, autojoin=False, nick=None):
    """A XEP-0402 client bookmarks C{room}: one item, its id the room JID."""
    conference = Conference()
    if name:
        conference["name"] = name
    conference["autojoin"] = autojoin
    if nick:
        conference["nick"] = nick
    return client["xep_0060"].publish(client.boundjid.bare, NS_BOOKMARKS2, id=room,
                                      payload=conference, options=bookmarkOptions(),
                                      timeout=TIMEOUT)


async def newRooms(client):
    """Room JID -> (name, autojoin, nick) of the XEP-0402 node, as a new client reads it."""
    result = await client["xep_0060"].get_items(client.boundjid.bare, NS_BOOKMARKS2,
                                                timeout=TIMEOUT)
    found = {}
    for item in result["pubsub"]["items"]:
        conference = item["conference"]
        found[item["id"]] = (conference["name"] or None, conference["autojoin"],
                             conference["nick"] or None)
    return found


def oldList(*rooms, url=None):
    """A XEP-0048 <storage/>: (room, name, autojoin, nick) each, and a web page if given."""
    storage = Bookmarks()
    for room, name, autojoin, nick in rooms:
        storage.add_conference(room, nick, name=name, autojoin=autojoin)
    if url:
        storage.add_url(url, name="Docs")
    return storage


def conferencesOf(storage):
    """Room JID -> (name, autojoin, nick) of a XEP-0048 <storage/>."""
    return {str(c["jid"]):
            (c["name"] or None, c["autojoin"], c["nick"] or None)
            for c in storage["conferences"]}


async def oldRooms(client):
    """What an old client reads from private XML storage (XEP-0049)."""
    result = await client["xep_0048"].get_bookmarks(method="xep_0049", timeout=TIMEOUT)
    return conferencesOf(result["private"]["bookmarks"]), result["private"]["bookmarks"]


async def nextEvent(client, node, kind):
    """The ids of the next notification about C{node} with C{kind} children (item, retract)."""
    def match(message):
        items = message.xml.find(f"{{{NS_EVENT}}}event/{{{NS_EVENT}}}items[@node='{node}']")
        return items is not None and items.find(f"{{{NS_EVENT}}}{kind}") is not None
    message = await client.nextMessage(match)
    items = message.xml.find(f"{{{NS_EVENT}}}event/{{{NS_EVENT}}}items")
    return [e.get("id") for e in items.findall(f"{{{NS_EVENT}}}{kind}")]


def test_newClientBookmarkShowsToOldClient(server):
    """A XEP-0402 bookmark is notified to the account's +notify resource and read by a XEP-0048 client from private XML."""
    async def body():
        new = await login(server, "alice@localhost/new", NEW)
        other = await login(server, "alice@localhost/other", NEW, interest=[NS_BOOKMARKS2])
        old = await login(server, "alice@localhost/old", OLD)
        await publish(new, ROOM, name="The Coven", autojoin=True, nick="hag")
        assert await nextEvent(other, NS_BOOKMARKS2, "item") == [ROOM]
        rooms, _storage = await oldRooms(old)
        assert rooms == {ROOM: ("The Coven", True, "hag")}
        await new["xep_0060"].retract(new.boundjid.bare, NS_BOOKMARKS2, ROOM, notify=True,
                                      timeout=TIMEOUT)
        assert await nextEvent(other, NS_BOOKMARKS2, "retract") == [ROOM]
        assert (await oldRooms(old))[0] == {}
        await closeAll(new, other, old)
    run(body())


def test_oldClientListShowsToNewClient(server):
    """A XEP-0048 private XML set becomes XEP-0402 items (new ones notified, removed ones retracted), its <url/> kept."""
    async def body():
        new = await login(server, "bob@localhost/new", NEW, interest=[NS_BOOKMARKS2])
        old = await login(server, "bob@localhost/old", OLD)
        await old["xep_0048"].set_bookmarks(
            oldList((ROOM, "The Coven", True, "witch"), (OTHER, "Orchard", False, "bob"),
                    url="https://example.org/"),
            method="xep_0049", timeout=TIMEOUT)
        notified = set(await nextEvent(new, NS_BOOKMARKS2, "item"))
        notified |= set(await nextEvent(new, NS_BOOKMARKS2, "item"))
        assert notified == {ROOM, OTHER}
        assert await newRooms(new) == {ROOM: ("The Coven", True, "witch"),
                                       OTHER: ("Orchard", False, "bob")}
        await old["xep_0048"].set_bookmarks(oldList((OTHER, "Orchard", True, "bob")),
                                            method="xep_0049", timeout=TIMEOUT)
        assert await nextEvent(new, NS_BOOKMARKS2, "retract") == [ROOM]
        assert await nextEvent(new, NS_BOOKMARKS2, "item") == [OTHER]
        assert await newRooms(new) == {OTHER: ("Orchard", True, "bob")}
        rooms, storage = await oldRooms(old)
        assert rooms == {OTHER: ("Orchard", True, "bob")}
        assert storage.xml.find(f"{{{NS_BOOKMARKS}}}url") is None  # the second list had none
        await closeAll(new, old)
    run(body())


def test_legacyPEPNodeBothWays(server):
    """The XEP-0048 PEP node (xep_0223) is written from XEP-0402 changes, and what an old PEP client stores becomes items."""
    async def body():
        new = await login(server, "carol@localhost/new", NEW, interest=[NS_BOOKMARKS2])
        old = await login(server, "carol@localhost/old", OLD, interest=[NS_BOOKMARKS])
        await publish(new, ROOM, name="The Coven", autojoin=True, nick="carol")
        assert await nextEvent(new, NS_BOOKMARKS2, "item") == [ROOM]  # its own, by caps
        await nextEvent(old, NS_BOOKMARKS, "item")
        result = await old["xep_0048"].get_bookmarks(method="xep_0223", timeout=TIMEOUT)
        items = list(result["pubsub"]["items"])
        assert len(items) == 1
        assert conferencesOf(items[0]["bookmarks"]) == {ROOM: ("The Coven", True, "carol")}
        await old["xep_0048"].set_bookmarks(
            oldList((ROOM, "The Coven", True, "carol"), (OTHER, "Orchard", True, "c")),
            method="xep_0223", timeout=TIMEOUT)
        assert await nextEvent(new, NS_BOOKMARKS2, "item") == [OTHER]
        assert await newRooms(new) == {ROOM: ("The Coven", True, "carol"),
                                       OTHER: ("Orchard", True, "c")}
        await closeAll(new, old)
    run(body())


def test_accountAdvertisesCompatibility(server):
    """The account's disco#info lists urn:xmpp:bookmarks:1#compat and #compat-pep."""
    async def body():
        client = await login(server, "dave@localhost/disco", NEW)
        info = await client["xep_0030"].get_info(jid="dave@localhost", timeout=TIMEOUT)
        features = set(info["disco_info"]["features"])
        assert {NS_BOOKMARKS2 + "#compat", NS_BOOKMARKS2 + "#compat-pep"} <= features
        await client.close()
    run(body())


def test_badBookmarksRefusedNothingLost(server):
    """A non-JID item id, a foreign payload and a conference without jid are refused; the bookmarks stay."""
    async def body():
        client = await login(server, "erin@localhost/bad", OLD + ["xep_0402"])
        await publish(client, ROOM, name="Kept")
        assert (await failure(publish(client, "not a room")))[0] == "jid-malformed"
        assert (await failure(rawIq(client, "set",
            f"<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='{NS_BOOKMARKS2}'>"
            f"<item id='{OTHER}'><entry xmlns='urn:test'/></item></publish></pubsub>")))[0] \
            == "bad-request"
        assert (await failure(rawIq(client, "set",
            f"<query xmlns='jabber:iq:private'><storage xmlns='{NS_BOOKMARKS}'>"
            f"<conference name='no jid'/></storage></query>")))[0] == "jid-malformed"
        assert await newRooms(client) == {ROOM: ("Kept", False, None)}
        assert (await oldRooms(client))[0] == {ROOM: ("Kept", False, None)}
        await client.close()
    run(body())


def test_restartKeepsBookmarksAndLimit(tmp_path):
    """Bookmarks converted from XEP-0048 survive a restart (SQLite); past [pep] max_items_per_node a new room is refused."""
    proc = ServerProcess(tmp_path, extra="\n[pep]\nmax_items_per_node = 2\n")
    proc.start()
    try:
        proc.adduser("nina", "ninapw")

        async def before():
            old = await login(proc, "nina@localhost/old", OLD + ["xep_0402"])
            await old["xep_0048"].set_bookmarks(
                oldList((ROOM, "The Coven", True, "nina"), (OTHER, "Orchard", False, "n")),
                method="xep_0049", timeout=TIMEOUT)
            assert (await failure(publish(old, "third@conference.localhost")))[0] \
                == "policy-violation"
            assert (await failure(old["xep_0048"].set_bookmarks(
                oldList((ROOM, None, False, "n"), (OTHER, None, False, "n"),
                        ("third@conference.localhost", None, False, "n")),
                method="xep_0049", timeout=TIMEOUT)))[0] == "policy-violation"
            await old.close()
        run(before())
        proc.stop()
        proc.start()

        async def after():
            new = await login(proc, "nina@localhost/new", NEW)
            old = await login(proc, "nina@localhost/old", OLD)
            expected = {ROOM: ("The Coven", True, "nina"), OTHER: ("Orchard", False, "n")}
            assert await newRooms(new) == expected
            assert (await oldRooms(old))[0] == expected
            await closeAll(new, old)
        run(after())
    finally:
        proc.stop()


def test_pipelinedPublishesKeepLimit(backend, tmp_path):
    """Twenty new rooms published in one write to a node holding 2 of [pep] max_items_per_node = 5: three are stored, seventeen get policy-violation."""
    proc = ServerProcess(tmp_path, database=backend, extra="\n[pep]\nmax_items_per_node = 5\n")
    proc.start()
    try:
        proc.adduser("olga", "olgapw")

        async def first():
            client = await login(proc, "olga@localhost/new", NEW)
            for room in (ROOM, OTHER):
                await publish(client, room)
            await client.close()
        run(first())
        raw = rawUser(proc, "olga", "pipelined")
        item = ("<iq type='set' id='b{n}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                f"<publish node='{NS_BOOKMARKS2}'><item id='room{{n}}@conference.localhost'>"
                f"<conference xmlns='{NS_BOOKMARKS2}' autojoin='false'/></item></publish>"
                "</pubsub></iq>")
        raw.send("".join(item.format(n=n) for n in range(20)))
        text = readCount(raw, r"<iq [^>]*id=.b\d+", 20, seconds=60)
        raw.close()
        answers = [a for a in text.split("<iq ")[1:] if re.match(r"[^>]*id=.b\d+", a)]
        assert len(answers) == 20, text[-1000:]
        assert sum(bool(re.match(r"[^>]*type=.result", a)) for a in answers) == 3
        assert sum("<policy-violation" in a for a in answers) == 17

        async def after():
            client = await login(proc, "olga@localhost/check", NEW)
            rooms = await newRooms(client)
            await client.close()
            return rooms
        assert len(run(after())) == 5
    finally:
        proc.stop()
