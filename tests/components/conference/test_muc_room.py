"""
Tests for components.conference.room: the room rules without any XML.
"""

import pytest

from components.conference.roles import (MEMBER, MODERATOR, NONE, OUTCAST, OWNER, PARTICIPANT,
                                         VISITOR)
from components.conference.room import MUCError, Room
from components.conference.roomconfig import RoomConfig

JID = "room@conference.localhost"


def makeRoom(**config):
    room = Room(JID, RoomConfig(**config))
    room.affiliations["owner@localhost"] = OWNER
    return room


def refusal(call, *args):
    with pytest.raises(MUCError) as caught:
        call(*args)
    return caught.value.condition


def test_joinGivesDefaultRoles():
    """The owner enters as moderator, a stranger as participant in an open room."""
    room = makeRoom()
    owner = room.join("owner@localhost/a", "owner@localhost", "o")
    guest = room.join("guest@localhost/b", "guest@localhost", "g")
    assert (owner.role, owner.affiliation) == (MODERATOR, OWNER)
    assert (guest.role, guest.affiliation) == (PARTICIPANT, NONE)
    assert guest.occupantJid == JID + "/g"


def test_entryRefusals():
    """Each entry rule answers with its XEP-0045 condition."""
    room = makeRoom(membersOnly=True)
    assert refusal(room.join, "x@localhost/a", "x@localhost", "x") == "registration-required"
    room = makeRoom(passwordProtected=True, password="pw")
    assert refusal(room.join, "x@localhost/a", "x@localhost", "x", "bad") == "not-authorized"
    room.affiliations["x@localhost"] = OUTCAST
    assert refusal(room.join, "x@localhost/a", "x@localhost", "x", "pw") == "forbidden"


def test_lockedRoomAdmitsOnlyOwners():
    """A locked room answers item-not-found to anyone but an owner."""
    room = makeRoom()
    room.locked = True
    assert refusal(room.join, "x@localhost/a", "x@localhost", "x") == "item-not-found"
    assert room.join("owner@localhost/a", "owner@localhost", "o").role == MODERATOR


def test_fullRoomStillAdmitsOwner():
    """A full room refuses strangers with service-unavailable but not its owner."""
    room = makeRoom(maxUsers=1)
    room.join("a@localhost/a", "a@localhost", "a")
    assert refusal(room.join, "b@localhost/b", "b@localhost", "b") == "service-unavailable"
    room.join("owner@localhost/o", "owner@localhost", "o")
    assert len(room.occupants) == 2


def test_banRemovesOccupant():
    """Making an occupant an outcast removes it with status 301."""
    room = makeRoom()
    guest = room.join("guest@localhost/b", "guest@localhost", "g")
    change = room.setAffiliation("guest@localhost", OUTCAST, "spam")
    assert change.removed == [(guest, "301")]
    assert "g" not in room.occupants
    assert room.listAffiliation(OUTCAST) == [("guest@localhost", "spam")]


def test_lastOwnerStays():
    """The last owner cannot give up ownership (conflict)."""
    room = makeRoom()
    assert refusal(room.checkAffiliation, OWNER, "owner@localhost", MEMBER) == "conflict"


def test_membershipInModeratedRoomGivesVoice():
    """A visitor made member becomes a participant."""
    room = makeRoom(moderated=True)
    guest = room.join("guest@localhost/b", "guest@localhost", "g")
    assert guest.role == VISITOR
    room.setAffiliation("guest@localhost", MEMBER)
    assert guest.role == PARTICIPANT


def test_becomingMembersOnlyRemovesStrangers():
    """Switching to members-only removes non-members (status 322) and keeps members."""
    room = makeRoom()
    room.affiliations["friend@localhost"] = MEMBER
    stranger = room.join("x@localhost/a", "x@localhost", "x")
    room.join("friend@localhost/a", "friend@localhost", "f")
    change = room.applyConfig(RoomConfig(membersOnly=True))
    assert change.removed == [stranger]
    assert sorted(room.occupants) == ["f"]


def test_configChangeCodes():
    """Anonymity and logging changes add 172/173 and 170/171 to status 104."""
    room = makeRoom()
    change = room.applyConfig(RoomConfig(whois="anyone", logging=True))
    assert change.codes == ["104", "170", "172"]
    change = room.applyConfig(RoomConfig())
    assert change.codes == ["104", "171", "173"]


def test_roomConfigRoundTrip():
    """A configuration survives toDict/fromDict, ignoring unknown keys."""
    config = RoomConfig(name="Kitchen", persistent=True, maxUsers=30, whois="anyone")
    values = config.toDict()
    values["fromTheFuture"] = 1
    assert RoomConfig.fromDict(values) == config
