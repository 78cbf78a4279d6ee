"""
Tests for L{jabberd.sm.carbons}: Message Carbons (XEP-0280) with the
XEP-0334 no-copy hint, on a session manager with the message, presence and
roster handlers.
"""

from jabberd.config import parse as parseConfig
from jabberd.ns import NS_CARBONS, NS_CLIENT, NS_CSI, NS_DISCO_INFO, NS_FORWARD
from jabberd.sm.carbons import RECEIVED, SENT, CarbonsHandler, eligible
from jabberd.sm.csi import CSIHandler
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.modules import buildSessionManager
from jabberd.storage.memory import MemoryStorage
from jabberd.stanza import firstChild
from tests.sm.helpers import ALICE, BOB, CAROL, Harness, errorCondition, parse



def harness():
    h = Harness()
    h.carbons = h.sm.addHandler(CarbonsHandler())
    h.sm.addHandler(DiscoHandler())
    return h


def request(h, session, name="enable", to=None, iqType="set"):
    """C{session} sends an iq with a carbons C{name} element; what it got back."""
    address = f" to='{to}'" if to else ""
    h.send(session, f"<iq type='{iqType}' id='c'{address}><{name} xmlns='{NS_CARBONS}'/></iq>")
    return h.take(session)


def enabled(h, user, *resources, **login):
    """Log in C{user} on each of C{resources} and enable carbons: the sessions."""
    sessions = []
    for resource in resources:
        session = h.login(user, resource, **login)
        [result] = request(h, session)
        assert result["type"] == "result" and result["id"] == "c"
        sessions.append(session)
    return sessions[0] if len(sessions) == 1 else sessions


def messages(elements):
    return [e for e in elements if e.name == "message"]


def carbonOf(wrapper, direction):
    """The message forwarded in C{wrapper}'s C{direction} element, checking the wrapper."""
    [element] = list(wrapper.elements())
    assert (element.uri, element.name) == (NS_CARBONS, direction)
    [forwarded] = list(element.elements())
    assert (forwarded.uri, forwarded.name) == (NS_FORWARD, "forwarded")
    [inner] = list(forwarded.elements())
    assert (inner.uri, inner.name) == (NS_CLIENT, "message")
    return inner


def bodyOf(message):
    body = firstChild(message, name="body")
    return str(body) if body is not None else None


def fromCarol(h, to, payload="<body>hi</body>", kind="chat"):
    h.inbound(f"<message from='{CAROL}/phone' to='{to}' type='{kind}' id='m1'>{payload}</message>")


# --- enabling and disabling (sections 4, 5, 10.1) ---


def test_enableAndDisableEachTwice():
    """Enable and disable are answered with results, repeated ones too, and set the state."""
    h = harness()
    a = h.login("alice", "a")
    for name, state in (("enable", True), ("enable", True), ("disable", False), ("disable", False)):
        [result] = request(h, a, name)
        assert result["type"] == "result" and result["to"] == f"{ALICE}/a"
        assert h.carbons.isEnabled(a) is state
    assert h.carbons.enabled == {}


def test_enableAddressedToServerOrOwnAccount():
    """An enable to the server or to the user's own bare JID enables that session."""
    h = harness()
    for resource, to in (("a", "localhost"), ("b", ALICE)):
        session = h.login("alice", resource)
        [result] = request(h, session, to=to)
        assert result["type"] == "result" and h.carbons.isEnabled(session)


def test_enableForAnotherAccountNotAllowed():
    """Enabling carbons of another account is refused with not-allowed, and changes nothing."""
    h = harness()
    bob = h.login("bob", "x")
    [error] = request(h, h.login("alice", "a"), to=BOB)
    assert error["type"] == "error" and errorCondition(error) == "not-allowed"
    assert h.carbons.enabled == {} and h.take(bob) == []


def test_enableFromRemoteEntityNotAllowed():
    """A remote entity cannot enable carbons: not-allowed (section 4.1)."""
    h = harness()
    h.inbound(f"<iq type='set' id='r' from='{CAROL}/phone' to='localhost'>"
              f"<enable xmlns='{NS_CARBONS}'/></iq>")
    [error] = h.routed()
    assert error["to"] == f"{CAROL}/phone" and errorCondition(error) == "not-allowed"
    assert h.carbons.enabled == {}


def test_unknownRequestIsBadRequest():
    """An iq set of another carbons element gets bad-request; a get is not answered as a set."""
    h = harness()
    a = h.login("alice", "a")
    [bad] = request(h, a, "private")
    [unavailable] = request(h, a, iqType="get")
    assert errorCondition(bad) == "bad-request"
    assert errorCondition(unavailable) == "service-unavailable"
    assert not h.carbons.isEnabled(a)


def test_stateEndsWithSession():
    """A closed session forgets carbons; the next session on that resource starts without them."""
    h = harness()
    a = enabled(h, "alice", "a")
    h.sm.unbindSession(a)
    assert h.carbons.enabled == {}
    again = h.login("alice", "a")
    assert not h.carbons.isEnabled(again)


def test_replacedSessionForgetsCarbons():
    """A session replaced by a new login on its resource takes its carbons state with it."""
    h = harness()
    enabled(h, "alice", "a")
    other = enabled(h, "alice", "b")
    new = h.login("alice", "a")
    assert not h.carbons.isEnabled(new) and h.carbons.isEnabled(other)
    assert list(h.carbons.enabled[ALICE]) == ["b"]


# --- received copies (section 7) ---


def test_receivedCopyToOtherEnabledResources():
    """A message to one resource is copied, from the bare JID, to enabled resources only."""
    h = harness()
    a = h.login("alice", "a")
    b = enabled(h, "alice", "b")
    plain = h.login("alice", "plain")
    fromCarol(h, f"{ALICE}/a")
    [original] = h.take(a)
    assert original["from"] == f"{CAROL}/phone" and bodyOf(original) == "hi"
    [copy] = h.take(b)
    assert (copy["from"], copy["to"], copy["type"]) == (ALICE, f"{ALICE}/b", "chat")
    inner = carbonOf(copy, RECEIVED)
    assert (inner["from"], inner["to"], inner["id"]) == (f"{CAROL}/phone", f"{ALICE}/a", "m1")
    assert bodyOf(inner) == "hi"
    assert h.take(plain) == []


def test_recipientsOfBareMessageGetNoCopy():
    """A bare-JID message reaching every resource of top priority is copied to none of them."""
    h = harness()
    a = enabled(h, "alice", "a", priority=1)
    b = enabled(h, "alice", "b", priority=1)
    low = enabled(h, "alice", "low", priority=0)
    fromCarol(h, ALICE)
    assert [m["from"] for m in h.take(a)] == [m["from"] for m in h.take(b)] == [f"{CAROL}/phone"]
    [copy] = h.take(low)
    assert carbonOf(copy, RECEIVED)["to"] == ALICE


def test_negativePriorityResourceGetsCopy():
    """A carbons-enabled resource of negative priority gets a copy of what another got."""
    h = harness()
    a = h.login("alice", "a")
    shy = enabled(h, "alice", "shy", priority=-1)
    fromCarol(h, ALICE)
    assert len(h.take(a)) == 1
    assert carbonOf(h.take(shy)[0], RECEIVED)["from"] == f"{CAROL}/phone"


def test_undeliveredMessageNotCopied():
    """A message no resource gets (it bounces here) is copied to nobody."""
    h = harness()
    waiting = enabled(h, "alice", "waiting", available=False)
    fromCarol(h, ALICE)
    [bounce] = h.routed()
    assert errorCondition(bounce) == "service-unavailable"
    assert h.take(waiting) == []


def test_goneResourceTreatedAsBare():
    """A chat to a resource that is gone reaches the others as bare; enabled others get copies."""
    h = harness()
    a = h.login("alice", "a", priority=2)
    b = enabled(h, "alice", "b", priority=1)
    fromCarol(h, f"{ALICE}/gone")
    assert len(h.take(a)) == 1
    assert carbonOf(h.take(b)[0], RECEIVED)["to"] == f"{ALICE}/gone"


def test_unpreparedRecipientAddress():
    """A message to an unprepared address of the user is copied all the same."""
    h = harness()
    a = h.login("alice", "a")
    b = enabled(h, "alice", "b")
    fromCarol(h, "Alice@LOCALHOST/a")
    assert len(h.take(a)) == 1
    [copy] = h.take(b)
    assert copy["from"] == ALICE and carbonOf(copy, RECEIVED)["to"] == "Alice@LOCALHOST/a"


def test_copyIsIndependentOfOriginal():
    """The forwarded message is a copy: changes to the original on its way do not reach it."""
    h = harness()
    h.login("alice", "a")
    b = enabled(h, "alice", "b")
    c = enabled(h, "alice", "c")
    message = parse(f"<message from='{CAROL}/phone' to='{ALICE}/a' type='chat'>"
                    f"<body>hi</body></message>", "jabber:server")
    h.sm.receive(message)
    message.addElement(("urn:xmpp:sid:0", "stanza-id"))
    first, second = carbonOf(h.take(b)[0], RECEIVED), carbonOf(h.take(c)[0], RECEIVED)
    assert first is not message and first is not second
    assert [e.name for e in first.elements()] == ["body"]


# --- sent copies (section 8) ---


def test_sentCopyToOtherEnabledResources():
    """A message a resource sends is copied to the other enabled resources, not to itself."""
    h = harness()
    a = enabled(h, "alice", "a")
    b = enabled(h, "alice", "b")
    plain = h.login("alice", "plain")
    h.send(a, f"<message to='{CAROL}' type='chat' id='s1'><body>yo</body></message>")
    [routed] = h.routed()
    assert routed["from"] == f"{ALICE}/a" and bodyOf(routed) == "yo"
    assert h.take(a) == [] and h.take(plain) == []
    [copy] = h.take(b)
    assert (copy["from"], copy["to"], copy["type"]) == (ALICE, f"{ALICE}/b", "chat")
    inner = carbonOf(copy, SENT)
    assert (inner["from"], inner["to"], inner["id"]) == (f"{ALICE}/a", CAROL, "s1")


def test_sentCopyWhenSenderDidNotEnable():
    """The sender need not have carbons enabled for its message to be copied."""
    h = harness()
    a = h.login("alice", "a")
    b = enabled(h, "alice", "b")
    h.send(a, f"<message to='{CAROL}'><body>normal</body></message>")
    [copy] = h.take(b)
    assert not copy.hasAttribute("type") and bodyOf(carbonOf(copy, SENT)) == "normal"


def test_localConversationOneCopyEach():
    """Between two local users, each side's other enabled resources get exactly one copy."""
    h = harness()
    alice, aliceOther = enabled(h, "alice", "a", "b")
    bob, bobOther = enabled(h, "bob", "x", "y")
    h.send(alice, f"<message to='{BOB}/x' type='chat'><body>hey</body></message>")
    assert [bodyOf(m) for m in h.take(bob)] == ["hey"]
    [sent] = h.take(aliceOther)
    [received] = h.take(bobOther)
    assert sent["from"] == ALICE and carbonOf(sent, SENT)["to"] == f"{BOB}/x"
    assert received["from"] == BOB and carbonOf(received, RECEIVED)["from"] == f"{ALICE}/a"
    assert h.take(alice) == []


def test_messageToOwnResourceCopiedOnce():
    """A message between two resources of one user reaches each other resource once."""
    h = harness()
    a, b, c = enabled(h, "alice", "a", "b", "c")
    h.send(a, f"<message to='{ALICE}/b' type='chat'><body>note</body></message>")
    assert [bodyOf(m) for m in h.take(b)] == ["note"]
    [copy] = h.take(c)
    assert carbonOf(copy, RECEIVED)["from"] == f"{ALICE}/a"
    assert h.take(a) == []


# --- which messages (section 6.1, section 9, XEP-0334) ---


def test_notCopiedKinds():
    """Groupchat, headline, error and bodiless normal messages are not copied."""
    h = harness()
    h.login("alice", "a")
    b = enabled(h, "alice", "b")
    for kind, payload in (("groupchat", "<body>room</body>"), ("headline", "<body>news</body>"),
                          ("error", "<body>err</body>"), ("normal", "<subject>s</subject>")):
        fromCarol(h, f"{ALICE}/a", payload, kind)
    assert h.take(b) == []


def test_imPayloadsCopied():
    """Chat states, receipts, markers, bodies in normal messages and invitations are copied."""
    h = harness()
    h.login("alice", "a")
    b = enabled(h, "alice", "b")
    payloads = [
        ("chat", "<composing xmlns='http://jabber.org/protocol/chatstates'/>"),
        ("normal", "<received xmlns='urn:xmpp:receipts' id='m0'/>"),
        ("normal", "<displayed xmlns='urn:xmpp:chat-markers:0' id='m0'/>"),
        ("normal", "<body>text</body>"),
        ("normal", "<x xmlns='jabber:x:conference' jid='room@conference.localhost'/>"),
        ("normal", "<x xmlns='http://jabber.org/protocol/muc#user'>"
                   "<invite from='carol@remote.example'/></x>"),
    ]
    for kind, payload in payloads:
        fromCarol(h, f"{ALICE}/a", payload, kind)
    assert len(h.take(b)) == len(payloads)


def test_privateAndNoCopyNotCopied():
    """<private/> or <no-copy/> keeps a message from being copied; <private/> is delivered."""
    h = harness()
    a = enabled(h, "alice", "a")
    b = enabled(h, "alice", "b")
    fromCarol(h, f"{ALICE}/a", f"<body>secret</body><private xmlns='{NS_CARBONS}'/>")
    fromCarol(h, f"{ALICE}/a", "<body>secret</body><no-copy xmlns='urn:xmpp:hints'/>")
    h.send(a, f"<message to='{CAROL}' type='chat'><body>mine</body>"
              f"<private xmlns='{NS_CARBONS}'/><no-copy xmlns='urn:xmpp:hints'/></message>")
    private, noCopy = h.take(a)
    assert firstChild(private, NS_CARBONS, "private") is not None
    assert firstChild(noCopy, "urn:xmpp:hints", "no-copy") is not None
    assert h.take(b) == []
    [routed] = h.routed()
    assert firstChild(routed, NS_CARBONS, "private") is not None


def test_mucPrivateMessagesCopiedWhenSentOnly():
    """A MUC private message is copied when the user sends it, not when the user receives it."""
    h = harness()
    a = enabled(h, "alice", "a")
    b = enabled(h, "alice", "b")
    x = "<x xmlns='http://jabber.org/protocol/muc#user'/>"
    h.inbound(f"<message from='room@conference.localhost/carol' to='{ALICE}/a' type='chat'>"
              f"<body>psst</body>{x}</message>")
    assert len(h.take(a)) == 1 and h.take(b) == []
    h.send(a, f"<message to='room@conference.localhost/carol' type='chat'>"
              f"<body>back</body>{x}</message>")
    [copy] = h.take(b)
    assert carbonOf(copy, SENT)["to"] == "room@conference.localhost/carol"


def test_eligibleUnknownTypeIsNormal():
    """An unknown type counts as normal: copied with a body, not without."""
    withBody = parse("<message type='weird'><body>x</body></message>")
    without = parse("<message type='weird'><thread>t</thread></message>")
    assert eligible(withBody, SENT) and eligible(withBody, RECEIVED)
    assert not eligible(without, SENT) and not eligible(without, RECEIVED)


# --- forged carbons (section 11) ---


def test_forgedCarbonFromOwnAccountRefused():
    """A carbon one resource sends another is refused with not-acceptable and never delivered."""
    h = harness()
    a = h.login("alice", "a")
    b = enabled(h, "alice", "b")
    forged = (f"<received xmlns='{NS_CARBONS}'><forwarded xmlns='{NS_FORWARD}'>"
              f"<message xmlns='jabber:client' from='{BOB}/x' to='{ALICE}/b' type='chat'>"
              f"<body>trust me</body></message></forwarded></received>")
    for to in (f"{ALICE}/b", ALICE):
        h.send(a, f"<message to='{to}' type='chat'>{forged}</message>")
        [error] = h.take(a)
        assert error["type"] == "error" and errorCondition(error) == "not-acceptable"
        assert firstChild(error, NS_CARBONS) is None
    assert h.take(b) == []


def test_foreignCarbonDeliveredButNeverWrapped():
    """A carbon from another entity reaches its recipient as sent but is never copied."""
    h = harness()
    a = enabled(h, "alice", "a")
    b = enabled(h, "alice", "b")
    fromCarol(h, f"{ALICE}/a", f"<sent xmlns='{NS_CARBONS}'><forwarded xmlns='{NS_FORWARD}'>"
                              f"<message xmlns='jabber:client' from='{ALICE}/b' to='{BOB}'>"
                              f"<body>fake</body></message></forwarded></sent>")
    [delivered] = h.take(a)
    assert delivered["from"] == f"{CAROL}/phone"
    assert h.take(b) == []
    h.send(a, f"<message to='{CAROL}' type='chat'><received xmlns='{NS_CARBONS}'/></message>")
    assert len(h.routed()) == 1 and h.take(b) == []


# --- discovery (section 3) and attachment ---


def test_discoveredOnServerAndAccount():
    """disco#info of the server and of the user's own account lists urn:xmpp:carbons:2."""
    h = harness()
    a = h.login("alice", "a")
    for to in ("localhost", ALICE):
        h.send(a, f"<iq type='get' id='d' to='{to}'><query xmlns='{NS_DISCO_INFO}'/></iq>")
        [result] = h.take(a)
        query = firstChild(result, NS_DISCO_INFO, "query")
        features = [f["var"] for f in query.elements(NS_DISCO_INFO, "feature")]
        assert NS_CARBONS in features


def test_attachedInCopiesStage():
    """The built session manager runs the carbons hooks before message delivery."""
    sm = buildSessionManager(parseConfig(""), MemoryStorage(), router=None)
    carbons, message = sm.handler("carbons"), sm.handler("message")
    owners = [hook.__self__ for hook in sm.hooks("onInbound")]
    assert owners.index(carbons) < owners.index(message)
    outbound = [hook.__self__ for hook in sm.hooks("onOutbound")]
    assert outbound.index(carbons) < outbound.index(sm.handler("presence"))


def test_copiesGoThroughTheSessionsQueue():
    """Copies are delivered like any stanza: CSI holds an inactive resource's chat-state carbon."""
    h = harness()
    h.sm.addHandler(CSIHandler())
    h.login("alice", "a")
    idle = enabled(h, "alice", "idle")
    h.sm.nonza(idle, parse(f"<inactive xmlns='{NS_CSI}'/>"))
    fromCarol(h, f"{ALICE}/a", "<composing xmlns='http://jabber.org/protocol/chatstates'/>")
    assert h.take(idle) == []
    fromCarol(h, f"{ALICE}/a", "<body>now</body>")
    held, urgent = h.take(idle)
    assert firstChild(carbonOf(held, RECEIVED), name="composing") is not None
    assert bodyOf(carbonOf(urgent, RECEIVED)) == "now"
