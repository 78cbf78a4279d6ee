"""
Tests for L{jabberd.sm.push}: Push Notifications (XEP-0357) on a session
manager with the message, presence, roster and disco handlers, an offline
store stand-in that takes every undeliverable message, and a clock.
"""

import pytest
from twisted.internet.task import Clock
from twisted.words.protocols.jabber.jid import JID

from jabberd.ns import (NS_DATA, NS_DISCO_INFO, NS_PUBSUB, NS_PUBSUB_PUBLISH_OPTIONS, NS_PUSH,
                        NS_PUSH_SUMMARY)
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.push import PushHandler
from jabberd.sm.session import Session
from jabberd.stanza import firstChild
from jabberd.storage.records import PushRegistration
from tests.sm.helpers import (ALICE, DOMAIN, FakeStream, Harness, TakeUndeliverable,
                              assertNoFailures,
                              errorCondition, result)

APP = "push.example"


class DetachableSession(Session):
    """A session as stream management (XEP-0198) leaves it: C{detached} may be set."""

    __slots__ = ("detached",)

    def __init__(self, stream, jid):
        Session.__init__(self, stream, jid)
        self.detached = False


def harness(**kwargs):
    h = Harness()
    h.clock = Clock()
    h.push = h.sm.addHandler(PushHandler(clock=h.clock, **kwargs))
    h.sm.addHandler(DiscoHandler())
    h.stored = []
    h.sm.addHandler(TakeUndeliverable(lambda stanza: h.stored.append(stanza) or True))
    return h


def pushRequest(h, session, payload, to=None):
    """C{session} sends an iq set with C{payload}: its answer."""
    address = f" to='{to}'" if to else ""
    h.send(session, f"<iq type='set' id='p'{address}>{payload}</iq>")
    [answer] = h.take(session)
    assert answer["id"] == "p"
    return answer


def enable(h, session, node="n1", forms="", jid=APP):
    return pushRequest(h, session,
                       f"<enable xmlns='{NS_PUSH}' jid='{jid}' node='{node}'>{forms}</enable>")


def enabled(h, *nodes, forms=""):
    """alice enables C{nodes} from a session that then goes away."""
    alice = h.login("alice", "phone")
    for node in nodes:
        assert enable(h, alice, node, forms)["type"] == "result"
    h.sm.unbindSession(alice)
    h.clear()


def chat(h, body="hello", to=ALICE, sender="bob@localhost/desk", kind="chat", extra=""):
    bodyXml = f"<body>{body}</body>" if body is not None else ""
    h.inbound(f"<message from='{sender}' to='{to}' type='{kind}'>{bodyXml}{extra}</message>")


def publishes(h):
    """The publishes routed to app servers since the last call."""
    return [iq for iq in h.routed() if firstChild(iq, NS_PUBSUB, "pubsub") is not None]


def summaryOf(iq):
    publish = firstChild(firstChild(iq, NS_PUBSUB, "pubsub"), NS_PUBSUB, "publish")
    notification = firstChild(firstChild(publish, NS_PUBSUB, "item"), NS_PUSH, "notification")
    form = firstChild(notification, NS_DATA, "x")
    fields = {f["var"]: str(firstChild(f, name="value")) for f in form.elements(NS_DATA, "field")}
    assert fields.pop("FORM_TYPE") == NS_PUSH_SUMMARY
    return publish["node"], fields


def answer(h, iq, kind="result", sender=None):
    error = ("<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
             "</error>") if kind == "error" else ""
    h.inbound(f"<iq type='{kind}' id='{iq['id']}' from='{sender or iq['to']}' "
              f"to='{iq['from']}'>{error}</iq>")


def stored(h, user="alice"):
    return result(h.storage.push.registrations(user))


# --- enabling and disabling (sections 5, 6) ---


def test_enableStoresRegistration():
    """An enable to one's own account is answered with a result and stored with its options."""
    h = harness()
    alice = h.login("alice", "phone")
    options = (f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'>"
               f"<value>{NS_PUBSUB_PUBLISH_OPTIONS}</value></field>"
               "<field var='secret'><value>s3</value></field></x>")
    reply = enable(h, alice, forms=options)
    assert reply["type"] == "result"
    [registration] = stored(h)
    assert (registration.jid, registration.node, registration.includeBody) == (APP, "n1", False)
    assert "s3" in registration.options
    assert pushRequest(h, alice, f"<enable xmlns='{NS_PUSH}' jid='{APP}' node='n1'/>",
                       to=ALICE)["type"] == "result"
    assert stored(h) == [PushRegistration(APP, "n1")]


def test_enableErrors():
    """Missing jid or node is bad-request, a bad JID jid-malformed, an unknown form bad-request."""
    h = harness()
    alice = h.login("alice", "phone")
    cases = [
        (f"<enable xmlns='{NS_PUSH}' node='n'/>", "bad-request"),
        (f"<enable xmlns='{NS_PUSH}' jid='{APP}'/>", "bad-request"),
        (f"<enable xmlns='{NS_PUSH}' jid='a@@b' node='n'/>", "jid-malformed"),
        (f"<enable xmlns='{NS_PUSH}' jid='{APP}' node='n'><x xmlns='{NS_DATA}'><field "
         "var='FORM_TYPE'><value>urn:example</value></field></x></enable>", "bad-request"),
        (f"<disable xmlns='{NS_PUSH}'/>", "bad-request"),
        (f"<other xmlns='{NS_PUSH}' jid='{APP}'/>", "bad-request"),
    ]
    for payload, condition in cases:
        reply = pushRequest(h, alice, payload)
        assert (reply["type"], errorCondition(reply)) == ("error", condition), payload
    assert stored(h) == []


def test_othersAccountForbidden():
    """Enabling push for another account, or the server, is forbidden."""
    h = harness()
    bob = h.login("bob", "desk")
    for to in (ALICE, DOMAIN):
        reply = pushRequest(h, bob, f"<enable xmlns='{NS_PUSH}' jid='{APP}' node='n'/>", to=to)
        assert errorCondition(reply) == "forbidden"
    assert stored(h) == [] and stored(h, "bob") == []


def test_boundPerAccount():
    """Past max_registrations a new service is policy-violation; a known one is replaced."""
    h = harness(maxRegistrations=2)
    alice = h.login("alice", "phone")
    assert enable(h, alice, "a")["type"] == enable(h, alice, "b")["type"] == "result"
    assert errorCondition(enable(h, alice, "c")) == "policy-violation"
    assert enable(h, alice, "b")["type"] == "result"
    assert [r.node for r in stored(h)] == ["a", "b"]


def test_disableNodeAndService():
    """Disable with a node removes that one; without, every node of the service."""
    h = harness()
    alice = h.login("alice", "phone")
    for node in ("a", "b", "c"):
        enable(h, alice, node)
    enable(h, alice, "z", jid="other.example")
    assert pushRequest(h, alice, f"<disable xmlns='{NS_PUSH}' jid='{APP}' node='a'/>")[
        "type"] == "result"
    assert [(r.jid, r.node) for r in stored(h)] == [("other.example", "z"), (APP, "b"),
                                                    (APP, "c")]
    pushRequest(h, alice, f"<disable xmlns='{NS_PUSH}' jid='{APP}'/>")
    assert [(r.jid, r.node) for r in stored(h)] == [("other.example", "z")]


def test_discoAdvertisedOnAccount():
    """disco#info of the account lists urn:xmpp:push:0; the server's does not."""
    h = harness()
    alice = h.login("alice", "phone")
    for to, expected in ((ALICE, True), (DOMAIN, False)):
        h.send(alice, f"<iq type='get' id='d' to='{to}'><query xmlns='{NS_DISCO_INFO}'/></iq>")
        [reply] = h.take(alice)
        features = {f["var"] for f in firstChild(reply).elements(NS_DISCO_INFO, "feature")}
        assert (NS_PUSH in features) is expected


# --- notifications (section 7) ---


def test_offlineMessageNotifiedAndStillStored():
    """A chat for alice, offline, is published with count and sender, no body, and still stored."""
    h = harness()
    enabled(h, "n1")
    chat(h, "secret words")
    [iq] = publishes(h)
    assert (iq["to"], iq["from"]) == (APP, ALICE)
    node, fields = summaryOf(iq)
    assert node == "n1"
    assert fields == {"message-count": "1", "last-message-sender": "bob@localhost/desk"}
    assert "secret words" not in iq.toXml()
    assert [str(firstChild(m, name="body")) for m in h.stored] == ["secret words"]


def test_publishOptionsPassedThrough():
    """The publish-options given at enable come with every publish."""
    h = harness()
    enabled(h, "n1", forms=(f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'>"
                            f"<value>{NS_PUBSUB_PUBLISH_OPTIONS}</value></field>"
                            "<field var='secret'><value>s3</value></field></x>"))
    chat(h)
    [iq] = publishes(h)
    options = firstChild(firstChild(iq, NS_PUBSUB, "pubsub"), NS_PUBSUB, "publish-options")
    assert "s3" in firstChild(options, NS_DATA, "x").toXml()


SUMMARY_BODY = (f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'>"
                f"<value>{NS_PUSH_SUMMARY}</value></field>"
                "<field var='last-message-body'><value>1</value></field></x>")


def test_bodyWhenAsked():
    """A registration that asked for the body gets it; one that did not, does not."""
    h = harness()
    enabled(h, "plain")
    enabled(h, "body", forms=SUMMARY_BODY)
    chat(h, "wherefore")
    found = dict(summaryOf(iq) for iq in publishes(h))
    assert found["body"]["last-message-body"] == "wherefore"
    assert "last-message-body" not in found["plain"]


def test_bodyNeverWhenConfigured():
    """With include_body = never, asking for the body is accepted but no body is sent."""
    h = harness(includeBody="never")
    enabled(h, "body", forms=SUMMARY_BODY)
    assert stored(h)[0].includeBody is False
    chat(h, "wherefore")
    [iq] = publishes(h)
    assert "last-message-body" not in summaryOf(iq)[1]


def test_notNotifiable():
    """Headlines, bodyless messages (chat states) and errors are not notified."""
    h = harness()
    enabled(h, "n1")
    chat(h, kind="headline")
    chat(h, body=None, extra="<active xmlns='http://jabber.org/protocol/chatstates'/>")
    chat(h, body="  ")
    chat(h, kind="error")
    assert publishes(h) == []


def test_coalescedWhileInFlight():
    """Messages while a publish is unanswered make one more publish, with the total count."""
    h = harness()
    enabled(h, "n1")
    chat(h, "one")
    [first] = publishes(h)
    chat(h, "two", sender="carol@localhost/x")
    chat(h, "three", sender="dave@localhost/y")
    assert publishes(h) == []
    answer(h, first)
    [second] = publishes(h)
    assert summaryOf(second)[1] == {"message-count": "3",
                                    "last-message-sender": "dave@localhost/y"}
    answer(h, second)
    assert publishes(h) == []
    chat(h, "four")
    [third] = publishes(h)
    assert summaryOf(third)[1]["message-count"] == "4"


def test_countResetsWhenBack():
    """Initial presence brings the user back: the next absence counts from one."""
    h = harness()
    enabled(h, "n1")
    chat(h)
    answer(h, publishes(h)[0])
    chat(h)
    answer(h, publishes(h)[0])
    alice = h.login("alice", "laptop")
    h.sm.unbindSession(alice)
    h.clear()
    chat(h)
    assert summaryOf(publishes(h)[0])[1]["message-count"] == "1"


def test_noNotificationWhileOnline():
    """A message delivered to an available session is not notified."""
    h = harness()
    alice = h.login("alice", "phone")
    enable(h, alice)
    chat(h, "hello")
    assert publishes(h) == []
    assert [m.name for m in h.take(alice)] == ["message"]


def test_errorDisablesRegistration():
    """An error answer disables that registration only; the other goes on."""
    h = harness()
    enabled(h, "bad", "good")
    chat(h)
    sent = {summaryOf(iq)[0]: iq for iq in publishes(h)}
    answer(h, sent["bad"], "error")
    answer(h, sent["good"])
    assert [r.node for r in stored(h)] == ["good"]
    chat(h)
    assert [summaryOf(iq)[0] for iq in publishes(h)] == ["good"]


def test_timeoutDisablesRegistration():
    """No answer within the timeout disables the registration; no more publishes go there."""
    h = harness(timeout=30)
    enabled(h, "n1")
    chat(h)
    assert len(publishes(h)) == 1
    h.clock.advance(29)
    assert stored(h) != []
    h.clock.advance(2)
    assert stored(h) == []
    chat(h)
    assert publishes(h) == []


def test_answerFromElsewhereIgnored():
    """A result with the publish's id from another domain does not count as the answer."""
    h = harness()
    enabled(h, "n1")
    chat(h)
    [iq] = publishes(h)
    answer(h, iq, sender="evil.example")
    chat(h)
    assert publishes(h) == []
    assert len(h.push.requests) == 1


def test_disabledServiceNotNotified():
    """After disable nothing is published to that service (section 6)."""
    h = harness()
    alice = h.login("alice", "phone")
    enable(h, alice)
    pushRequest(h, alice, f"<disable xmlns='{NS_PUSH}' jid='{APP}' node='n1'/>")
    h.sm.unbindSession(alice)
    h.clear()
    chat(h)
    assert publishes(h) == []


def test_usersWithoutRegistrationsCostOneRead():
    """Who has registrations is read once; messages for others read nothing more."""
    h = harness()
    reads = []
    users = h.storage.push.users
    h.storage.push.users = lambda: reads.append(1) or users()
    registrations = h.storage.push.registrations
    h.storage.push.registrations = lambda u: reads.append(u) or registrations(u)
    for _ in range(3):
        chat(h, to="bob@localhost")
    assert reads == [1]
    assert publishes(h) == []


def test_userDeletedForgotten():
    """A deleted account's pending state and registrations are gone."""
    h = harness()
    enabled(h, "n1")
    chat(h)
    answer(h, publishes(h)[0])
    result(h.storage.deleteUser("alice"))
    h.sm.userDeleted("alice")
    assert h.push._missed == {} and "alice" not in h.push._users


# --- detached sessions (XEP-0198) ---


def detachedLogin(h):
    session = DetachableSession(FakeStream(), JID(f"{ALICE}/phone"))
    h.sm.bindSession(session)
    h.send(session, "<presence/>")
    h.clear()
    enable(h, session)
    h.clear()
    session.detached = True
    return session


def test_detachedSessionNotified():
    """A message delivered to a detached session is notified and still handed on."""
    h = harness()
    session = detachedLogin(h)
    chat(h, "queued")
    [iq] = publishes(h)
    assert summaryOf(iq)[1]["message-count"] == "1"
    assert [m.name for m in h.take(session)] == ["message"]


def test_detachedWithAttachedSessionNotNotified():
    """With another session attached and available, nothing is published."""
    h = harness()
    detachedLogin(h)
    h.login("alice", "laptop")
    chat(h, "hi")
    assert publishes(h) == []


def test_resumedResetsCount():
    """A resumed session brings the user back (sessionResumed)."""
    h = harness()
    session = detachedLogin(h)
    chat(h)
    answer(h, publishes(h)[0])
    session.detached = False
    h.push.sessionResumed(session)
    session.detached = True
    chat(h)
    assert summaryOf(publishes(h)[0])[1]["message-count"] == "1"


def test_failureToNotifyKeepsTheMessage():
    """A notification that fails is logged; the message is still stored."""
    h = harness()
    enabled(h, "n1")

    def broken(bare, message):
        raise RuntimeError("broken app server link")
    h.push.missed = broken
    chat(h, "kept")
    assert [str(firstChild(m, name="body")) for m in h.stored] == ["kept"]
    with pytest.raises(RuntimeError):
        assertNoFailures()
