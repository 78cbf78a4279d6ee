"""
Tests for the legacy protocols (components.conference.legacy, browse,
presence): groupchat 1.0 beside MUC clients, jabber:iq:conference and
jabber:iq:browse (XEP-0011).
"""

from jabberd.ns import NS_BROWSE, NS_CONFERENCE
from tests.components.conference.muchelpers import (BOB, OWNER, ROOM, SERVICE, Conference, bodyText,
                                                    child, codes, errorCondition, named, to)

OLD = "old@localhost/gabber"


def iq(c, kind, uri, to=ROOM, sender=OLD, payload=""):
    return c.send(f"<iq type='{kind}' id='l1' from='{sender}' to='{to}'>"
                  f"<query xmlns='{uri}'>{payload}</query></iq>")


def text(element, uri, name):
    found = child(element, uri, name)
    return None if found is None else str(found)


def test_groupchat10CreatesInstantRoom():
    """Presence without the MUC x creates an unlocked room the old client owns."""
    c = Conference()
    out = c.join(OLD, "old", muc=False)
    assert "201" in codes(to(out, OLD)[0])
    assert not c.room().locked
    assert c.room().occupants["old"].legacy


def test_groupchat10AlongsideMuc():
    """A groupchat 1.0 client and a MUC client see each other's presence and messages."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.join(OLD, "old", muc=False)
    assert to(out, BOB)[0]["from"] == ROOM + "/old"
    assert {s["from"] for s in named(to(out, OLD), "presence")} >= {ROOM + "/owner", ROOM + "/bob"}
    heard = c.say(OLD, "hi from 1999")
    assert {s["to"] for s in heard} == {OWNER, BOB, OLD}
    heard = c.say(BOB, "/me waves back")
    assert [bodyText(s) for s in to(heard, OLD)] == ["/me waves back"]
    out = c.leave(OLD, "old")
    assert to(out, BOB)[0]["type"] == "unavailable"


def test_legacyHistoryHasBothDelays():
    """A groupchat 1.0 client's history carries jabber:x:delay as well as urn:xmpp:delay."""
    c = Conference()
    c.createInstant()
    c.say(OWNER, "earlier")
    out = [s for s in to(c.join(OLD, "old", muc=False), OLD) if bodyText(s)]
    assert child(out[0], "jabber:x:delay", "x")["stamp"][8] == "T"
    assert child(out[0], "urn:xmpp:delay", "delay") is not None


def test_conferenceGetRequirements():
    """jabber:iq:conference get names the room and asks for a nick, and a secret if protected."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_roomname": "Development Room",
                        "muc#roomconfig_passwordprotectedroom": "1",
                        "muc#roomconfig_roomsecret": "s"})
    [answer] = iq(c, "get", NS_CONFERENCE)
    query = child(answer, NS_CONFERENCE, "query")
    assert text(query, NS_CONFERENCE, "name") == "Development Room"
    assert child(query, NS_CONFERENCE, "nick") is not None
    assert child(query, NS_CONFERENCE, "secret") is not None


def test_conferenceGetForNewRoom():
    """A get for a room not yet created still answers, with the localpart as name."""
    c = Conference()
    [answer] = iq(c, "get", NS_CONFERENCE)
    query = child(answer, NS_CONFERENCE, "query")
    assert text(query, NS_CONFERENCE, "name") == "room"
    assert child(query, NS_CONFERENCE, "secret") is None


def test_conferenceSetJoins():
    """After availability to the bare room, a set with a nick enters and names the occupant JID."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    c.send(f"<presence from='{OLD}' to='{ROOM}'><status>here</status></presence>")
    out = iq(c, "set", NS_CONFERENCE, payload="<nick>oldtimer</nick>")
    answer = named(out, "iq")[0]
    query = child(answer, NS_CONFERENCE, "query")
    assert answer["type"] == "result"
    assert text(query, NS_CONFERENCE, "id") == ROOM + "/oldtimer"
    announced = to(out, BOB)[0]
    assert announced["from"] == ROOM + "/oldtimer"
    assert str(named(list(announced.elements()), "status")[0]) == "here"


def test_conferenceSetErrors():
    """A taken nick is conflict and a wrong secret not-authorized, as iq errors."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_passwordprotectedroom": "1",
                        "muc#roomconfig_roomsecret": "s"})
    out = iq(c, "set", NS_CONFERENCE, payload="<nick>owner</nick><secret>s</secret>")
    assert errorCondition(out[0]) == "conflict"
    out = iq(c, "set", NS_CONFERENCE, payload="<nick>old</nick><secret>wrong</secret>")
    assert errorCondition(out[0]) == "not-authorized"
    out = iq(c, "set", NS_CONFERENCE, payload="<nick>old</nick><secret>s</secret>")
    assert out[-1]["type"] == "result"


def test_browseService():
    """Browsing the service lists it as a conference with its public rooms as children."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_roomname": "Kitchen"})
    [answer] = iq(c, "get", NS_BROWSE, to=SERVICE)
    top = child(answer, NS_BROWSE, "item")
    assert (top["category"], top["jid"]) == ("conference", SERVICE)
    rooms = list(top.elements(NS_BROWSE, "item"))
    assert [(r["jid"], r["type"], r["name"]) for r in rooms] == [(ROOM, "public", "Kitchen (1)")]
    assert NS_CONFERENCE in [str(n) for n in top.elements(NS_BROWSE, "ns")]


def test_browseRoomListsParticipants():
    """Browsing a room lists its participants as user items."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    [answer] = iq(c, "get", NS_BROWSE)
    top = child(answer, NS_BROWSE, "item")
    assert top["jid"] == ROOM and top["category"] == "conference"
    users = [(u["category"], u["jid"], u["name"]) for u in top.elements(NS_BROWSE, "item")]
    assert users == [("user", ROOM + "/bob", "bob"), ("user", ROOM + "/owner", "owner")]


def test_browseMissingRoom404():
    """Browsing a room that does not exist answers item-not-found with legacy code 404."""
    c = Conference()
    [answer] = iq(c, "get", NS_BROWSE, to="nowhere@conference.localhost")
    assert errorCondition(answer) == "item-not-found"
    assert named(list(answer.elements()), "error")[0]["code"] == "404"
