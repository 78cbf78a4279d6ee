"""
Tests for Service Discovery of the service and its rooms
(components.conference.disco; XEP-0045 section 6, XEP-0030, XEP-0128).
"""

from jabberd.ns import (NS_BROWSE, NS_CONFERENCE, NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS,
                        NS_MUC, NS_VERSION)
from tests.components.conference.muchelpers import (BOB, OWNER, ROOM, SERVICE, Conference, child,
                                                    errorCondition)


def disco(c, uri, to, sender=BOB):
    [answer] = c.send(f"<iq type='get' id='q' from='{sender}' to='{to}'>"
                      f"<query xmlns='{uri}'/></iq>")
    return answer


def features(answer):
    query = child(answer, NS_DISCO_INFO, "query")
    return {f["var"] for f in query.elements(NS_DISCO_INFO, "feature")}


def items(answer):
    query = child(answer, NS_DISCO_ITEMS, "query")
    return [(i["jid"], i.getAttribute("name")) for i in query.elements(NS_DISCO_ITEMS, "item")]


def test_serviceInfo():
    """The service is conference/text and advertises MUC and the legacy protocols."""
    c = Conference("name = Witches' Chatrooms")
    answer = disco(c, NS_DISCO_INFO, SERVICE)
    identity = child(child(answer, NS_DISCO_INFO, "query"), NS_DISCO_INFO, "identity")
    assert (identity["category"], identity["type"]) == ("conference", "text")
    assert identity["name"] == "Witches' Chatrooms"
    assert {NS_MUC, NS_BROWSE, NS_CONFERENCE, NS_DISCO_ITEMS, NS_VERSION} <= features(answer)


def test_roomInfo():
    """A room reports its identity, room-type features and muc#roominfo form."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_roomname": "Kitchen",
                        "muc#roomconfig_moderatedroom": "1",
                        "muc#roomconfig_roomdesc": "Pots and pans"})
    answer = disco(c, NS_DISCO_INFO, ROOM)
    query = child(answer, NS_DISCO_INFO, "query")
    assert child(query, NS_DISCO_INFO, "identity")["name"] == "Kitchen"
    assert {NS_MUC, "muc_moderated", "muc_public", "muc_temporary", "muc_open",
            "muc_semianonymous", "muc_unsecured"} <= features(answer)
    form = child(query, NS_DATA, "x")
    fields = {f["var"]: str(f.firstChildElement()) for f in form.elements(NS_DATA, "field")}
    assert fields["FORM_TYPE"] == "http://jabber.org/protocol/muc#roominfo"
    assert fields["muc#roominfo_description"] == "Pots and pans"
    assert fields["muc#roominfo_occupants"] == "1"


def test_missingOrLockedRoomInfo():
    """A missing room, or a locked one asked by a stranger, is item-not-found."""
    c = Conference()
    assert errorCondition(disco(c, NS_DISCO_INFO, ROOM)) == "item-not-found"
    c.join(OWNER, "owner")
    assert errorCondition(disco(c, NS_DISCO_INFO, ROOM)) == "item-not-found"
    assert disco(c, NS_DISCO_INFO, ROOM, sender=OWNER)["type"] == "result"


def test_serviceItemsListPublicRooms():
    """disco#items of the service lists public unlocked rooms, not hidden ones."""
    c = Conference()
    c.createConfigured({"muc#roomconfig_roomname": "Kitchen"})
    c.createConfigured({"muc#roomconfig_publicroom": "0"}, room="secret@conference.localhost")
    c.join(OWNER, "o", room="locked@conference.localhost")
    assert items(disco(c, NS_DISCO_ITEMS, SERVICE)) == [(ROOM, "Kitchen")]


def test_roomItemsListOccupants():
    """A public room lists its occupant JIDs; a hidden one shows them only to occupants."""
    c = Conference()
    c.createInstant()
    c.join(BOB, "bob")
    expected = [(ROOM + "/bob", "bob"), (ROOM + "/owner", "owner")]
    assert items(disco(c, NS_DISCO_ITEMS, ROOM)) == expected
    c.submitConfig(OWNER, {"muc#roomconfig_publicroom": "0"})
    assert items(disco(c, NS_DISCO_ITEMS, ROOM, sender="eve@localhost/e")) == []
    assert len(items(disco(c, NS_DISCO_ITEMS, ROOM))) == 2


def test_version():
    """The service answers Software Version."""
    c = Conference()
    answer = disco(c, NS_VERSION, SERVICE)
    assert answer["type"] == "result"
    assert str(child(child(answer, NS_VERSION, "query"), NS_VERSION, "name")) == "jabberd"


def test_reservedNickQuery():
    """The reserved-nick node answers without an identity, since no nicks are reserved."""
    c = Conference()
    c.createInstant()
    [answer] = c.send(f"<iq type='get' id='q' from='{BOB}' to='{ROOM}'>"
                      f"<query xmlns='{NS_DISCO_INFO}' node='x-roomuser-item'/></iq>")
    query = child(answer, NS_DISCO_INFO, "query")
    assert answer["type"] == "result" and query["node"] == "x-roomuser-item"
    assert child(query, NS_DISCO_INFO, "identity") is None
