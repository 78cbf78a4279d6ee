"""
Tests for mediated invitations (components.conference.invitation;
XEP-0045 section 7.8.2) and their legacy companion element.
"""

from jabberd.ns import NS_MUC_USER, NS_X_CONFERENCE
from tests.components.conference.muchelpers import (BOB, OWNER, ROOM, Conference, child,
                                                    errorCondition)


def invite(c, sender, to="hecate@localhost", reason="Join us"):
    return c.send(f"<message from='{sender}' to='{ROOM}'><x xmlns='{NS_MUC_USER}'>"
                  f"<invite to='{to}'><reason>{reason}</reason></invite></x></message>")


def test_mediatedInvitation():
    """The room invites the invitee from its own JID, naming the inviter and reason."""
    c = Conference()
    c.createInstant()
    [message] = invite(c, OWNER)
    assert (message["from"], message["to"]) == (ROOM, "hecate@localhost")
    element = child(child(message, NS_MUC_USER, "x"), NS_MUC_USER, "invite")
    assert element["from"] == OWNER
    assert str(element.firstChildElement()) == "Join us"
    legacy = child(message, NS_X_CONFERENCE, "x")
    assert legacy["jid"] == ROOM


def test_invitationCarriesPassword():
    """An invitation to a password-protected room includes the password."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_passwordprotectedroom": "1",
                        "muc#roomconfig_roomsecret": "cauldron"})
    [message] = invite(c, OWNER)
    password = child(child(message, NS_MUC_USER, "x"), NS_MUC_USER, "password")
    assert str(password) == "cauldron"


def test_decline():
    """A decline is passed to the inviter from the room, naming the decliner."""
    c = Conference()
    c.createInstant()
    [message] = c.send(f"<message from='hecate@localhost/h' to='{ROOM}'><x xmlns='{NS_MUC_USER}'>"
                       f"<decline to='{OWNER}'><reason>Busy</reason></decline></x></message>")
    assert (message["from"], message["to"]) == (ROOM, OWNER)
    decline = child(child(message, NS_MUC_USER, "x"), NS_MUC_USER, "decline")
    assert decline["from"] == "hecate@localhost/h"
    assert str(decline.firstChildElement()) == "Busy"


def test_inviteFromOutsiderRefused():
    """Someone not in the room cannot invite (not-acceptable)."""
    c = Conference()
    c.createInstant()
    assert errorCondition(invite(c, BOB)[0]) == "not-acceptable"


def test_membersOnlyInvitations():
    """In a members-only room a member may not invite; an owner's invitation grants membership."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_membersonly": "1"})
    c.admin(OWNER, "<item affiliation='member' jid='bob@localhost'/>")
    c.join(BOB, "bob")
    assert errorCondition(invite(c, BOB)[0]) == "forbidden"
    invite(c, OWNER)
    assert c.room().affiliationOf("hecate@localhost") == "member"
