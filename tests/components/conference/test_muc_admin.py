"""
Tests for moderation and administration (components.conference.admin,
voicerequest; XEP-0045 sections 7.13, 8, 9).
"""

from jabberd.ns import NS_DATA, NS_MUC_ADMIN, NS_MUC_USER
from tests.components.conference.muchelpers import (BOB, CAROL, OWNER, ROOM, child, codes,
                                                    errorCondition, item, named, room, to)


def result(out):
    return [s for s in out if s.name == "iq"][0]


def test_kick307():
    """A kick removes the occupant: it hears 307 with actor and reason first, then the others."""
    c = room(BOB, CAROL)
    out = c.admin(OWNER, "<item nick='bob' role='none'><reason>Avaunt</reason></item>")
    assert out[0]["to"] == BOB
    assert out[0]["type"] == "unavailable" and codes(out[0]) == {"307", "110"}
    kicked = item(out[0])
    assert child(kicked, NS_MUC_USER, "actor")["nick"] == "owner"
    assert str(named(list(kicked.elements()), "reason")[0]) == "Avaunt"
    assert codes(to(out, CAROL)[0]) == {"307"}
    assert result(out)["type"] == "result"
    assert "bob" not in c.room().occupants


def test_participantCannotKick():
    """A participant's kick attempt is forbidden and changes nothing."""
    c = room(BOB, CAROL)
    out = c.admin(BOB, "<item nick='carol' role='none'/>")
    assert errorCondition(out[0]) == "forbidden"
    assert "carol" in c.room().occupants


def test_cannotKickAdmin():
    """Kicking an admin is not-allowed, even for an owner."""
    c = room(BOB)
    c.admin(OWNER, "<item affiliation='admin' jid='bob@localhost'/>")
    out = c.admin(OWNER, "<item nick='bob' role='none'/>")
    assert errorCondition(out[0]) == "not-allowed"


def test_ban301():
    """Banning an occupant removes it with 301 and lists it as an outcast."""
    c = room(BOB, CAROL)
    out = c.admin(OWNER, "<item affiliation='outcast' jid='bob@localhost'>"
                         "<reason>Treason</reason></item>")
    banned = to(out, BOB)[0]
    assert codes(banned) == {"301", "110"} and item(banned)["affiliation"] == "outcast"
    assert codes(to(out, CAROL)[0]) == {"301"}
    assert c.room().affiliationOf("bob@localhost") == "outcast"


def test_adminCannotBanOwner():
    """An admin may not ban an owner (not-allowed)."""
    c = room(BOB)
    c.admin(OWNER, "<item affiliation='admin' jid='bob@localhost'/>")
    out = c.admin(BOB, "<item affiliation='outcast' jid='owner@localhost'/>")
    assert errorCondition(out[0]) == "not-allowed"


def test_itemsAreAllOrNothing():
    """When one item of a set is refused, none is applied."""
    c = room(BOB)
    c.admin(OWNER, "<item affiliation='admin' jid='bob@localhost'/>")
    out = c.admin(BOB, "<item affiliation='outcast' jid='x@localhost'/>"
                       "<item affiliation='outcast' jid='owner@localhost'/>")
    assert errorCondition(out[0]) == "not-allowed"
    assert c.room().affiliationOf("x@localhost") == "none"


def test_voiceGrantAndRevoke():
    """In a moderated room a moderator grants and revokes voice; everyone sees the new role."""
    c = room(BOB, CAROL, **{"muc#roomconfig_moderatedroom": "1"})
    out = c.admin(OWNER, "<item nick='bob' role='participant'/>")
    assert item(to(out, CAROL)[0])["role"] == "participant"
    assert "110" in codes(to(out, BOB)[0])
    assert c.say(BOB, "at last")[0]["type"] == "groupchat"
    c.admin(OWNER, "<item nick='bob' role='visitor'/>")
    assert errorCondition(c.say(BOB, "again")[0]) == "forbidden"


def test_voiceList():
    """A moderator can get the participants list (section 8.5)."""
    c = room(BOB, CAROL)
    out = c.admin(OWNER, "<item role='participant'/>", iqType="get")
    query = child(out[0], NS_MUC_ADMIN, "query")
    assert sorted(i["nick"] for i in query.elements(NS_MUC_ADMIN, "item")) == ["bob", "carol"]
    refused = c.admin(BOB, "<item role='participant'/>", iqType="get")
    assert errorCondition(refused[0]) == "forbidden"


def test_affiliationLists():
    """Admins get the member and ban lists; only owners get the owner list."""
    c = room(BOB)
    c.admin(OWNER, "<item affiliation='member' jid='m1@localhost'/>"
                   "<item affiliation='member' jid='m2@localhost'/>"
                   "<item affiliation='admin' jid='bob@localhost'/>")
    out = c.admin(BOB, "<item affiliation='member'/>", iqType="get")
    query = child(out[0], NS_MUC_ADMIN, "query")
    members = [i["jid"] for i in query.elements(NS_MUC_ADMIN, "item")]
    assert members == ["m1@localhost", "m2@localhost"]
    refused = c.admin(BOB, "<item affiliation='owner'/>", iqType="get")
    assert errorCondition(refused[0]) == "forbidden"
    answer = c.admin(OWNER, "<item affiliation='owner'/>", iqType="get")
    owners = child(answer[0], NS_MUC_ADMIN, "query")
    assert [i["jid"] for i in owners.elements(NS_MUC_ADMIN, "item")] == ["owner@localhost"]


def test_grantModerator():
    """An owner may make a participant a moderator; a mere moderator may not."""
    c = room(BOB, CAROL)
    out = c.admin(OWNER, "<item nick='bob' role='moderator'/>")
    assert item(to(out, BOB)[0])["role"] == "moderator"
    assert errorCondition(c.admin(BOB, "<item nick='carol' role='moderator'/>")[0]) == "forbidden"


def test_membershipRevokedInMembersOnlyRoom():
    """Revoking membership in a members-only room removes the occupant with status 321."""
    c = room(**{"muc#roomconfig_membersonly": "1"})
    c.admin(OWNER, "<item affiliation='member' jid='bob@localhost'/>")
    c.join(BOB, "bob")
    out = c.admin(OWNER, "<item affiliation='none' jid='bob@localhost'/>")
    assert codes(to(out, BOB)[0]) == {"321", "110"}
    assert "bob" not in c.room().occupants


def test_affiliationChangeWhileAway():
    """An affiliation change for someone not in the room is told by message with status 101."""
    c = room()
    out = c.admin(OWNER, "<item affiliation='member' jid='dave@localhost'/>")
    notice = to(out, "dave@localhost")[0]
    assert notice.name == "message" and codes(notice) == {"101"}
    assert item(notice)["affiliation"] == "member"


def test_lastOwnerCannotLeaveOwnership():
    """The only owner demoting itself gets conflict."""
    c = room()
    out = c.admin(OWNER, "<item affiliation='member' jid='owner@localhost'/>")
    assert errorCondition(out[0]) == "conflict"


def test_roleAndAffiliationTogetherIsBadRequest():
    """An item with both a role and an affiliation is a bad-request."""
    c = room(BOB)
    out = c.admin(OWNER, "<item nick='bob' role='none' affiliation='outcast'/>")
    assert errorCondition(out[0]) == "bad-request"


FORM_TYPE = ("<field var='FORM_TYPE'>"
             "<value>http://jabber.org/protocol/muc#request</value></field>")
VOICE_REQUEST = (f"<message from='{BOB}' to='{ROOM}'><x xmlns='{NS_DATA}' type='submit'>"
                 f"{FORM_TYPE}"
                 "<field var='muc#role' type='list-single'><value>participant</value></field>"
                 "</x></message>")


def test_voiceRequestGoesToModerators():
    """A visitor's voice request reaches each moderator as a muc#request form."""
    c = room(BOB, **{"muc#roomconfig_moderatedroom": "1"})
    [forwarded] = c.send(VOICE_REQUEST)
    assert forwarded["to"] == OWNER and forwarded["from"] == ROOM
    form = child(forwarded, NS_DATA, "x")
    fields = {f["var"]: f for f in form.elements(NS_DATA, "field")}
    assert str(fields["muc#roomnick"].firstChildElement()) == "bob"
    assert str(fields["muc#jid"].firstChildElement()) == BOB
    assert "muc#request_allow" in fields


def test_voiceRequestApproval():
    """A moderator submitting the form with request_allow true gives the visitor voice."""
    c = room(BOB, **{"muc#roomconfig_moderatedroom": "1"})
    c.send(VOICE_REQUEST)
    out = c.send(f"<message from='{OWNER}' to='{ROOM}'><x xmlns='{NS_DATA}' type='submit'>"
                 f"{FORM_TYPE}"
                 "<field var='muc#role'><value>participant</value></field>"
                 "<field var='muc#roomnick'><value>bob</value></field>"
                 "<field var='muc#request_allow'><value>true</value></field></x></message>")
    assert c.room().occupants["bob"].role == "participant"
    assert item(to(out, BOB)[0])["role"] == "participant"


def test_newModeratorSeesRealJids():
    """A new moderator of a semi-anonymous room gets the others' presence with real JIDs."""
    c = room(BOB, CAROL)
    out = c.admin(OWNER, "<item nick='bob' role='moderator'/>")
    revealed = [s for s in to(out, BOB) if s["from"] == ROOM + "/carol"]
    assert item(revealed[0])["jid"] == CAROL
