"""
Tests for entering, leaving, nick changes and presence updates
(components.conference.presence and occupancy; XEP-0045 sections 7.2,
7.6, 7.7, 7.14, 10.1).
"""

from jabberd.ns import NS_MUC, NS_MUC_USER
from tests.components.conference.muchelpers import (BOB, CAROL, OWNER, ROOM, Conference, child,
                                                    codes, errorCondition, errorElement, item,
                                                    named, to)


def test_creatingRoomLocksItWithStatus201():
    """The creator gets self-presence with 110 and 201 as owner/moderator; the room is locked."""
    c = Conference()
    out = c.join(OWNER, "owner")
    own = to(named(out, "presence"), OWNER)[-1]
    assert own["from"] == ROOM + "/owner"
    assert codes(own) == {"110", "201"}
    assert (item(own)["affiliation"], item(own)["role"]) == ("owner", "moderator")
    assert c.room().locked


def test_lockedRoomRefusesOthers():
    """Until configured, a new room answers item-not-found to anyone else."""
    c = Conference()
    c.join(OWNER, "owner")
    out = c.join(BOB, "bob")
    assert out[0]["type"] == "error"
    assert errorCondition(out[0]) == "item-not-found"


def test_instantRoomUnlocks():
    """An empty submit accepts the instant room; others may then enter."""
    c = Conference()
    out = c.createInstant()
    assert out[0].name == "iq" and out[0]["type"] == "result"
    assert not c.room().locked
    out = c.join(BOB, "bob")
    assert codes(to(out, BOB)[-2]) == {"110"}


def test_joinOrderAndSubject():
    """Existing occupants' presence first, own presence last, then the (empty) subject."""
    c = Conference()
    c.createInstant()
    out = c.join(BOB, "bob")
    mine = to(out, BOB)
    assert [s.name for s in mine] == ["presence", "presence", "message"]
    assert mine[0]["from"] == ROOM + "/owner"
    assert mine[1]["from"] == ROOM + "/bob" and "110" in codes(mine[1])
    subject = named(list(mine[2].elements()), "subject")[0]
    assert str(subject) == ""
    assert to(out, OWNER)[0]["from"] == ROOM + "/bob"


def test_semiAnonymousJidVisibility():
    """In a semi-anonymous room moderators see real JIDs and participants do not."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.join(CAROL, "carol")
    assert item(to(out, OWNER)[0])["jid"] == CAROL
    assert item(to(out, BOB)[0]).getAttribute("jid") is None
    assert item(to(out, CAROL)[0]).getAttribute("jid") is None


def test_nonAnonymousRoomSends100():
    """A non-anonymous room shows real JIDs to all and says so with status 100."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_whois": "anyone"})
    c.join(BOB, "bob")
    out = c.join(CAROL, "carol")
    assert "100" in codes(to(out, CAROL)[-2])
    assert item(to(out, BOB)[0])["jid"] == CAROL


def test_passwordProtectedRoom():
    """A configured room with a password refuses a wrong one (401) and admits the right one."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_passwordprotectedroom": "1",
                        "muc#roomconfig_roomsecret": "cauldron"})
    out = c.join(BOB, "bob", password="eye of newt")
    assert errorCondition(out[0]) == "not-authorized"
    assert errorElement(out[0])["code"] == "401"
    out = c.join(BOB, "bob", password="cauldron")
    assert "110" in codes(to(out, BOB)[-2])


def test_nickConflict():
    """A nick in use by someone else is a conflict (409) error presence from that nick."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.join(CAROL, "bob")
    assert out[0]["type"] == "error" and out[0]["from"] == ROOM + "/bob"
    assert errorCondition(out[0]) == "conflict"
    assert child(out[0], NS_MUC, "x") is not None


def test_bannedUserIsForbidden():
    """An outcast's entry is refused with forbidden (403)."""
    c = Conference()
    c.createInstant()
    c.admin(OWNER, "<item affiliation='outcast' jid='bob@localhost'/>")
    assert errorCondition(c.join(BOB, "bob")[0]) == "forbidden"


def test_membersOnlyRequiresRegistration():
    """A members-only room refuses non-members (registration-required) and admits members."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_membersonly": "1"})
    assert errorCondition(c.join(BOB, "bob")[0]) == "registration-required"
    c.admin(OWNER, "<item affiliation='member' jid='bob@localhost'/>")
    out = c.join(BOB, "bob")
    assert item(to(out, BOB)[-2])["affiliation"] == "member"


def test_fullRoom():
    """A room at its maximum refuses newcomers with service-unavailable of type wait."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_maxusers": "2"})
    c.join(BOB, "bob")
    out = c.join(CAROL, "carol")
    assert errorCondition(out[0]) == "service-unavailable"
    assert errorElement(out[0])["type"] == "wait"


def test_leaveBroadcastsUnavailable():
    """Leaving sends unavailable presence with the status text to all, 110 to the leaver."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.leave(BOB, "bob", status="off to bed")
    mine, theirs = to(out, BOB)[0], to(out, OWNER)[0]
    assert mine["type"] == theirs["type"] == "unavailable"
    assert codes(mine) == {"110"} and codes(theirs) == set()
    assert str(named(list(theirs.elements()), "status")[0]) == "off to bed"
    assert "bob" not in c.room().occupants


def test_temporaryRoomVanishesWhenEmpty():
    """The last occupant leaving a temporary room destroys it."""
    c = Conference()
    c.createInstant()
    c.leave(OWNER, "owner")
    assert c.room() is None


def test_nickChange303():
    """A nick change is unavailable with 303 and the new nick, then presence from the new nick."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.join(BOB, "robert")
    old, new = to(out, OWNER)
    assert old["type"] == "unavailable" and old["from"] == ROOM + "/bob"
    assert codes(old) == {"303"} and item(old)["nick"] == "robert"
    assert new["from"] == ROOM + "/robert" and new.getAttribute("type") is None
    assert codes(to(out, BOB)[0]) == {"303", "110"}
    assert sorted(c.room().occupants) == ["owner", "robert"]


def test_nickChangeConflict():
    """Changing to a nick in use answers conflict and keeps the old nick."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.join(BOB, "owner")
    assert errorCondition(out[0]) == "conflict"
    assert c.room().occupants["bob"].jid == BOB


def test_presenceUpdateFansOut():
    """A new show/status goes to every occupant with the occupant's item."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.send(f"<presence from='{BOB}' to='{ROOM}/bob'><show>away</show></presence>")
    assert {s["to"] for s in out} == {OWNER, BOB}
    for presence in out:
        assert [e.name for e in presence.elements()][0] == "show"
        assert child(presence, NS_MUC_USER, "x") is not None


def test_bareRoomPresenceFromMucClientIsMalformed():
    """MUC presence without a nick is refused with jid-malformed."""
    c = Conference()
    out = c.send(f"<presence from='{BOB}' to='{ROOM}'><x xmlns='{NS_MUC}'/></presence>")
    assert errorCondition(out[0]) == "jid-malformed"


def test_errorPresenceRemovesGhost():
    """An error bounced from an occupant's address removes it; the others hear status 333."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.send(f"<presence from='{BOB}' to='{ROOM}/bob' type='error'/>")
    assert "bob" not in c.room().occupants
    assert codes(to(out, OWNER)[0]) == {"333"}
