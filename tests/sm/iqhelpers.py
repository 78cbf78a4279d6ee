"""
Small fixtures for the session manager's server iq handler tests: a session
manager on MemoryStorage whose output is a list, stub client streams, and
helpers to build iqs and read replies.  No sockets, no reactor (MemoryStorage
answers synchronously).
"""

from twisted.words.xish import domish

from jabberd.jidutil import JID
from jabberd.ns import NS_XMPP_STANZAS
from jabberd.router import Route, Router
from jabberd.sm.manager import SessionManager
from jabberd.sm.session import Session
from jabberd.storage import RosterItem
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import FakeStream  # noqa: F401  (re-exported for the iq tests)

DOMAIN = "localhost"


class StubRoute(Route):
    """A component route that records what it is given."""

    def __init__(self, domain):
        self.domain = domain
        self.delivered = []

    def deliver(self, stanza):
        self.delivered.append(stanza)


def makeManager(*handlers):
    """A L{SessionManager} for C{localhost} with C{handlers}; C{sm.sent} collects output."""
    router = Router()
    sm = SessionManager([DOMAIN], MemoryStorage(), router)
    router.addRoute(DOMAIN, StubRoute(DOMAIN))
    sm.sent = []
    sm.output = sm.sent.append
    for handler in handlers:
        sm.addHandler(handler)
    return sm


def addUser(sm, *usernames):
    for username in usernames:
        sm.storage.accounts.create(username, {})


def bind(sm, full, available=True, status=None):
    """Bind a session for C{full}; C{available} gives it initial presence."""
    session = Session(FakeStream(), JID(full))
    if available:
        session.presence = domish.Element(("jabber:client", "presence"))
        if status:
            session.presence.addElement("status", content=status)
    sm.bindSession(session)
    return session


def subscribe(sm, owner, contact, subscription):
    """Put C{contact} in C{owner}'s roster with C{subscription}."""
    sm.storage.roster.set(owner, RosterItem(contact, subscription=subscription))


def makeIQ(type, uri, name="query", to=DOMAIN, frm="alice@localhost/res", **attrs):
    """An iq with one payload element; C{to=None} leaves C{to} out."""
    iq = domish.Element(("jabber:client", "iq"))
    iq["type"], iq["id"] = type, "iq1"
    if frm is not None:
        iq["from"] = frm
    if to is not None:
        iq["to"] = to
    payload = iq.addElement((uri, name))
    for key, value in attrs.items():
        payload[key] = value
    return iq


def ask(sm, iq):
    """Feed C{iq} to C{sm} and return the one stanza sent in reply."""
    before = len(sm.sent)
    sm.receive(iq)
    replies = sm.sent[before:]
    assert len(replies) == 1, replies
    return replies[0]


def payload(reply):
    """The first child element of C{reply} that is not C{<error/>}, or None."""
    for child in reply.elements():
        if child.name != "error":
            return child
    return None


def errorOf(reply):
    """(condition, legacy code, type) of an error reply."""
    assert reply["type"] == "error"
    [error] = [c for c in reply.elements() if c.name == "error"]
    [condition] = [c.name for c in error.elements()
                   if c.uri == NS_XMPP_STANZAS and c.name != "text"]
    return condition, error.getAttribute("code"), error.getAttribute("type")


def childrenNamed(element, name):
    return [c for c in element.elements() if c.name == name]
