"""
Tests for messages in rooms (components.conference.message, occupantiq;
XEP-0045 sections 7.4, 7.5, 7.2.14-15, 8.1) and history on entering.
"""

import time

from jabberd.ns import NS_DELAY, NS_MUC_USER, NS_X_CONFERENCE
from tests.components.conference.muchelpers import (BOB, CAROL, OWNER, ROOM, Conference, bodyText,
                                                    child, delay, errorCondition, named, room, to)


def test_groupchatFanOut():
    """A groupchat message reaches every occupant, sender included, from its occupant JID."""
    users = [f"user{i}@localhost/r" for i in range(25)]
    c = room(*users)
    out = c.say(users[3], "hello all")
    assert sorted(s["to"] for s in out) == sorted(users + [OWNER])
    for message in out:
        assert message["from"] == ROOM + "/user3"
        assert message["type"] == "groupchat" and message["id"] == "m1"
        assert bodyText(message) == "hello all"


def test_fanOutCopiesAreIndependent():
    """Each recipient's copy has its own attributes; changing one leaves the others alone."""
    c = room(BOB)
    first, second = c.say(BOB, "hi")
    first["to"] = "elsewhere@localhost"
    first.children.append("x")
    assert second["to"] != "elsewhere@localhost"
    assert "x" not in second.children


def test_meActionPassesThrough():
    """A /me action is reflected with its body untouched."""
    c = room(BOB)
    out = c.say(BOB, "/me waves")
    assert {bodyText(s) for s in out} == {"/me waves"}


def test_nonOccupantMessageRefused():
    """A message from someone not in the room is not-acceptable (406)."""
    c = room()
    out = c.say(CAROL, "let me in")
    assert out[0]["type"] == "error" and out[0]["to"] == CAROL
    assert errorCondition(out[0]) == "not-acceptable"


def test_messageToMissingRoom():
    """A message to a room that does not exist is item-not-found."""
    c = Conference()
    out = c.say(BOB, "anyone?", room="nowhere@conference.localhost")
    assert errorCondition(out[0]) == "item-not-found"


def test_visitorsMayNotSpeak():
    """In a moderated room a visitor's groupchat message is forbidden."""
    c = room(BOB, **{"muc#roomconfig_moderatedroom": "1"})
    assert c.room().occupants["bob"].role == "visitor"
    assert errorCondition(c.say(BOB, "hello?")[0]) == "forbidden"


def test_historyOnJoinWithDelay():
    """A newcomer gets earlier messages, oldest first, stamped with XEP-0203 delay from the room."""
    c = room(BOB)
    c.say(BOB, "one")
    c.say(BOB, "two")
    out = to(c.join(CAROL, "carol"), CAROL)
    history = [s for s in named(out, "message") if bodyText(s)]
    assert [bodyText(s) for s in history] == ["one", "two"]
    stamp = delay(history[0])
    assert stamp["from"] == ROOM
    assert stamp["stamp"].endswith("Z") and stamp["stamp"][:4] == time.strftime("%Y", time.gmtime())
    assert history[0]["from"] == ROOM + "/bob"
    assert named(out, "message")[-1].firstChildElement().name == "subject"


def test_historyMaxstanzas():
    """maxstanzas limits history to the newest messages; zero means none."""
    c = room(BOB)
    for word in ("a", "b", "c", "d"):
        c.say(BOB, word)
    out = to(c.join(CAROL, "carol", history="maxstanzas='2'"), CAROL)
    assert [bodyText(s) for s in named(out, "message") if bodyText(s)] == ["c", "d"]
    c.leave(CAROL, "carol")
    out = to(c.join(CAROL, "carol", history="maxchars='0'"), CAROL)
    assert [bodyText(s) for s in named(out, "message") if bodyText(s)] == []


def test_historySince():
    """since in the future selects no history."""
    c = room(BOB)
    c.say(BOB, "old")
    out = c.join(CAROL, "carol", history="since='2999-01-01T00:00:00Z'")
    assert [bodyText(s) for s in named(out, "message") if bodyText(s)] == []


def test_subjectByModerator():
    """A moderator's subject change reaches all and is sent to later arrivals."""
    c = room(BOB)
    out = c.send(f"<message from='{OWNER}' to='{ROOM}' type='groupchat'>"
                 "<subject>Cauldron</subject></message>")
    assert {s["to"] for s in out} == {OWNER, BOB}
    assert c.room().subject == "Cauldron"
    last = named(to(c.join(CAROL, "carol"), CAROL), "message")[-1]
    assert last["from"] == ROOM + "/owner" and str(last.firstChildElement()) == "Cauldron"


def test_subjectPermission():
    """Participants may change the subject only if the room allows it."""
    change = (f"<message from='{BOB}' to='{ROOM}' type='groupchat'>"
              "<subject>Mine</subject></message>")
    c = room(BOB)
    assert errorCondition(c.send(change)[0]) == "forbidden"
    c = room(BOB, **{"muc#roomconfig_changesubject": "1"})
    assert len(c.send(change)) == 2 and c.room().subject == "Mine"


def test_privateMessage():
    """A private message goes to the recipient's real JID from the sender's occupant JID."""
    c = room(BOB, CAROL)
    out = c.send(f"<message from='{BOB}' to='{ROOM}/carol' type='chat'><body>psst</body></message>")
    [message] = out
    assert (message["to"], message["from"]) == (CAROL, ROOM + "/bob")
    assert bodyText(message) == "psst"
    assert child(message, NS_MUC_USER, "x") is not None


def test_privateMessageErrors():
    """Private messages need an occupant sender, an existing recipient and no groupchat type."""
    c = room(BOB)
    def private(sender, nick, kind="chat"):
        return c.send(f"<message from='{sender}' to='{ROOM}/{nick}' type='{kind}'>"
                      "<body>x</body></message>")[0]

    assert errorCondition(private(CAROL, "bob")) == "not-acceptable"
    assert errorCondition(private(BOB, "nobody")) == "item-not-found"
    assert errorCondition(private(BOB, "owner", "groupchat")) == "bad-request"


def test_privateMessagesDisabled():
    """With allowpm none, private messages are forbidden."""
    c = room(BOB, **{"muc#roomconfig_allowpm": "none"})
    out = c.send(f"<message from='{BOB}' to='{ROOM}/owner' type='chat'><body>x</body></message>")
    assert errorCondition(out[0]) == "forbidden"


def test_directInvitationPassesThrough():
    """A XEP-0249 direct invitation inside a private message arrives untouched."""
    c = room(BOB, CAROL)
    out = c.send(f"<message from='{BOB}' to='{ROOM}/carol'>"
                 f"<x xmlns='{NS_X_CONFERENCE}' jid='other@conference.localhost' reason='come'/>"
                 "</message>")
    invite = child(out[0], NS_X_CONFERENCE, "x")
    assert invite["jid"] == "other@conference.localhost" and invite["reason"] == "come"


def test_iqToOccupantIsRelayed():
    """An iq to an occupant goes to its real JID from the requester's occupant JID, and back."""
    c = room(BOB, CAROL)
    [request] = c.send(f"<iq type='get' id='v1' from='{BOB}' to='{ROOM}/carol'>"
                       "<query xmlns='jabber:iq:version'/></iq>")
    assert (request["to"], request["from"]) == (CAROL, ROOM + "/bob")
    [answer] = c.send(f"<iq type='result' id='v1' from='{CAROL}' to='{ROOM}/bob'>"
                      "<query xmlns='jabber:iq:version'><name>x</name></query></iq>")
    assert (answer["to"], answer["from"]) == (BOB, ROOM + "/carol")


def test_iqToOccupantFromOutsider():
    """Someone outside the room cannot query an occupant (not-acceptable)."""
    c = room(BOB)
    out = c.send(f"<iq type='get' id='v1' from='{CAROL}' to='{ROOM}/bob'>"
                 "<query xmlns='jabber:iq:version'/></iq>")
    assert errorCondition(out[0]) == "not-acceptable"


def test_historyDelayIsXep0203():
    """History stamps use the urn:xmpp:delay namespace for MUC clients, without the legacy one."""
    c = room(BOB)
    c.say(BOB, "one")
    out = [s for s in to(c.join(CAROL, "carol"), CAROL) if bodyText(s)]
    names = [(e.uri, e.name) for e in out[0].elements()]
    assert (NS_DELAY, "delay") in names and ("jabber:x:delay", "x") not in names


def ping(c, sender, nick):
    return c.send(f"<iq type='get' id='p1' from='{sender}' to='{ROOM}/{nick}'>"
                  "<ping xmlns='urn:xmpp:ping'/></iq>")


def test_selfPingAnsweredByTheRoom():
    """XEP-0410: a ping to one's own occupant JID gets a result from the room, not relayed."""
    c = room(BOB)
    out = ping(c, BOB, "bob")
    assert len(out) == 1
    assert (out[0]["type"], out[0]["to"], out[0]["from"]) == ("result", BOB, ROOM + "/bob")


def test_selfPingFromNonOccupantNotAcceptable():
    """A ping to an occupant JID from someone not in the room is not-acceptable."""
    c = room(BOB)
    out = ping(c, CAROL, "bob")
    assert out[0]["type"] == "error" and errorCondition(out[0]) == "not-acceptable"


def test_pingToAnotherOccupantIsRelayed():
    """A ping to another occupant still goes to that occupant's real JID."""
    c = room(BOB, CAROL)
    out = ping(c, CAROL, "bob")
    assert [s["to"] for s in out] == [BOB] and out[0]["from"] == ROOM + "/carol"


def test_pingToAVanishedRoomNotAcceptable():
    """A ping to an occupant JID of a room that no longer exists is not-acceptable, not a nick change."""
    c = room()
    out = ping(c, BOB, "bob")
    assert errorCondition(out[0]) == "not-acceptable"
    out = c.send(f"<iq type='get' id='p2' from='{BOB}' to='gone@conference.localhost/bob'>"
                 "<ping xmlns='urn:xmpp:ping'/></iq>")
    assert errorCondition(out[0]) == "not-acceptable"
