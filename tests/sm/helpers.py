"""
Shared fixtures for session manager tests: a L{SessionManager} on
C{localhost} with L{MemoryStorage}, a stub router and fake client streams.

No sockets and no reactor: MemoryStorage answers with fired Deferreds, so a
stanza handed to the manager has been fully processed when the call returns.
"""

from twisted.internet import defer
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.words.xish import domish
from twisted.words.protocols.jabber.jid import JID

from jabberd.handler import Handler
from jabberd.jidutil import domainOf
from jabberd.ns import NS_ROSTER, NS_XMPP_STANZAS
from jabberd.sm.manager import SessionManager
from jabberd.sm.message import MessageHandler
from jabberd.sm.presence import PresenceHandler
from jabberd.sm.roster import RosterHandler
from jabberd.sm.session import Session
from jabberd.stanza import parseElement
from jabberd.storage import RosterItem
from jabberd.storage.memory import MemoryRosterStore, MemoryStorage

DOMAIN = "localhost"
ALICE = "alice@localhost"
BOB = "bob@localhost"
CAROL = "carol@remote.example"


_failures = []


def _watchFailures(event):
    if "log_failure" in event:
        _failures.append(event["log_failure"])


globalLogPublisher.addObserver(_watchFailures)


def assertNoFailures():
    """Fail if a handler logged a failure since this test began or its last L{Harness} was made."""
    if _failures:
        failure = _failures[0]
        _failures.clear()
        failure.raiseException()


def parse(xml, namespace="jabber:client"):
    """Parse one element of literal XML, in C{namespace} unless it says otherwise."""
    elements = []
    stream = domish.ExpatElementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = elements.append
    stream.DocumentEndEvent = lambda: None
    stream.parse(f"<wrapper xmlns='{namespace}'>".encode())
    stream.parse(xml.encode())
    assert len(elements) == 1, xml
    return elements[0]


def result(d):
    """The result of an already fired Deferred (re-raising a failure)."""
    out = []
    d.addBoth(out.append)
    assert out, "Deferred has not fired"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    return out[0]


class FakeStream:
    """A client stream: C{send} appends to L{sent}."""

    def __init__(self):
        self.sent = []
        self.closed = None

    def send(self, element):
        self.sent.append(element)

    def closeWithError(self, condition, text=None):
        self.closed = (condition, text)


class SlowRosterStore(MemoryRosterStore):
    """A roster store whose item and pending reads wait in C{later}'s queue."""

    def __init__(self, later):
        MemoryRosterStore.__init__(self)
        self._later = later

    def item(self, username, jid):
        return self._later(MemoryRosterStore.item(self, username, jid))

    def pending(self, username):
        return self._later(MemoryRosterStore.pending(self, username))


class SlowStorage(MemoryStorage):
    """
    A store whose roster item and pending reads answer only on L{flush},
    like a store working in a thread pool: lets tests interleave stanzas.
    """

    def __init__(self):
        MemoryStorage.__init__(self)
        self.queue = []
        self.roster = SlowRosterStore(self._later)

    def _later(self, d):
        later = defer.Deferred()
        self.queue.append((later, result(d)))
        return later

    def flush(self):
        """Answer every read, including those made while answering."""
        while self.queue:
            later, value = self.queue.pop(0)
            later.callback(value)


class StubRouter:
    """
    The session manager's output: stanzas to a local domain come straight
    back into C{sm.receive} (as the real router does), the rest are kept in
    L{routed}.
    """

    def __init__(self, sm):
        self.sm = sm
        self.routed = []

    def __call__(self, stanza):
        to = stanza.getAttribute("to")
        if to and self.sm.isLocal(domainOf(to)):
            self.sm.receive(stanza)
        else:
            self.routed.append(stanza)


class TakeUndeliverable(Handler):
    """An C{onUndeliverable} hook answering with what C{take(stanza)} returns."""

    def __init__(self, take):
        self.take = take

    def onUndeliverable(self, stanza):
        return self.take(stanza)


class Harness:
    """
    A session manager with the message, presence and roster handlers (in
    the order of L{jabberd.sm.modules}) and the accounts C{users}.
    """

    def __init__(self, users=("alice", "bob"), storage=None):
        _failures.clear()
        self.storage = storage if storage is not None else MemoryStorage()
        for user in users:
            self.storage.accounts.create(user, {"password": "secret"})
        self.sm = SessionManager([DOMAIN], self.storage)
        self.messages = self.sm.addHandler(MessageHandler())
        self.presence = self.sm.addHandler(PresenceHandler())
        self.roster = self.sm.addHandler(RosterHandler())
        self.router = StubRouter(self.sm)
        self.sm.output = self.router

    # sessions

    def bind(self, user, resource="res"):
        """Bind a session for C{user}@localhost/C{resource}."""
        session = Session(FakeStream(), JID(f"{user}@{DOMAIN}/{resource}"))
        self.sm.bindSession(session)
        return session

    def login(self, user, resource="res", priority=None, roster=True, available=True):
        """Bind, get the roster, send initial presence; forget what that produced."""
        session = self.bind(user, resource)
        if roster:
            self.send(session, "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
        if available:
            prio = f"<priority>{priority}</priority>" if priority is not None else ""
            self.send(session, f"<presence>{prio}</presence>")
        self.clear()
        return session

    def clear(self):
        """Forget everything delivered and routed so far."""
        for resources in self.sm.sessions.values():
            for session in resources.values():
                if not session.remote:  # a cluster node's remote sessions have no stream here
                    session.stream.sent.clear()
        self.router.routed.clear()

    # traffic

    def send(self, session, xml):
        """C{session}'s client sends C{xml} (in the jabber:client namespace)."""
        self.sm.outbound(session, parse(xml))

    def inbound(self, xml):
        """A stanza arrives from the router (e.g. from a remote server)."""
        self.sm.receive(parse(xml, "jabber:server"))

    def iq(self, session, xml, id="p1"):
        """C{session} sends the iq C{xml}; its one answer, taken from what it received."""
        self.send(session, xml.replace("<iq ", f"<iq id='{id}' ", 1))
        replies = [e for e in session.stream.sent
                   if e.name == "iq" and e.getAttribute("id") == id]
        assert len(replies) == 1, [e.toXml() for e in session.stream.sent]
        session.stream.sent.remove(replies[0])
        return replies[0]

    def take(self, session):
        """What C{session}'s client received since the last take."""
        assertNoFailures()
        sent = [_asReceived(e) for e in session.stream.sent]
        session.stream.sent.clear()
        return sent

    def routed(self):
        """What went to remote domains since the last call."""
        assertNoFailures()
        routed = list(self.router.routed)
        self.router.routed.clear()
        return routed

    # storage

    def setItem(self, user, jid, subscription="none", ask="", approved=False,
                name="", groups=()):
        item = RosterItem(jid, name, subscription, ask, approved, list(groups))
        return result(self.storage.roster.set(user, item))

    def item(self, user, jid):
        assertNoFailures()
        return result(MemoryRosterStore.item(self.storage.roster, user, jid))

    def pending(self, user):
        return dict(result(MemoryRosterStore.pending(self.storage.roster, user)))


# picking stanzas out of what was received


def presences(elements, presenceType=None, sender=None, to=None):
    """The presence stanzas of C{elements} matching type, from and to."""
    return [e for e in elements if e.name == "presence"
            and e.getAttribute("type") == presenceType
            and (sender is None or e.getAttribute("from") == sender)
            and (to is None or e.getAttribute("to") == to)]


def pushes(elements):
    """The roster pushes among C{elements}, as (ver, item element) pairs."""
    found = []
    for e in elements:
        if e.name == "iq" and e.getAttribute("type") == "set":
            for query in e.elements(NS_ROSTER, "query"):
                for item in query.elements(NS_ROSTER, "item"):
                    found.append((query.getAttribute("ver"), item))
    return found


def errorCondition(stanza):
    """The defined condition of an error stanza, or None."""
    for error in stanza.elements():
        if error.name == "error":
            for child in error.elements(NS_XMPP_STANZAS):
                return child.name
    return None


def _asReceived(element):
    """
    C{element} as its client parses it: a fan-out's text shared by many
    stanzas (a serialised PEP event) becomes elements again.
    """
    if any(isinstance(c, domish.SerializedXML) for c in getattr(element, "children", ())):
        return parseElement(element.toXml())
    return element
