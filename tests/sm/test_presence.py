"""
Tests for L{jabberd.sm.presence}: RFC 6121 sections 3 (subscriptions) and
4 (presence), between local users alice and bob and a remote contact carol.
"""

from jabberd.dispatch import index
from jabberd.handler import Handler
from jabberd.ns import NS_PRESENCE_PREAPPROVAL
from jabberd.sm.presence import (INBOUND, OUTBOUND, SUBSCRIPTION_TYPES, PresenceHandler,
                                 priorityOf)
from jabberd.storage.cached import CachedStorage
from tests.sm.helpers import (ALICE, BOB, CAROL, Harness, SlowStorage, errorCondition, parse,
                              presences, pushes, result)


def _sub(item):
    return (item.subscription, item.ask) if item is not None else None


def _pushedStates(elements):
    return [(i["jid"], i["subscription"], i.getAttribute("ask")) for _v, i in pushes(elements)]


# --- subscription requests (3.1) ---


def test_subscriptionHandlersMarked():
    """Every subscription type has one marked handler in each direction, and nothing else does."""
    assert set(index(PresenceHandler, OUTBOUND)) == SUBSCRIPTION_TYPES
    assert set(index(PresenceHandler, INBOUND)) == SUBSCRIPTION_TYPES
    assert index(PresenceHandler, INBOUND)["subscribe"] is PresenceHandler._inSubscribe


def test_subscribeUpdatesRosterAndReachesContact():
    """
    Subscribe sets ask on the user's item with a push, and reaches the contact from the bare JID
    (3.1.2, 3.1.3).
    """
    h = Harness()
    alice = h.login("alice", "home")
    bob = h.login("bob", "res")
    h.send(alice, f"<presence to='{BOB}' type='subscribe'><status>hi</status></presence>")
    assert _pushedStates(h.take(alice)) == [(BOB, "none", "subscribe")]
    assert _sub(h.item("alice", BOB)) == ("none", "subscribe")
    [request] = presences(h.take(bob), "subscribe")
    assert request["from"] == ALICE and request["to"] == BOB
    assert BOB in request["to"] and ALICE in h.pending("bob")


def test_subscribeToFullJIDStampedBare():
    """
    An outbound subscribe to a full JID goes to the bare JID, from the user's bare JID (3.1.2).
    """
    h = Harness()
    alice = h.login("alice", "home")
    h.send(alice, f"<presence to='{CAROL}/phone' type='subscribe'/>")
    [out] = h.routed()
    assert (out["type"], out["from"], out["to"]) == ("subscribe", ALICE, CAROL)


def test_subscribeWithoutToIsDropped():
    """A subscription stanza without 'to' is consumed and goes nowhere."""
    h = Harness()
    alice = h.login("alice", "home")
    h.send(alice, "<presence type='subscribe'/>")
    assert h.routed() == [] and h.take(alice) == []


def test_subscribeToMalformedJIDIsError():
    """Subscribing to an invalid address bounces jid-malformed to the client."""
    h = Harness()
    alice = h.login("alice", "home")
    h.send(alice, "<presence to='a@b@c' type='subscribe'/>")
    [error] = presences(h.take(alice), "error")
    assert errorCondition(error) == "jid-malformed"


def test_requestKeptForOfflineContactAndDeliveredOnLogin():
    """
    A request for an offline user is stored and delivered on each initial presence until
    answered (3.1.3).
    """
    h = Harness()
    h.inbound(f"<presence from='{CAROL}' to='{BOB}' type='subscribe'>"
              "<status>me</status></presence>")
    assert CAROL in h.pending("bob")
    bob = h.bind("bob", "res")
    h.send(bob, "<presence/>")
    [request] = presences(h.take(bob), "subscribe")
    assert request["from"] == CAROL and str(next(request.elements())) == "me"
    h.sm.unbindSession(bob)
    again = h.bind("bob", "other")
    h.send(again, "<presence/>")
    assert len(presences(h.take(again), "subscribe", CAROL)) == 1


def test_requestDeliveredOnlyToAvailableResources():
    """Subscription requests go to available resources, not to merely connected ones."""
    h = Harness()
    bob = h.login("bob", "res")
    idle = h.login("bob", "idle", available=False)
    h.inbound(f"<presence from='{CAROL}' to='{BOB}' type='subscribe'/>")
    assert len(presences(h.take(bob), "subscribe")) == 1
    assert h.take(idle) == []


def test_approvalCompletesSubscription():
    """
    Approving a pending request makes both rosters agree, pushes both and sends presence (3.1.5,
    3.1.6).
    """
    h = Harness()
    alice = h.login("alice", "home")
    bob = h.login("bob", "res")
    h.send(alice, f"<presence to='{BOB}' type='subscribe'/>")
    h.clear()
    h.send(bob, f"<presence to='{ALICE}' type='subscribed'/>")
    assert _pushedStates(h.take(bob)) == [(ALICE, "from", None)]
    received = h.take(alice)
    assert _pushedStates(received) == [(BOB, "to", None)]
    assert len(presences(received, "subscribed", BOB)) == 1
    assert len(presences(received, None, bob.full)) == 1  # bob's current presence
    assert _sub(h.item("alice", BOB)) == ("to", "")
    assert _sub(h.item("bob", ALICE)) == ("from", "")
    assert h.pending("bob") == {}


def test_mutualHandshake():
    """Subscriptions both ways end in 'both' on each side and each sees the other's presence."""
    h = Harness()
    alice = h.login("alice", "home")
    bob = h.login("bob", "res")
    h.send(alice, f"<presence to='{BOB}' type='subscribe'/>")
    h.send(bob, f"<presence to='{ALICE}' type='subscribed'/>")
    h.send(bob, f"<presence to='{ALICE}' type='subscribe'/>")
    assert len(presences(h.take(alice), "subscribe", BOB)) == 1
    h.send(alice, f"<presence to='{BOB}' type='subscribed'/>")
    assert _sub(h.item("alice", BOB)) == ("both", "")
    assert _sub(h.item("bob", ALICE)) == ("both", "")
    assert presences(h.take(bob), None, alice.full)
    h.clear()
    h.send(alice, "<presence><show>away</show></presence>")
    assert len(presences(h.take(bob), None, alice.full)) == 1


def test_crossedApprovalsWithSlowStore():
    """
    Approvals crossing each other end in 'both' on each side even when the
    store answers late: changes to one roster never overlap.
    """
    storage = SlowStorage()
    h = Harness(storage=storage)
    h.setItem("alice", BOB, "none", ask="subscribe")
    h.setItem("bob", ALICE, "none", ask="subscribe")
    storage.roster.addPending("alice", BOB, "<presence type='subscribe'/>")
    storage.roster.addPending("bob", ALICE, "<presence type='subscribe'/>")
    alice = h.login("alice", "home")
    bob = h.login("bob", "res")
    storage.flush()
    h.send(alice, f"<presence to='{BOB}' type='subscribed'/>")
    h.send(bob, f"<presence to='{ALICE}' type='subscribed'/>")
    storage.flush()
    assert _sub(h.item("alice", BOB)) == ("both", "")
    assert _sub(h.item("bob", ALICE)) == ("both", "")
    assert len(h.roster._locks) == 0


def test_inboundSubscribeWhenSubscribedIsAutoApproved():
    """
    A request from a contact that already has 'from' is answered subscribed by the server
    (3.1.3).
    """
    h = Harness()
    h.setItem("alice", CAROL, "from")
    alice = h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribe'/>")
    assert h.take(alice) == []
    [reply] = h.routed()
    assert (reply["type"], reply["from"], reply["to"]) == ("subscribed", ALICE, CAROL)


def test_subscribeToUnknownUserIsUnsubscribed():
    """A request to an account that does not exist is answered unsubscribed (8.5.1)."""
    h = Harness()
    h.inbound(f"<presence from='{CAROL}' to='nobody@localhost' type='subscribe'/>")
    [reply] = h.routed()
    assert (reply["type"], reply["from"], reply["to"]) == (
        "unsubscribed", "nobody@localhost", CAROL)


def test_unrequestedSubscribedIsIgnored():
    """A subscribed the user never asked for changes nothing and is not delivered (3.1.6)."""
    h = Harness()
    h.setItem("alice", BOB, "from")
    alice = h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribed'/>")
    h.inbound(f"<presence from='{BOB}' to='{ALICE}' type='subscribed'/>")
    assert h.take(alice) == []
    assert h.item("alice", CAROL) is None
    assert _sub(h.item("alice", BOB)) == ("from", "")


def test_subscribedWithoutRequestIsNotRouted():
    """Approving with nothing pending sends nothing to the contact (3.1.5)."""
    h = Harness()
    h.setItem("alice", CAROL, "from")
    alice = h.login("alice", "home")
    h.send(alice, f"<presence to='{CAROL}' type='subscribed'/>")
    assert h.routed() == [] and pushes(h.take(alice)) == []


def test_preApproval():
    """Subscribed before any request pre-approves; the later request is auto-approved (3.4)."""
    h = Harness()
    alice = h.login("alice", "home")
    h.send(alice, f"<presence to='{CAROL}' type='subscribed'/>")
    assert h.routed() == []
    [(_ver, item)] = pushes(h.take(alice))
    assert item["approved"] == "true" and item["subscription"] == "none"
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribe'/>")
    routed = h.routed()
    assert len(presences(routed, "subscribed", ALICE, CAROL)) == 1
    assert len(presences(routed, None, alice.full, CAROL)) == 1
    stored = h.item("alice", CAROL)
    assert (stored.subscription, stored.approved) == ("from", False)
    assert presences(h.take(alice), "subscribe") == []


def test_preApprovalFeature():
    """Pre-approval is offered as a stream feature (3.4)."""
    [feature] = Harness().presence.streamFeatures()
    assert (feature.uri, feature.name) == (NS_PRESENCE_PREAPPROVAL, "sub")


# --- cancelling and unsubscribing (3.2, 3.3) ---


def test_outboundUnsubscribe():
    """Unsubscribing drops 'to' with a push and routes unsubscribe from the bare JID (3.3.2)."""
    h = Harness()
    h.setItem("alice", CAROL, "both")
    alice = h.login("alice", "home")
    h.send(alice, f"<presence to='{CAROL}' type='unsubscribe'/>")
    assert _pushedStates(h.take(alice)) == [(CAROL, "from", None)]
    [out] = h.routed()
    assert (out["type"], out["from"], out["to"]) == ("unsubscribe", ALICE, CAROL)


def test_outboundUnsubscribedCancelsAndSendsUnavailable():
    """
    Cancelling a subscriber drops 'from', routes unsubscribed, then unavailable from each
    resource (3.2.2).
    """
    h = Harness()
    h.setItem("alice", CAROL, "both")
    alice = h.login("alice", "home")
    h.send(alice, f"<presence to='{CAROL}' type='unsubscribed'/>")
    assert _pushedStates(h.take(alice)) == [(CAROL, "to", None)]
    routed = h.routed()
    assert [p["type"] for p in routed] == ["unsubscribed", "unavailable"]
    assert routed[0]["from"] == ALICE and routed[1]["from"] == alice.full


def test_outboundUnsubscribedDeniesRequest():
    """Denying a pending request forgets it and routes unsubscribed without creating an item."""
    h = Harness()
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribe'/>")
    alice = h.login("alice", "home")
    h.send(alice, f"<presence to='{CAROL}' type='unsubscribed'/>")
    assert h.pending("alice") == {}
    assert h.item("alice", CAROL) is None
    assert [p["type"] for p in h.routed()] == ["unsubscribed"]


def test_inboundUnsubscribe():
    """
    A contact unsubscribing drops its 'from', is pushed and delivered, and gets unavailable
    (3.3.3).
    """
    h = Harness()
    h.setItem("alice", CAROL, "from")
    alice = h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='unsubscribe'/>")
    received = h.take(alice)
    assert _pushedStates(received) == [(CAROL, "none", None)]
    assert len(presences(received, "unsubscribe", CAROL)) == 1
    assert len(presences(h.routed(), "unavailable", alice.full, CAROL)) == 1


def test_inboundUnsubscribeWithdrawsRequest():
    """An unsubscribe after an unanswered request withdraws it: forgotten and shown to the user."""
    h = Harness()
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribe'/>")
    alice = h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='unsubscribe'/>")
    assert h.pending("alice") == {}
    assert presences(h.take(alice), "unsubscribe", CAROL)
    assert h.routed() == []  # carol was never subscribed: no unavailable


def test_subscribeWhileSubscribedStillRouted():
    """Subscribing again when already subscribed changes nothing locally but is routed (3.1.2)."""
    h = Harness()
    h.setItem("alice", CAROL, "to")
    alice = h.login("alice", "home")
    h.send(alice, f"<presence to='{CAROL}' type='subscribe'/>")
    assert pushes(h.take(alice)) == []
    assert _sub(h.item("alice", CAROL)) == ("to", "")
    assert presences(h.routed(), "subscribe", ALICE, CAROL)


def test_crossedRequestsBothPending():
    """
    A user who asks a contact whose own request is pending keeps that request (None + Pending
    Out/In).
    """
    h = Harness()
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribe'/>")
    alice = h.login("alice", "home")
    h.send(alice, f"<presence to='{CAROL}' type='subscribe'/>")
    assert _sub(h.item("alice", CAROL)) == ("none", "subscribe")
    assert CAROL in h.pending("alice")


def test_approvalReachesInterestedResourceWithoutPresence():
    """An approval is shown to a resource that keeps the roster even if it is not available."""
    h = Harness()
    h.setItem("alice", CAROL, "none", ask="subscribe")
    keeper = h.login("alice", "keeper", available=False)
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribed'/>")
    received = h.take(keeper)
    assert presences(received, "subscribed", CAROL)
    assert _pushedStates(received) == [(CAROL, "to", None)]


def test_inboundUnsubscribed():
    """A contact cancelling the user's subscription drops 'to' with a push and delivery (3.2.3)."""
    h = Harness()
    h.setItem("alice", CAROL, "both")
    alice = h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='unsubscribed'/>")
    received = h.take(alice)
    assert _pushedStates(received) == [(CAROL, "from", None)]
    assert len(presences(received, "unsubscribed", CAROL)) == 1


def test_inboundUnsubscribedDeniesPendingOut():
    """A denial of the user's pending request clears ask."""
    h = Harness()
    h.setItem("alice", CAROL, "none", ask="subscribe")
    h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='unsubscribed'/>")
    assert _sub(h.item("alice", CAROL)) == ("none", "")


def test_inboundUnsubscribedWithoutSubscriptionIsIgnored():
    """An unsubscribed that changes no state is neither pushed nor delivered."""
    h = Harness()
    h.setItem("alice", CAROL, "from")
    alice = h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='unsubscribed'/>")
    assert h.take(alice) == []


# --- presence broadcast (4.2, 4.4, 4.5) ---


def test_initialPresenceBroadcastAndProbes():
    """
    Initial presence goes to 'from'/'both' contacts; 'to'/'both' contacts are probed from the
    bare JID (4.2.2).
    """
    h = Harness()
    for jid, sub in [("f@remote.example", "from"), ("b@remote.example", "both"),
                     ("t@remote.example", "to"), ("n@remote.example", "none")]:
        h.setItem("alice", jid, sub)
    alice = h.bind("alice", "home")
    h.send(alice, "<presence><status>here</status></presence>")
    routed = h.routed()
    available = {p["to"] for p in presences(routed, None, alice.full)}
    probes = {p["to"] for p in presences(routed, "probe", ALICE)}
    assert available == {"f@remote.example", "b@remote.example"}
    assert probes == {"t@remote.example", "b@remote.example"}


def test_initialPresenceSeenByOwnResources():
    """
    Initial presence is echoed to the sender and other resources, and the new one sees the
    others (4.2.2).
    """
    h = Harness()
    home = h.login("alice", "home")
    work = h.bind("alice", "work")
    h.send(work, "<presence><priority>3</priority></presence>")
    assert presences(h.take(work), None, work.full)
    assert presences(h.take(home), None, work.full)
    assert work.priority == 3
    h.clear()
    phone = h.bind("alice", "phone")
    h.send(phone, "<presence/>")
    seen = {p["from"] for p in presences(h.take(phone))}
    assert seen == {home.full, work.full, phone.full}


def test_loginProbeAnsweredByLocalContact():
    """A local contact's presence answers the probe sent at login (4.3)."""
    h = Harness()
    h.setItem("alice", BOB, "both")
    h.setItem("bob", ALICE, "both")
    bob = h.login("bob", "res")
    alice = h.bind("alice", "home")
    h.send(alice, "<presence/>")
    assert len(presences(h.take(alice), None, bob.full)) == 1
    assert len(presences(h.take(bob), None, alice.full)) == 1


def test_probeFromSubscriberAnswered():
    """
    A probe from a subscriber gets each available resource's presence, from the full JID
    (4.3.2).
    """
    h = Harness()
    h.setItem("alice", CAROL, "from")
    alice = h.login("alice", "home")
    h.routed()
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='probe'/>")
    [reply] = h.routed()
    assert reply.getAttribute("type") is None
    assert reply["from"] == alice.full and reply["to"] == CAROL


def test_probeFromStrangerIsUnsubscribed():
    """A probe from someone without a subscription gets unsubscribed from the bare JID (4.3.2)."""
    h = Harness()
    h.setItem("alice", CAROL, "to")
    h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='probe'/>")
    [reply] = h.routed()
    assert (reply["type"], reply["from"], reply["to"]) == ("unsubscribed", ALICE, CAROL)


def test_probeWhileOfflineIsUnavailableWithLastStatus():
    """
    A subscriber probing an offline user gets unavailable from the bare JID with the last
    status.
    """
    h = Harness()
    h.setItem("alice", CAROL, "both")
    alice = h.login("alice", "home")
    h.send(alice, "<presence type='unavailable'><status>gone fishing</status></presence>")
    h.sm.unbindSession(alice)
    h.routed()
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='probe'/>")
    [reply] = h.routed()
    assert (reply["type"], reply["from"]) == ("unavailable", ALICE)
    assert str(next(reply.elements())) == "gone fishing"


def test_presenceUpdateBroadcastWithoutProbes():
    """A presence update reaches subscribers and own resources, with no new probes (4.4.2)."""
    h = Harness()
    h.setItem("alice", CAROL, "both")
    home = h.login("alice", "home")
    work = h.login("alice", "work")
    h.send(home, "<presence><show>dnd</show></presence>")
    routed = h.routed()
    assert [p["to"] for p in presences(routed, None, home.full)] == [CAROL]
    assert presences(routed, "probe") == []
    assert presences(h.take(work), None, home.full)


def test_unavailableBroadcast():
    """
    Unavailable presence reaches subscribers and other resources, and records last activity
    (4.5.2).
    """
    h = Harness()
    h.setItem("alice", CAROL, "from")
    home = h.login("alice", "home")
    h.send(home, "<presence type='unavailable'><status>bye</status></presence>")
    assert not home.available
    [out] = h.routed()
    assert (out["type"], out["from"], out["to"]) == ("unavailable", home.full, CAROL)
    stamp, status = h.storage.last.data["alice"]
    assert status == "bye" and stamp > 0


def test_lastRecordedOnlyForLastResource():
    """Last activity is recorded only when the user's last available resource goes."""
    h = Harness()
    home = h.login("alice", "home")
    work = h.login("alice", "work")
    h.send(home, "<presence type='unavailable'/>")
    assert "alice" not in h.storage.last.data
    assert presences(h.take(work), "unavailable", home.full)
    h.sm.unbindSession(work)
    assert "alice" in h.storage.last.data


def test_abruptDisconnectBroadcastsUnavailable():
    """A session that ends without unavailable presence gets it sent on its behalf (4.5.2)."""
    h = Harness()
    h.setItem("alice", CAROL, "both")
    h.setItem("alice", BOB, "both")
    h.setItem("bob", ALICE, "both")
    bob = h.login("bob", "res")
    home = h.login("alice", "home")
    work = h.login("alice", "work")
    h.sm.unbindSession(home)
    assert presences(h.routed(), "unavailable", home.full, CAROL)
    assert presences(h.take(bob), "unavailable", home.full)
    assert presences(h.take(work), "unavailable", home.full)
    assert home.stream.sent == []


def test_unavailableSessionEndsSilently():
    """A session that never sent presence ends without any broadcast."""
    h = Harness()
    h.setItem("alice", CAROL, "both")
    home = h.login("alice", "home", available=False)
    h.sm.unbindSession(home)
    assert h.routed() == []
    assert "alice" not in h.storage.last.data


# --- directed presence (4.6) ---


def test_directedPresenceGetsUnavailableAtSessionEnd():
    """
    Directed presence is routed as sent and its recipient is told when the session ends (4.6).
    """
    h = Harness()
    home = h.login("alice", "home")
    h.send(home, "<presence to='room@conference.remote.example/nick'/>")
    [out] = h.routed()
    assert out["from"] == home.full and out.getAttribute("type") is None
    h.sm.unbindSession(home)
    [gone] = h.routed()
    assert (gone["type"], gone["to"]) == ("unavailable", "room@conference.remote.example/nick")


def test_directedUnavailableStopsTracking():
    """Directed unavailable presence forgets the recipient, so nothing more is sent later."""
    h = Harness()
    home = h.login("alice", "home")
    h.send(home, f"<presence to='{CAROL}'/>")
    h.send(home, f"<presence to='{CAROL}' type='unavailable'/>")
    h.routed()
    h.sm.unbindSession(home)
    assert h.routed() == []


def test_directedToSubscriberNotDuplicated():
    """A subscriber that also got directed presence gets one unavailable, not two."""
    h = Harness()
    h.setItem("alice", CAROL, "from")
    home = h.login("alice", "home")
    h.send(home, f"<presence to='{CAROL}/phone'/>")
    h.routed()
    h.sm.unbindSession(home)
    assert len(presences(h.routed(), "unavailable")) == 1


def test_directedBeforeInitialPresence():
    """Directed presence from a session that is not available is still followed by unavailable."""
    h = Harness()
    home = h.login("alice", "home", available=False)
    h.send(home, f"<presence to='{CAROL}'/>")
    h.routed()
    h.sm.unbindSession(home)
    assert presences(h.routed(), "unavailable", home.full, CAROL)


# --- inbound presence delivery (8.5) ---


def test_inboundPresenceToBareJIDReachesAvailableResources():
    """Presence to a bare JID goes to every available resource, not to connected-only ones."""
    h = Harness()
    home = h.login("alice", "home")
    work = h.login("alice", "work")
    idle = h.login("alice", "idle", available=False)
    h.inbound(f"<presence from='{CAROL}/phone' to='{ALICE}'/>")
    assert len(h.take(home)) == len(h.take(work)) == 1
    assert h.take(idle) == []


def test_inboundPresenceToFullJID():
    """Presence to a full JID goes to that resource only; to a missing resource it is dropped."""
    h = Harness()
    home = h.login("alice", "home")
    work = h.login("alice", "work")
    h.inbound(f"<presence from='{CAROL}/phone' to='{ALICE}/work'/>")
    h.inbound(f"<presence from='{CAROL}/phone' to='{ALICE}/gone'/>")
    assert h.take(home) == []
    assert len(h.take(work)) == 1


def test_inboundPresenceError():
    """A presence error for the user reaches the addressed resource."""
    h = Harness()
    home = h.login("alice", "home")
    h.inbound(f"<presence from='{CAROL}' to='{home.full}' type='error'>"
              "<error type='cancel'><remote-server-not-found "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>")
    [error] = presences(h.take(home), "error")
    assert errorCondition(error) == "remote-server-not-found"


# --- priority and observers ---


def test_priorityParsing():
    """Priority is an integer in -128..127: missing or invalid is 0, out of range is clamped."""
    def prio(text):
        return priorityOf(parse(f"<presence><priority>{text}</priority></presence>"))
    assert priorityOf(parse("<presence/>")) == 0
    assert prio("5") == 5
    assert prio("-1") == -1
    assert prio("high") == 0
    assert prio("500") == 127
    assert prio("-500") == -128


def test_sessionAvailableHookCalledOnInitialPresenceOnly():
    """The sessionAvailable hooks hear of a session's initial presence, not of later updates."""
    h = Harness()
    seen = []

    class Watcher(Handler):
        def sessionAvailable(self, session):
            seen.append(session)

    h.sm.addHandler(Watcher())
    home = h.login("alice", "home")
    h.send(home, "<presence><show>away</show></presence>")
    assert seen == [home]


def test_lastStampIsNumber():
    """The recorded last activity is a UNIX time and a status string."""
    h = Harness()
    home = h.login("alice", "home")
    h.sm.unbindSession(home)
    stamp, status = result(h.storage.last.get("alice"))
    assert isinstance(stamp, float) and status == ""


def _cachedHarness():
    """A harness whose roster reads wait (SlowStorage) behind the session manager's cache."""
    slow = SlowStorage()
    h = Harness(storage=CachedStorage(slow))
    return h, slow


def test_probeAnsweredFromMemory():
    """
    A probe to an available user whose roster is in memory is answered at
    once, with no storage read: presence for a subscriber (4.3.2).
    """
    h, slow = _cachedHarness()
    h.setItem("alice", CAROL, "from")
    h.storage.pin("alice")
    alice = h.login("alice", "home")
    slow.flush()
    h.routed()
    h.inbound(f"<presence from='{CAROL}/x' to='{ALICE}' type='probe'/>")
    assert slow.queue == []
    [reply] = h.routed()
    assert reply.getAttribute("type") is None
    assert reply["from"] == alice.full and reply["to"] == CAROL + "/x"


def test_probeFromStrangerRefusedFromMemory():
    """A probe from a contact without 'from' is answered unsubscribed from memory (4.3.2)."""
    h, slow = _cachedHarness()
    h.setItem("alice", CAROL, "to")
    h.storage.pin("alice")
    h.login("alice", "home")
    slow.flush()
    h.routed()
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='probe'/>")
    assert slow.queue == []
    [reply] = h.routed()
    assert (reply["type"], reply["from"], reply["to"]) == ("unsubscribed", ALICE, CAROL)


def test_probeBeforeRosterInMemoryWaitsForStorage():
    """A probe that arrives before the roster is in memory is answered once storage has it."""
    h, slow = _cachedHarness()
    h.setItem("alice", CAROL, "from")
    alice = h.login("alice", "home")  # not pinned: nothing is kept in memory
    h.routed()
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='probe'/>")
    assert h.routed() == []
    slow.flush()
    [reply] = h.routed()
    assert reply["from"] == alice.full and reply["to"] == CAROL


def test_probeOfBoundUnavailableUserAnsweredFromMemory():
    """
    A probe to a user who bound a resource but sent no presence yet is
    answered unavailable with the last status (4.3.2), from memory once
    the last logout was read.
    """
    h, slow = _cachedHarness()
    h.setItem("alice", CAROL, "from")
    result(h.storage.last.set("alice", 1000.0, "gone fishing"))
    h.storage.pin("alice")
    h.login("alice", "home", available=False)
    slow.flush()
    h.routed()
    probe = parse(f"<presence from='{CAROL}/x' to='{ALICE}' type='probe'/>")
    assert not h.presence.answerProbeNow(ALICE, probe)  # the last logout is not read yet
    h.inbound(probe.toXml())
    [first] = h.routed()
    assert h.presence.answerProbeNow(ALICE, probe)
    [second] = h.routed()
    for reply in (first, second):
        assert (reply["type"], reply["from"], reply["to"]) == ("unavailable", ALICE, CAROL + "/x")
        assert str(next(reply.elements())) == "gone fishing"


def test_probeOfBoundUserFromStrangerRefusedFromMemory():
    """A stranger's probe of a bound, unavailable user is answered unsubscribed from memory."""
    h, slow = _cachedHarness()
    h.setItem("alice", CAROL, "to")
    h.storage.pin("alice")
    h.login("alice", "home", available=False)
    slow.flush()
    result(h.storage.last.get("alice"))  # read once: kept while pinned
    h.routed()
    assert h.presence.answerProbeNow(ALICE, parse(f"<presence from='{CAROL}' to='{ALICE}' type='probe'/>"))
    [reply] = h.routed()
    assert (reply["type"], reply["from"], reply["to"]) == ("unsubscribed", ALICE, CAROL)
