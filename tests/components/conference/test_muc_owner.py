"""
Tests for owner use cases (components.conference.owner, configform;
XEP-0045 section 10): configuration form, reconfiguration notices,
cancel, destroy, owner lists.
"""

from jabberd.ns import NS_DATA, NS_MUC_OWNER, NS_MUC_USER
from tests.components.conference.muchelpers import (BOB, OWNER, ROOM, Conference, child, codes,
                                                    errorCondition, named, to)


def formFields(iq):
    form = child(child(iq, NS_MUC_OWNER, "query"), NS_DATA, "x")
    return form, {f["var"]: f for f in form.elements(NS_DATA, "field")}


def values(field):
    return [str(v) for v in field.elements(NS_DATA, "value")]


def getConfig(c, user=OWNER):
    return c.send(f"<iq type='get' id='g' from='{user}' to='{ROOM}'>"
                  f"<query xmlns='{NS_MUC_OWNER}'/></iq>")


def test_configFormFields():
    """The owner gets a muc#roomconfig form with the XEP's field vars and current values."""
    c = Conference()
    c.join(OWNER, "owner")
    form, fields = formFields(getConfig(c)[0])
    assert form["type"] == "form"
    assert values(fields["FORM_TYPE"]) == ["http://jabber.org/protocol/muc#roomconfig"]
    for var in ("muc#roomconfig_roomname", "muc#roomconfig_roomdesc",
                "muc#roomconfig_persistentroom", "muc#roomconfig_publicroom",
                "muc#roomconfig_membersonly", "muc#roomconfig_moderatedroom",
                "muc#roomconfig_passwordprotectedroom", "muc#roomconfig_roomsecret",
                "muc#roomconfig_maxusers", "muc#roomconfig_whois", "muc#maxhistoryfetch",
                "muc#roomconfig_changesubject", "muc#roomconfig_allowinvites",
                "muc#roomconfig_roomowners"):
        assert var in fields
    assert fields["muc#roomconfig_persistentroom"]["type"] == "boolean"
    assert values(fields["muc#roomconfig_roomowners"]) == ["owner@localhost"]


def test_configFormIsForOwners():
    """Anyone but an owner asking for the form gets forbidden."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    assert errorCondition(getConfig(c, BOB)[0]) == "forbidden"


def test_configureRoom():
    """Submitted values change the configuration and unlock the room."""
    c = Conference()
    c.join(OWNER, "owner")
    out = c.submitConfig(OWNER, {"muc#roomconfig_roomname": "The Kitchen",
                                 "muc#roomconfig_moderatedroom": "1",
                                 "muc#roomconfig_maxusers": "30",
                                 "muc#maxhistoryfetch": "5"})
    assert out[0]["type"] == "result"
    config = c.room().config
    assert (config.name, config.moderated, config.maxUsers, config.maxHistory) == \
        ("The Kitchen", True, 30, 5)
    assert not c.room().locked


def test_badFormValue():
    """A malformed value is not-acceptable and changes nothing."""
    c = Conference()
    c.join(OWNER, "owner")
    out = c.submitConfig(OWNER, {"muc#roomconfig_membersonly": "perhaps"})
    assert errorCondition(out[0]) == "not-acceptable"
    assert c.room().locked and not c.room().config.membersOnly


def test_cancelDestroysNewRoom():
    """Cancelling the initial configuration destroys the locked room."""
    c = Conference()
    c.join(OWNER, "owner")
    out = c.submitConfig(OWNER, {}, formType="cancel")
    assert out[-1]["type"] == "result"
    assert c.room() is None


def test_reconfigurationNotice():
    """Occupants learn of a configuration change by a groupchat message with 104 (and 172)."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.submitConfig(OWNER, {"muc#roomconfig_whois": "anyone"})
    notice = named(to(out, BOB), "message")[0]
    assert notice["from"] == ROOM and notice["type"] == "groupchat"
    assert codes(notice) == {"104", "172"}


def test_becomingMembersOnlyRemoves322():
    """Switching to members-only removes non-members with status 322."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.submitConfig(OWNER, {"muc#roomconfig_membersonly": "1"})
    assert codes(to(out, BOB)[0]) == {"322", "110"}
    assert "bob" not in c.room().occupants


def test_destroyWithAlternateVenue():
    """Destroying tells each occupant of the alternate venue and reason, and forgets the room."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.send(f"<iq type='set' id='d' from='{OWNER}' to='{ROOM}'>"
                 f"<query xmlns='{NS_MUC_OWNER}'><destroy jid='coven@conference.localhost'>"
                 "<reason>Macbeth doth come.</reason></destroy></query></iq>")
    bob = to(out, BOB)[0]
    assert bob["type"] == "unavailable"
    destroy = child(child(bob, NS_MUC_USER, "x"), NS_MUC_USER, "destroy")
    assert destroy["jid"] == "coven@conference.localhost"
    assert str(destroy.firstChildElement()) == "Macbeth doth come."
    assert to(out, OWNER)[-1]["type"] == "result"
    assert c.room() is None


def test_destroyIsForOwners():
    """A non-owner's destroy request is forbidden."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    out = c.send(f"<iq type='set' id='d' from='{BOB}' to='{ROOM}'>"
                 f"<query xmlns='{NS_MUC_OWNER}'><destroy/></query></iq>")
    assert errorCondition(out[0]) == "forbidden"
    assert c.room() is not None


def test_ownerListInForm():
    """Listing another owner in the form makes it an owner."""
    c = Conference()
    c.createInstant()
    c.submitConfig(OWNER, {"muc#roomconfig_roomowners": ["owner@localhost", "bob@localhost"]})
    assert c.room().affiliationOf("bob@localhost") == "owner"


def test_ownerGrantThroughOwnerNamespace():
    """Older clients' muc#owner item sets change affiliations too."""
    c = Conference()
    c.createInstant()
    out = c.admin(OWNER, "<item affiliation='admin' jid='bob@localhost'/>", ns=NS_MUC_OWNER)
    assert out[-1]["type"] == "result"
    assert c.room().affiliationOf("bob@localhost") == "admin"


def test_persistentRoomIsStored():
    """A persistent room's configuration and affiliations are stored; it outlives its occupants."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_persistentroom": "1"})
    c.admin(OWNER, "<item affiliation='member' jid='bob@localhost'/>")
    assert c.store.rooms[ROOM]["persistent"] is True
    assert c.store.affiliations[ROOM]["bob@localhost"] == ("member", "")
    c.leave(OWNER, "owner")
    assert c.room() is not None
    c.submitConfig(OWNER, {"muc#roomconfig_persistentroom": "0"})
    assert ROOM not in c.store.rooms
