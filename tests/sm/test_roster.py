"""
Tests for L{jabberd.sm.roster}: RFC 6121 section 2 (roster get, set,
remove, pushes, versioning).
"""

from jabberd.ns import NS_ROSTER, NS_ROSTERVER_FEATURE
from tests.sm.helpers import (ALICE, BOB, CAROL, Harness, errorCondition, presences,
                              pushes)


def _iqs(elements, iqType, iqId=None):
    return [e for e in elements if e.name == "iq" and e.getAttribute("type") == iqType
            and (iqId is None or e.getAttribute("id") == iqId)]


def _query(iq):
    return next(iq.elements(NS_ROSTER, "query"), None)


def _items(iq):
    return {i["jid"]: i for i in _query(iq).elements(NS_ROSTER, "item")}


def _groups(item):
    return [str(g) for g in item.elements(NS_ROSTER, "group")]


def _rosterSet(h, session, itemXml, iqId="s1"):
    h.send(session, f"<iq type='set' id='{iqId}'><query xmlns='jabber:iq:roster'>"
                    f"{itemXml}</query></iq>")
    return h.take(session)


def test_getReturnsItems():
    """
    A roster get answers every item with its jid, name, subscription, ask, approved and groups.
    """
    h = Harness()
    h.setItem("alice", CAROL, "both", name="Carol", groups=["Friends", "Work"])
    h.setItem("alice", BOB, "none", ask="subscribe", approved=True)
    alice = h.bind("alice")
    h.send(alice, "<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>")
    [reply] = _iqs(h.take(alice), "result", "g1")
    assert reply["to"] == alice.full
    items = _items(reply)
    assert items[CAROL]["subscription"] == "both"
    assert items[CAROL]["name"] == "Carol"
    assert _groups(items[CAROL]) == ["Friends", "Work"]
    assert not items[CAROL].hasAttribute("ask")
    assert items[BOB]["ask"] == "subscribe"
    assert items[BOB]["approved"] == "true"


def test_getMarksSessionInterested():
    """Requesting the roster makes the resource an interested resource (section 2.2)."""
    h = Harness()
    alice = h.bind("alice")
    assert not alice.interested
    h.send(alice, "<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>")
    assert alice.interested


def test_getWithoutVerHasNoVersion():
    """A client that does not send 'ver' gets a roster without 'ver' (no versioning)."""
    h = Harness()
    alice = h.bind("alice")
    h.send(alice, "<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>")
    [reply] = _iqs(h.take(alice), "result", "g1")
    assert not _query(reply).hasAttribute("ver")


def test_getWithEmptyVerReturnsRosterAndVersion():
    """An empty 'ver' (no cache) gets the full roster and the current version (2.6.2)."""
    h = Harness()
    version = h.setItem("alice", CAROL, "to")
    alice = h.bind("alice")
    h.send(alice, "<iq type='get' id='g1'><query xmlns='jabber:iq:roster' ver=''/></iq>")
    [reply] = _iqs(h.take(alice), "result", "g1")
    assert _query(reply)["ver"] == str(version)
    assert list(_items(reply)) == [CAROL]


def test_getWithCurrentVerIsEmptyResult():
    """A client whose cached version is current gets an empty result (2.6.3)."""
    h = Harness()
    version = h.setItem("alice", CAROL, "to")
    alice = h.bind("alice")
    h.send(alice, f"<iq type='get' id='g1'><query xmlns='jabber:iq:roster' ver='{version}'/></iq>")
    [reply] = _iqs(h.take(alice), "result", "g1")
    assert _query(reply) is None
    assert alice.interested


def test_getWithStaleVerReturnsRoster():
    """A stale cached version gets the whole roster with the new version."""
    h = Harness()
    old = h.setItem("alice", CAROL, "to")
    new = h.setItem("alice", BOB, "both")
    alice = h.bind("alice")
    h.send(alice, f"<iq type='get' id='g1'><query xmlns='jabber:iq:roster' ver='{old}'/></iq>")
    [reply] = _iqs(h.take(alice), "result", "g1")
    assert _query(reply)["ver"] == str(new)
    assert set(_items(reply)) == {CAROL, BOB}


def test_setAddsItemAndPushesToInterestedResources():
    """
    A roster set stores the item, answers result and pushes to every interested resource
    (2.3.2).
    """
    h = Harness()
    home = h.login("alice", "home")
    work = h.login("alice", "work")
    quiet = h.login("alice", "quiet", roster=False)
    received = _rosterSet(h, home,
                          f"<item jid='{CAROL}' name='Carol'><group>Friends</group></item>")
    assert len(_iqs(received, "result", "s1")) == 1
    [(ver, item)] = pushes(received)
    assert item["jid"] == CAROL and item["subscription"] == "none" and item["name"] == "Carol"
    assert _groups(item) == ["Friends"]
    [(workVer, _)] = pushes(h.take(work))
    assert ver == workVer == str(h.storage.roster.versions["alice"])
    assert pushes(h.take(quiet)) == []
    assert h.item("alice", CAROL).groups == ["Friends"]


def test_pushAddressedToResource():
    """A roster push is an iq set to the resource's full JID with a fresh id (2.1.6)."""
    h = Harness()
    home = h.login("alice", "home")
    _rosterSet(h, home, f"<item jid='{CAROL}'/>")
    received = _rosterSet(h, home, f"<item jid='{BOB}'/>", "s2")
    [push] = [e for e in received if e.getAttribute("type") == "set"]
    assert push["to"] == home.full
    assert push["id"] != "s2"


def test_setKeepsSubscriptionState():
    """
    A roster set changes name and groups only: subscription, ask and approved from the client
    are ignored.
    """
    h = Harness()
    h.setItem("alice", CAROL, "to", name="Old", groups=["A"])
    home = h.login("alice", "home")
    _rosterSet(h, home, f"<item jid='{CAROL}' name='New' subscription='both' ask='subscribe' "
                        f"approved='true'><group>B</group></item>")
    item = h.item("alice", CAROL)
    assert (item.name, item.groups, item.subscription, item.ask, item.approved) == (
        "New", ["B"], "to", "", False)


def test_setTwoItemsIsBadRequest():
    """A roster set with more than one item is a bad-request (2.3.3)."""
    h = Harness()
    home = h.login("alice", "home")
    received = _rosterSet(h, home, f"<item jid='{CAROL}'/><item jid='{BOB}'/>")
    [error] = _iqs(received, "error", "s1")
    assert errorCondition(error) == "bad-request"
    assert h.item("alice", CAROL) is None


def test_setNoItemIsBadRequest():
    """A roster set without an item is a bad-request."""
    h = Harness()
    home = h.login("alice", "home")
    [error] = _iqs(_rosterSet(h, home, ""), "error", "s1")
    assert errorCondition(error) == "bad-request"


def test_setEmptyGroupIsNotAcceptable():
    """An empty group name is not-acceptable (2.3.3)."""
    h = Harness()
    home = h.login("alice", "home")
    [error] = _iqs(_rosterSet(h, home, f"<item jid='{CAROL}'><group/></item>"), "error")
    assert errorCondition(error) == "not-acceptable"


def test_setLongNameIsNotAcceptable():
    """A name longer than the configured limit is not-acceptable."""
    h = Harness()
    h.roster.maxNameLength = 10
    home = h.login("alice", "home")
    [error] = _iqs(_rosterSet(h, home, f"<item jid='{CAROL}' name='{'x' * 11}'/>"), "error")
    assert errorCondition(error) == "not-acceptable"


def test_setLongGroupIsNotAcceptable():
    """A group longer than the configured limit is not-acceptable."""
    h = Harness()
    h.roster.maxGroupLength = 5
    home = h.login("alice", "home")
    received = _rosterSet(h, home, f"<item jid='{CAROL}'><group>toolong</group></item>")
    [error] = _iqs(received, "error")
    assert errorCondition(error) == "not-acceptable"


def test_setDuplicateGroupIsBadRequest():
    """The same group twice in one item is a bad-request."""
    h = Harness()
    home = h.login("alice", "home")
    received = _rosterSet(h, home, f"<item jid='{CAROL}'><group>A</group><group>A</group></item>")
    [error] = _iqs(received, "error")
    assert errorCondition(error) == "bad-request"


def test_setBadJIDs():
    """An item without jid is a bad-request; an invalid jid is jid-malformed."""
    h = Harness()
    home = h.login("alice", "home")
    [error] = _iqs(_rosterSet(h, home, "<item name='x'/>"), "error")
    assert errorCondition(error) == "bad-request"
    [error] = _iqs(_rosterSet(h, home, "<item jid='a@b@c'/>"), "error")
    assert errorCondition(error) == "jid-malformed"


def test_removeItemPushesRemove():
    """Removing an item deletes it, answers result and pushes subscription='remove' (2.5.2)."""
    h = Harness()
    h.setItem("alice", CAROL, "none", name="Carol")
    home = h.login("alice", "home")
    received = _rosterSet(h, home, f"<item jid='{CAROL}' subscription='remove'/>")
    assert _iqs(received, "result", "s1")
    [(ver, item)] = pushes(received)
    assert item["subscription"] == "remove" and item["jid"] == CAROL
    assert ver == str(h.storage.roster.versions["alice"])
    assert h.item("alice", CAROL) is None
    assert h.routed() == []  # no subscription either way: nothing to cancel


def test_removeMissingItemIsItemNotFound():
    """Removing an item that is not in the roster is item-not-found (2.5.3)."""
    h = Harness()
    home = h.login("alice", "home")
    received = _rosterSet(h, home, f"<item jid='{CAROL}' subscription='remove'/>")
    [error] = _iqs(received, "error")
    assert errorCondition(error) == "item-not-found"


def test_removeBothCancelsBothDirections():
    """
    Removing a 'both' contact sends unsubscribe, unsubscribed and unavailable from the user
    (2.5.2).
    """
    h = Harness()
    h.setItem("alice", CAROL, "both")
    home = h.login("alice", "home")
    _rosterSet(h, home, f"<item jid='{CAROL}' subscription='remove'/>")
    routed = h.routed()
    assert len(presences(routed, "unsubscribe", ALICE, CAROL)) == 1
    assert len(presences(routed, "unsubscribed", ALICE, CAROL)) == 1
    assert len(presences(routed, "unavailable", home.full, CAROL)) == 1


def test_removePendingOutSendsUnsubscribe():
    """Removing a contact the user asked to subscribe to sends only unsubscribe."""
    h = Harness()
    h.setItem("alice", CAROL, "none", ask="subscribe")
    home = h.login("alice", "home")
    _rosterSet(h, home, f"<item jid='{CAROL}' subscription='remove'/>")
    routed = h.routed()
    assert [p["type"] for p in routed] == ["unsubscribe"]


def test_removeWithPendingInDeniesRequest():
    """Removing a contact whose request is pending denies it with unsubscribed and forgets it."""
    h = Harness()
    h.setItem("alice", CAROL, "none")
    h.storage.roster.addPending("alice", CAROL, "<presence type='subscribe'/>")
    home = h.login("alice", "home")
    _rosterSet(h, home, f"<item jid='{CAROL}' subscription='remove'/>")
    assert [p["type"] for p in h.routed()] == ["unsubscribed"]
    assert h.pending("alice") == {}


def test_setOnOtherUsersRosterIsRefused():
    """Bob may not set items in Alice's roster: service-unavailable, as for a missing account; roster unchanged."""
    h = Harness()
    bob = h.login("bob", "res")
    h.send(bob, f"<iq type='set' id='x1' to='{ALICE}'><query xmlns='jabber:iq:roster'>"
                f"<item jid='{CAROL}'/></query></iq>")
    [error] = _iqs(h.take(bob), "error", "x1")
    assert errorCondition(error) == "service-unavailable"
    assert h.item("alice", CAROL) is None


def test_getOtherUsersRosterIsRefused():
    """A roster get to another local user's bare JID gets the answer a missing account gets."""
    h = Harness()
    bob = h.login("bob", "res")
    h.send(bob, f"<iq type='get' id='x1' to='{ALICE}'><query xmlns='jabber:iq:roster'/></iq>")
    [error] = _iqs(h.take(bob), "error", "x1")
    assert errorCondition(error) == "service-unavailable"


def test_getMissingUsersRosterIsServiceUnavailable():
    """A roster get to an account that does not exist is service-unavailable (8.5.1)."""
    h = Harness()
    bob = h.login("bob", "res")
    h.send(bob, "<iq type='get' id='x1' to='nobody@localhost'>"
                "<query xmlns='jabber:iq:roster'/></iq>")
    [error] = _iqs(h.take(bob), "error", "x1")
    assert errorCondition(error) == "service-unavailable"


def test_remoteRosterGetIsForbidden():
    """A remote entity asking for a local user's roster is forbidden."""
    h = Harness()
    h.inbound(f"<iq type='get' id='x1' from='{CAROL}/phone' to='{ALICE}'>"
              f"<query xmlns='jabber:iq:roster'/></iq>")
    [error] = h.routed()
    assert error["type"] == "error" and error["to"] == f"{CAROL}/phone"
    assert errorCondition(error) == "forbidden"


def test_getAddressedToOwnBareJID():
    """A roster get addressed to the user's own bare JID is answered like one without 'to'."""
    h = Harness()
    h.setItem("alice", CAROL, "to")
    alice = h.bind("alice")
    h.send(alice, f"<iq type='get' id='g1' to='{ALICE}'><query xmlns='jabber:iq:roster'/></iq>")
    [reply] = _iqs(h.take(alice), "result", "g1")
    assert list(_items(reply)) == [CAROL]


def test_streamFeatures():
    """The handler offers roster versioning as a stream feature (2.6.1)."""
    h = Harness()
    [feature] = h.roster.streamFeatures()
    assert (feature.uri, feature.name) == (NS_ROSTERVER_FEATURE, "ver")
