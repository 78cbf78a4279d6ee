"""
Tests for L{jabberd.sm.csi}: Client State Indication (XEP-0352) holding
presence and chat states for an inactive session, and writing its sender's
before anything urgent.
"""

from jabberd import config as configmod
from jabberd.ns import NS_CSI
from jabberd.sm.csi import CSIHandler
from jabberd.sm.modules import handlerFactories
from tests.sm.helpers import ALICE, CAROL, Harness, errorCondition, parse

ROOM = "room@conference.remote.example"


def csiHarness(maxHeld=500, urgentFlush="sender"):
    """A harness with the CSI handler attached and alice logged in."""
    h = Harness()
    h.csi = h.sm.addHandler(CSIHandler(maxHeld=maxHeld, urgentFlush=urgentFlush))
    h.alice = h.login("alice", "res")
    return h


def nonza(h, session, name):
    """C{session}'s client sends the CSI element C{name}; whether a hook took it."""
    return h.sm.nonza(session, parse(f"<{name} xmlns='{NS_CSI}'/>"))


def presenceFrom(h, sender, show=None, to=ALICE + "/res", presenceType=None):
    kind = f" type='{presenceType}'" if presenceType else ""
    child = f"<show>{show}</show>" if show else ""
    h.inbound(f"<presence from='{sender}' to='{to}'{kind}>{child}</presence>")


def chatFrom(h, sender, payload, kind="chat", to=ALICE + "/res"):
    h.inbound(f"<message from='{sender}' to='{to}' type='{kind}'>{payload}</message>")


def summary(elements):
    """(name, from, show or body text) of each element, to compare orders."""
    out = []
    for e in elements:
        texts = [str(c) for c in e.elements() if c.name in ("show", "body")]
        out.append((e.name, e.getAttribute("from"), texts[0] if texts else None))
    return out


COMPOSING = "<composing xmlns='http://jabber.org/protocol/chatstates'/>"


def test_featureOffered():
    """The handler offers <csi xmlns='urn:xmpp:csi:0'/> among the post-authentication features."""
    [feature] = CSIHandler().streamFeatures()
    assert (feature.uri, feature.name) == (NS_CSI, "csi")


def test_activeSessionGetsEverything():
    """A session that never said inactive gets presence and chat states at once."""
    h = csiHarness()
    presenceFrom(h, CAROL + "/phone", "away")
    chatFrom(h, CAROL + "/phone", COMPOSING)
    assert [e.name for e in h.take(h.alice)] == ["presence", "message"]


def test_inactiveHoldsPresenceUntilActive():
    """While inactive, presence is held; <active/> writes the latest from each full JID, in order."""
    h = csiHarness()
    assert nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    presenceFrom(h, "dave@remote.example/pc", "dnd")
    presenceFrom(h, CAROL + "/phone", "xa")
    presenceFrom(h, CAROL + "/desk", "chat")
    assert h.take(h.alice) == []
    assert nonza(h, h.alice, "active")
    assert summary(h.take(h.alice)) == [
        ("presence", "dave@remote.example/pc", "dnd"),
        ("presence", CAROL + "/phone", "xa"),
        ("presence", CAROL + "/desk", "chat"),
    ]
    presenceFrom(h, CAROL + "/phone", "away")
    assert len(h.take(h.alice)) == 1


def test_unavailableReplacesHeldAvailable():
    """An unavailable presence replaces the held available one of the same full JID."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    presenceFrom(h, CAROL + "/phone", presenceType="unavailable")
    nonza(h, h.alice, "active")
    [presence] = h.take(h.alice)
    assert presence["type"] == "unavailable"


def test_messageWithBodyFlushesHeldFirst():
    """A chat message with a body is written right away, after everything held, in order."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    chatFrom(h, CAROL + "/phone", COMPOSING)
    presenceFrom(h, CAROL + "/phone", "dnd")
    assert h.take(h.alice) == []
    chatFrom(h, CAROL + "/phone", "<body>hello</body><active xmlns="
             "'http://jabber.org/protocol/chatstates'/>")
    assert summary(h.take(h.alice)) == [
        ("message", CAROL + "/phone", None),
        ("presence", CAROL + "/phone", "dnd"),
        ("message", CAROL + "/phone", "hello"),
    ]
    assert h.csi.isInactive(h.alice)  # still inactive: the next presence is held again
    presenceFrom(h, CAROL + "/phone", "away")
    assert h.take(h.alice) == []


def test_chatStateWithThreadHeld():
    """A message with a chat state and a thread and nothing else is held."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    chatFrom(h, CAROL + "/phone", COMPOSING + "<thread>t1</thread>")
    assert h.take(h.alice) == []


def test_bodilessMessageWithOtherPayloadIsUrgent():
    """A bodiless message carrying more than a chat state (a receipt) is written at once."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    chatFrom(h, CAROL + "/phone", COMPOSING + "<received xmlns='urn:xmpp:receipts' id='m1'/>")
    assert [e.name for e in h.take(h.alice)] == ["presence", "message"]


def carbon(inner):
    """A carbon copy (XEP-0280) from alice's bare JID forwarding C{inner}."""
    return (f"<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
            f"<message xmlns='jabber:client' from='{CAROL}/phone' to='{ALICE}/other' "
            f"type='chat'>{inner}</message></forwarded></received>")


def test_carbonOfChatStateHeld():
    """A carbon copy of a chat-state-only message is held; a carbon of a chat message is not."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    chatFrom(h, ALICE, carbon(COMPOSING))
    assert h.take(h.alice) == []
    chatFrom(h, ALICE, carbon("<body>hi</body>"))
    assert len(h.take(h.alice)) == 2


def test_iqFlushes():
    """An iq to the inactive session is written at once, after what was held."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    h.inbound(f"<iq from='{CAROL}/phone' to='{ALICE}/res' type='get' id='p1'>"
              "<ping xmlns='urn:xmpp:ping'/></iq>")
    assert [e.name for e in h.take(h.alice)] == ["presence", "iq"]


def test_subscriptionRequestFlushes():
    """A subscription request is urgent: written at once, after what was held from its sender."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribe'/>")
    received = h.take(h.alice)
    assert [(e.name, e.getAttribute("type")) for e in received] == [
        ("presence", None), ("presence", "subscribe")]


def test_urgentStanzaWritesOnlyItsSendersHeld():
    """
    An urgent stanza writes first what is held from its sender's bare JID (any resource), in
    order; other contacts' presence stays held until <active/>.
    """
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    presenceFrom(h, "dave@remote.example/pc", "away")
    presenceFrom(h, CAROL + "/phone", "dnd")
    chatFrom(h, CAROL + "/desk", COMPOSING)
    presenceFrom(h, "dave@remote.example/pc", "xa")
    chatFrom(h, CAROL + "/desk", "<body>hello</body>")
    assert summary(h.take(h.alice)) == [
        ("presence", CAROL + "/phone", "dnd"),
        ("message", CAROL + "/desk", None),
        ("message", CAROL + "/desk", "hello"),
    ]
    chatFrom(h, CAROL + "/desk", "<body>again</body>")
    assert summary(h.take(h.alice)) == [("message", CAROL + "/desk", "again")]
    nonza(h, h.alice, "active")
    assert summary(h.take(h.alice)) == [("presence", "dave@remote.example/pc", "xa")]


def test_urgentStanzaWithoutFromWritesOwnAccountsHeld():
    """A stanza without 'from' is from the user's account: it writes what that bare JID sent."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    chatFrom(h, ALICE, carbon(COMPOSING))
    h.inbound(f"<iq to='{ALICE}/res' type='set' id='push1'>"
              "<query xmlns='jabber:iq:roster'/></iq>")
    assert [e.name for e in h.take(h.alice)] == ["message", "iq"]
    nonza(h, h.alice, "active")
    assert [e.getAttribute("from") for e in h.take(h.alice)] == [CAROL + "/phone"]


def test_urgentFlushAllWritesEverything():
    """With csi_urgent_flush = all, an urgent stanza writes everything held first, in order."""
    h = csiHarness(urgentFlush="all")
    nonza(h, h.alice, "inactive")
    presenceFrom(h, "dave@remote.example/pc", "away")
    h.inbound(f"<presence from='{CAROL}' to='{ALICE}' type='subscribe'/>")
    received = h.take(h.alice)
    assert [(e.getAttribute("from"), e.getAttribute("type")) for e in received] == [
        ("dave@remote.example/pc", None), (CAROL, "subscribe")]
    assert h.csi.isInactive(h.alice)


def joined(h, nick="alice"):
    """alice's session joins ROOM as C{nick} (directed presence to the occupant JID)."""
    h.send(h.alice, f"<presence to='{ROOM}/{nick}'/>")
    h.routed()


def test_groupchatUrgentWhenNickUnknown():
    """A room message with a body is urgent when the user's nick in the room is unknown."""
    h = csiHarness()
    nonza(h, h.alice, "inactive")
    chatFrom(h, ROOM + "/bob", "<body>hi all</body>", "groupchat")
    assert len(h.take(h.alice)) == 1


def test_groupchatHeldUnlessItMentionsTheNick():
    """In a room where the nick is known, chatter is held and a mention flushes it all."""
    h = csiHarness()
    joined(h, "Wonder")
    nonza(h, h.alice, "inactive")
    chatFrom(h, ROOM + "/bob", "<body>hi all</body>", "groupchat")
    chatFrom(h, ROOM + "/bob", COMPOSING, "groupchat")
    assert h.take(h.alice) == []
    chatFrom(h, ROOM + "/bob", "<body>wonder, are you there?</body>", "groupchat")
    assert [text for _n, _f, text in summary(h.take(h.alice))] == [
        "hi all", None, "wonder, are you there?"]


def test_ownRoomMessageIsUrgent():
    """The room's echo of the user's own message is written at once."""
    h = csiHarness()
    joined(h, "Wonder")
    nonza(h, h.alice, "inactive")
    chatFrom(h, ROOM + "/Wonder", "<body>hi</body>", "groupchat")
    assert len(h.take(h.alice)) == 1


def test_maxHeldFlushesEverything():
    """Past csi_max_held stanzas everything held is written; replacements do not count."""
    h = csiHarness(maxHeld=3)
    nonza(h, h.alice, "inactive")
    for sender in ("a", "b", "c"):
        presenceFrom(h, f"{sender}@remote.example/r", "away")
    presenceFrom(h, "a@remote.example/r", "dnd")
    assert h.take(h.alice) == []
    presenceFrom(h, "d@remote.example/r", "away")
    assert [f for _n, f, _t in summary(h.take(h.alice))] == [
        "b@remote.example/r", "c@remote.example/r", "a@remote.example/r", "d@remote.example/r"]
    assert h.csi.isInactive(h.alice)


def test_maxHeldZeroHoldsNothing():
    """With csi_max_held = 0 an inactive session still gets every stanza at once."""
    h = csiHarness(maxHeld=0)
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    assert len(h.take(h.alice)) == 1


def test_statePerSession():
    """One resource going inactive does not hold what the user's other resource gets."""
    h = csiHarness()
    other = h.login("alice", "other")
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away", to=ALICE)
    assert h.take(h.alice) == [] and len(h.take(other)) == 1


def test_sessionEndWhileInactive():
    """
    A session ending while inactive drops held presence and chat states, and held room messages
    get the answer for a gone resource (an error to the room).
    """
    h = csiHarness()
    joined(h, "Wonder")
    nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    chatFrom(h, CAROL + "/phone", COMPOSING)
    chatFrom(h, ROOM + "/bob", "<body>hi all</body>", "groupchat")
    h.routed()
    h.sm.unbindSession(h.alice)
    assert h.take(h.alice) == []
    errors = [e for e in h.routed() if e.name == "message"]
    assert [(e["to"], e["type"], errorCondition(e)) for e in errors] == [
        (ROOM + "/bob", "error", "service-unavailable")]
    assert not h.csi.isInactive(h.alice)


def test_otherNonzasLeftAlone():
    """Only <active/> and <inactive/> in urn:xmpp:csi:0 are taken; a repeated state is a no-op."""
    h = csiHarness()
    assert not h.sm.nonza(h.alice, parse("<inactive xmlns='urn:example'/>"))
    assert not nonza(h, h.alice, "csi")
    assert nonza(h, h.alice, "active") and not h.csi.isInactive(h.alice)
    assert nonza(h, h.alice, "inactive") and nonza(h, h.alice, "inactive")
    presenceFrom(h, CAROL + "/phone", "away")
    assert nonza(h, h.alice, "active") and len(h.take(h.alice)) == 1


def test_attachedWithConfiguredLimit():
    """The module list attaches CSI with [c2s] csi_max_held (default 500)."""
    def csiOf(text):
        config = configmod.parse("[server]\ndomains = localhost\n" + text)
        handlers = [factory() for factory in handlerFactories(config)]
        return [h for h in handlers if isinstance(h, CSIHandler)]

    [default] = csiOf("")
    assert (default.maxHeld, default.urgentFlush) == (500, "sender")
    [configured] = csiOf("[c2s]\ncsi_max_held = 7\ncsi_urgent_flush = All\n")
    assert (configured.maxHeld, configured.urgentFlush) == (7, "all")


def test_urgentFlushSettingChecked():
    """An unknown csi_urgent_flush value is a configuration error naming the choices."""
    try:
        configmod.parse("[server]\ndomains = localhost\n[c2s]\ncsi_urgent_flush = some\n")
    except configmod.ConfigError as e:
        assert "csi_urgent_flush" in str(e) and "sender" in str(e)
    else:
        raise AssertionError("csi_urgent_flush = some was accepted")
