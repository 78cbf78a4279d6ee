"""
Tests for L{jabberd.sm.message}: delivery of messages and iqs to local
users (RFC 6121 section 8.5).
"""

from twisted.internet import defer

from jabberd.sm.message import recipients
from jabberd.storage.memory import MemoryAccountStore
from tests.sm.helpers import (ALICE, BOB, CAROL, Harness, SlowStorage, TakeUndeliverable,
                              errorCondition, parse)


def _messages(elements, kind=None):
    return [e for e in elements if e.name == "message"
            and (kind is None or e.getAttribute("type") == kind)]


def _chat(h, to, kind="chat", sender=f"{CAROL}/phone"):
    h.inbound(f"<message from='{sender}' to='{to}' type='{kind}'><body>hi</body></message>")


def _bounced(h, condition="service-unavailable"):
    [error] = h.routed()
    assert error.name == "message" and error["type"] == "error"
    assert error["to"] == f"{CAROL}/phone"
    assert errorCondition(error) == condition
    return error


# --- to a bare JID (8.5.2) ---


def test_chatToBareJIDReachesAllHighestPriority():
    """Chat to a bare JID goes to every resource of the highest priority, not to lower ones."""
    h = Harness()
    a = h.login("alice", "a", priority=5)
    b = h.login("alice", "b", priority=5)
    low = h.login("alice", "low", priority=1)
    _chat(h, ALICE)
    assert len(_messages(h.take(a))) == len(_messages(h.take(b))) == 1
    assert h.take(low) == []


def test_normalToBareJIDReachesHighestPriority():
    """A normal message (no type) goes to the highest-priority resource."""
    h = Harness()
    high = h.login("alice", "high", priority=2)
    low = h.login("alice", "low", priority=1)
    h.inbound(f"<message from='{CAROL}/phone' to='{ALICE}'><body>x</body></message>")
    assert len(h.take(high)) == 1 and h.take(low) == []


def test_negativePriorityExcluded():
    """A resource with negative priority never gets bare-JID messages."""
    h = Harness()
    shy = h.login("alice", "shy", priority=-1)
    ok = h.login("alice", "ok", priority=0)
    _chat(h, ALICE)
    assert h.take(shy) == [] and len(h.take(ok)) == 1


def test_onlyNegativePriorityIsOffline():
    """If every available resource has negative priority the user counts as offline."""
    h = Harness()
    shy = h.login("alice", "shy", priority=-5)
    _chat(h, ALICE)
    assert h.take(shy) == []
    _bounced(h)


def test_headlineToAllNonNegative():
    """A headline goes to every available resource of non-negative priority."""
    h = Harness()
    a = h.login("alice", "a", priority=5)
    b = h.login("alice", "b", priority=0)
    shy = h.login("alice", "shy", priority=-1)
    _chat(h, ALICE, "headline")
    assert len(h.take(a)) == len(h.take(b)) == 1
    assert h.take(shy) == []


def test_headlineToOfflineUserDropped():
    """A headline for a user with no available resource is silently dropped."""
    h = Harness()
    _chat(h, ALICE, "headline")
    assert h.routed() == []


def test_groupchatToBareJIDIsServiceUnavailable():
    """Groupchat to a bare JID bounces with service-unavailable, even if the user is online."""
    h = Harness()
    alice = h.login("alice", "a")
    _chat(h, ALICE, "groupchat")
    assert h.take(alice) == []
    _bounced(h)


def test_errorToBareJIDDropped():
    """A message error to a bare JID is dropped."""
    h = Harness()
    alice = h.login("alice", "a")
    _chat(h, ALICE, "error")
    assert h.take(alice) == [] and h.routed() == []


def test_connectedButUnavailableNotDelivered():
    """Bare-JID messages skip resources that have not sent initial presence."""
    h = Harness()
    idle = h.login("alice", "idle", available=False)
    _chat(h, ALICE)
    assert h.take(idle) == []
    _bounced(h)


def test_unknownUserIsServiceUnavailable():
    """A message to an account that does not exist bounces with service-unavailable (8.5.1)."""
    h = Harness()
    _chat(h, "nobody@localhost")
    error = _bounced(h)
    assert error["from"] == "nobody@localhost"


def test_offlineUserIsServiceUnavailable():
    """Without an offline store, chat for an existing user with no resource bounces (8.5.2.2)."""
    h = Harness()
    _chat(h, BOB)
    _bounced(h)


def test_offlineHookTakesMessage():
    """A configured offline store takes messages for an offline user instead of a bounce."""
    h = Harness()
    stored = []
    h.sm.addHandler(TakeUndeliverable(lambda stanza: stored.append(stanza) or True))
    _chat(h, BOB)
    assert h.routed() == []
    assert [m["to"] for m in stored] == [BOB]


def test_offlineHookMayAnswerLater():
    """The offline store may answer with a Deferred; a False answer bounces."""
    h = Harness()
    answer = defer.Deferred()
    h.sm.addHandler(TakeUndeliverable(lambda stanza: answer))
    _chat(h, BOB, "normal")
    assert h.routed() == []
    answer.callback(False)
    _bounced(h)


def test_bounceLeavesThePayloadOut():
    """A message the offline store refuses bounces with its id and addresses but without its body."""
    h = Harness()
    h.sm.addHandler(TakeUndeliverable(lambda stanza: False))
    h.inbound(f"<message from='{CAROL}/phone' to='{BOB}' type='chat' id='m1'>"
              f"<body>{'x' * 50000}</body></message>")
    error = _bounced(h)
    assert error["id"] == "m1" and error["from"] == BOB
    assert [c.name for c in error.elements()] == ["error"]


def test_messagesWaitingForAnOfflineAccountAreBounded():
    """Past [server] offline_backlog bytes waiting for a slow store, messages bounce resource-constraint; the rest are stored in order."""
    h = Harness()
    h.messages.offlineBacklog = 1000
    answers, offered = [], []

    def take(stanza):
        offered.append(str(stanza.body))
        answers.append(defer.Deferred())
        return answers[-1]
    h.sm.addHandler(TakeUndeliverable(take))
    for n in range(10):
        h.inbound(f"<message from='{CAROL}/phone' to='{BOB}' type='chat'>"
                  f"<body>{n} {'x' * 200}</body></message>")
    refused = h.routed()
    assert refused and all(errorCondition(e) == "resource-constraint" for e in refused)
    assert len(refused) < 9
    while len(answers) > len([a for a in answers if a.called]):
        next(a for a in answers if not a.called).callback(True)
    assert [text.split()[0] for text in offered] == [str(n) for n in range(10 - len(refused))]
    assert h.messages._backlog == {}


def test_offlineHookNotOfferedUnknownUsers():
    """The offline store is only offered messages for accounts that exist."""
    h = Harness()
    offered = []
    h.sm.addHandler(TakeUndeliverable(lambda stanza: offered.append(stanza) or True))
    _chat(h, "nobody@localhost")
    assert offered == []
    _bounced(h)


def test_noStorageLookupWhenRecipientOnline():
    """Delivering to an online user never asks the store whether the account exists."""
    h = Harness()
    alice = h.login("alice", "a")
    calls = []
    original = h.storage.accounts.exists
    h.storage.accounts.exists = lambda username: calls.append(username) or original(username)
    _chat(h, ALICE)
    _chat(h, f"{ALICE}/a")
    assert len(h.take(alice)) == 2 and calls == []


def test_unpreparedAddressDelivered():
    """An address differing only by case (not yet prepared) still reaches the user."""
    h = Harness()
    alice = h.login("alice", "Home")
    _chat(h, "Alice@LOCALHOST")
    _chat(h, "ALICE@localhost/Home")
    assert len(h.take(alice)) == 2


# --- to a full JID (8.5.3) ---


def test_fullJIDReachesConnectedResource():
    """A message to a full JID goes to that resource, even before its initial presence."""
    h = Harness()
    other = h.login("alice", "other", priority=10)
    idle = h.login("alice", "idle", available=False)
    _chat(h, f"{ALICE}/idle")
    assert len(h.take(idle)) == 1 and h.take(other) == []


def test_fullJIDNegativePriorityStillDelivered():
    """Negative priority does not stop messages addressed to the resource itself."""
    h = Harness()
    shy = h.login("alice", "shy", priority=-1)
    _chat(h, f"{ALICE}/shy")
    assert len(h.take(shy)) == 1


def test_missingResourceChatFallsBackToBareJID():
    """Chat to a resource that is gone is handled as if sent to the bare JID (8.5.3.2.1)."""
    h = Harness()
    alice = h.login("alice", "a")
    _chat(h, f"{ALICE}/gone")
    [message] = _messages(h.take(alice))
    assert message["to"] == f"{ALICE}/gone"


def test_missingResourceGroupchatIsServiceUnavailable():
    """Groupchat to a resource that is gone bounces with service-unavailable."""
    h = Harness()
    h.login("alice", "a")
    _chat(h, f"{ALICE}/gone", "groupchat")
    _bounced(h)


def test_missingResourceHeadlineAndErrorDropped():
    """Headline and error messages to a resource that is gone are dropped."""
    h = Harness()
    alice = h.login("alice", "a")
    _chat(h, f"{ALICE}/gone", "headline")
    _chat(h, f"{ALICE}/gone", "error")
    assert h.take(alice) == [] and h.routed() == []


def test_missingResourceOfOfflineUserBounces():
    """Chat to a full JID of a user with no session bounces (no offline store)."""
    h = Harness()
    _chat(h, f"{BOB}/gone")
    _bounced(h)


# --- local traffic ---


def test_localChatBetweenUsers():
    """A chat between two local users arrives with the sender's full JID stamped."""
    h = Harness()
    alice = h.login("alice", "home")
    bob = h.login("bob", "res")
    h.send(alice, f"<message to='{BOB}' type='chat' from='{CAROL}'><body>hi</body></message>")
    [message] = _messages(h.take(bob), "chat")
    assert message["from"] == alice.full
    assert h.take(alice) == []


def test_outboundMessageToRemoteRouted():
    """A client's message to a remote user is routed on unchanged but for the stamped from."""
    h = Harness()
    alice = h.login("alice", "home")
    h.send(alice, f"<message to='{CAROL}' type='chat' id='m1'><body>hi</body></message>")
    [message] = h.routed()
    assert (message["from"], message["to"], message["id"]) == (alice.full, CAROL, "m1")


def test_messageToServerNotConsumed():
    """A message to the server itself is left to the manager's default (service-unavailable)."""
    h = Harness()
    h.inbound(f"<message from='{CAROL}/phone' to='localhost'><body>x</body></message>")
    error = _bounced(h)
    assert error["from"] == "localhost"


# --- iq (8.5.3) ---


def test_iqToFullJIDDelivered():
    """An iq to a connected full JID is delivered to that session unchanged."""
    h = Harness()
    alice = h.login("alice", "home")
    h.inbound(f"<iq type='get' id='v1' from='{CAROL}/phone' to='{alice.full}'>"
              "<query xmlns='jabber:iq:version'/></iq>")
    [iq] = h.take(alice)
    assert iq.name == "iq" and iq["id"] == "v1" and iq["from"] == f"{CAROL}/phone"


def test_iqToMissingResourceIsServiceUnavailable():
    """An iq get to a resource that is not connected bounces with service-unavailable."""
    h = Harness()
    h.login("alice", "home")
    h.inbound(f"<iq type='get' id='v1' from='{CAROL}/phone' to='{ALICE}/gone'>"
              "<query xmlns='jabber:iq:version'/></iq>")
    [error] = h.routed()
    assert error["type"] == "error" and error["id"] == "v1"
    assert errorCondition(error) == "service-unavailable"


def test_iqResultToMissingResourceDropped():
    """An iq result to a resource that is gone is dropped, never answered."""
    h = Harness()
    h.inbound(f"<iq type='result' id='v1' from='{CAROL}/phone' to='{ALICE}/gone'/>")
    assert h.routed() == []


def test_iqToBareJIDLeftToHandlers():
    """An iq to a bare JID is not delivered to clients but answered by the iq handlers."""
    h = Harness()
    alice = h.login("alice", "home")
    h.inbound(f"<iq type='get' id='v1' from='{CAROL}/phone' to='{ALICE}'>"
              "<query xmlns='urn:example:unknown'/></iq>")
    assert h.take(alice) == []
    [error] = h.routed()
    assert errorCondition(error) == "service-unavailable"


def test_iqBetweenLocalResources():
    """One local client's iq to another's full JID arrives with the sender stamped."""
    h = Harness()
    alice = h.login("alice", "home")
    bob = h.login("bob", "res")
    h.send(alice, f"<iq type='get' id='p1' to='{bob.full}'><ping xmlns='urn:xmpp:ping'/></iq>")
    [iq] = h.take(bob)
    assert iq["from"] == alice.full


class SlowAccountStore(MemoryAccountStore):
    """An account store whose exists look-ups wait in C{later}'s queue."""

    def __init__(self, later):
        MemoryAccountStore.__init__(self)
        self._later = later

    def exists(self, username):
        return self._later(MemoryAccountStore.exists(self, username))


class ReversingStorage(SlowStorage):
    """Answers account look-ups last-asked-first, as a busy thread pool may."""

    def __init__(self):
        SlowStorage.__init__(self)
        self.accounts = SlowAccountStore(self._later)

    def flush(self):
        while self.queue:
            later, value = self.queue.pop()
            later.callback(value)


def test_offlineMessagesStoredInOrder():
    """Messages to an offline user reach the offline store in the order sent, whatever order storage answers in."""
    h = Harness(storage=ReversingStorage())
    stored = []
    h.sm.addHandler(TakeUndeliverable(lambda m: stored.append(str(m.body)) or True))
    for n in range(3):
        h.inbound(f"<message from='carol@remote.example/x' to='bob@localhost' type='chat'>"
                  f"<body>m{n}</body></message>")
    h.sm.storage.flush()
    h.sm.storage.flush()
    h.sm.storage.flush()
    assert stored == ["m0", "m1", "m2"]


# --- recipients(): the same choice, without delivering ---


def test_recipientsAreWhoGetsTheMessage():
    """recipients() names exactly the sessions a message is then delivered to."""
    h = Harness()
    high = h.login("alice", "high", priority=2)
    h.login("alice", "low", priority=1)
    h.login("alice", "shy", priority=-1)
    hidden = h.login("alice", "hidden", available=False)
    cases = [(ALICE, "chat"), (ALICE, "headline"), (ALICE, "groupchat"), (ALICE, "error"),
             (f"{ALICE}/hidden", "chat"), (f"{ALICE}/gone", "chat"), (f"{ALICE}/gone", "headline"),
             (f"{ALICE}/high", "groupchat"), ("Alice@LOCALHOST/high", "chat"), (BOB, "chat")]
    for to, kind in cases:
        stanza = parse(f"<message from='{CAROL}/phone' to='{to}' type='{kind}'>"
                       f"<body>x</body></message>", "jabber:server")
        chosen = recipients(h.sm, stanza)
        h.sm.receive(stanza)
        got = [s for s in h.sm.sessionsOf(ALICE) if _messages(h.take(s))]
        assert sorted(chosen, key=id) == sorted(got, key=id), (to, kind)
        h.routed()
    assert recipients(h.sm, parse(f"<message to='{ALICE}/hidden'/>")) == [hidden]
    assert recipients(h.sm, parse(f"<message to='{ALICE}'><body>x</body></message>")) == [high]
