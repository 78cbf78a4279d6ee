"""
Tests for occupant ids (components.conference.occupantid; XEP-0421) on
the presence and messages of occupants, their stability and privacy, and
the room features in disco#info (occupant ids, XEP-0410 self-ping).
"""

from jabberd.ns import NS_DISCO_INFO, NS_MUC_SELF_PING, NS_OCCUPANT_ID
from components.conference.occupantid import newSecret, occupantId
from components.conference.store import MemoryRoomStore
from tests.components.conference.muchelpers import BOB, CAROL, ROOM, Conference, child, named, to

BOB2 = "bob@localhost/phone"
OTHER = "other@conference.localhost"


def ids(stanza):
    return [e["id"] for e in stanza.elements(NS_OCCUPANT_ID, "occupant-id")]


def ownPresence(out, user):
    return [p for p in named(to(out, user), "presence")
            if p["from"].split("/")[1] == user.split("@")[0]][-1]


def test_presenceAndMessagesCarryTheOccupantId():
    """An occupant's presence and groupchat messages carry one and the same occupant id."""
    c = Conference()
    c.createInstant()
    presence = ownPresence(c.join(BOB, "bob"), BOB)
    message = c.say(BOB, "hi")[0]
    assert len(ids(presence)) == 1 and ids(message) == ids(presence)


def test_stableAcrossNickChangeAndRejoin():
    """The id stays for the same bare JID through a new nick, another resource and a rejoin."""
    c = Conference()
    c.createInstant()
    first = ids(ownPresence(c.join(BOB, "bob"), BOB))
    renamed = c.send(f"<presence from='{BOB}' to='{ROOM}/robert'/>")
    assert ids([p for p in named(to(renamed, BOB), "presence") if p["from"].endswith("/robert")][0]) \
        == first
    c.leave(BOB, "robert")
    again = ids(ownPresence(c.join(BOB2, "bob"), BOB2))
    assert again == first


def test_differsBetweenUsersAndRooms():
    """Two users get different ids; one user gets different ids in two rooms."""
    c = Conference()
    c.createInstant()
    c.createInstant(room=OTHER)
    bob = ids(ownPresence(c.join(BOB, "bob"), BOB))
    carol = ids(ownPresence(c.join(CAROL, "carol"), CAROL))
    elsewhere = ids(ownPresence(c.join(BOB, "bob", room=OTHER), BOB))
    assert bob != carol and bob != elsewhere


def test_notTheRealJid():
    """The id reveals neither the real JID nor its localpart."""
    value = occupantId(newSecret(), "bob@localhost")
    assert "bob" not in value and len(value) >= 40
    secret = newSecret()
    assert occupantId(secret, "bob@localhost") == occupantId(secret, "bob@localhost")


def test_clientSentOccupantIdIsReplaced():
    """A client's occupant-id on presence or a message is replaced by the room's."""
    c = Conference()
    c.createInstant()
    forged = f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id='forged'/>"
    presence = ownPresence(c.join(BOB, "bob", extra=forged), BOB)
    out = c.send(f"<message from='{BOB}' to='{ROOM}' type='groupchat'><body>b</body>{forged}"
                 "</message>")
    assert "forged" not in ids(presence) and len(ids(presence)) == 1
    assert ids(out[0]) == ids(presence)


def test_privateMessageCarriesTheOccupantId():
    """A private message from an occupant carries the sender's occupant id."""
    c = Conference()
    c.createInstant()
    own = ids(ownPresence(c.join(BOB, "bob"), BOB))
    out = c.send(f"<message from='{BOB}' to='{ROOM}/owner' type='chat'><body>p</body>"
                 "</message>")
    assert ids(out[0]) == own


def test_persistentRoomKeepsItsIdsAcrossRestart():
    """A persistent room's secret is stored, so a fresh service gives the same ids."""
    store = MemoryRoomStore()
    c = Conference(store=store)
    c.createConfigured({"muc#roomconfig_persistentroom": "1"})
    before = ids(ownPresence(c.join(BOB, "bob"), BOB))
    fresh = Conference(store=store)
    after = ids(ownPresence(fresh.join(BOB, "bob"), BOB))
    assert after == before


def test_roomAdvertisesOccupantIdAndSelfPing():
    """A room's disco#info lists occupant-id and the self-ping optimisation."""
    c = Conference()
    c.createInstant()
    out = c.send(f"<iq type='get' id='d' from='{BOB}' to='{ROOM}'>"
                 f"<query xmlns='{NS_DISCO_INFO}'/></iq>")
    features = {f["var"] for f in child(out[0], NS_DISCO_INFO, "query").elements(
        NS_DISCO_INFO, "feature")}
    assert {NS_OCCUPANT_ID, NS_MUC_SELF_PING} <= features
