"""
Test helpers for the conference component: an in-memory conference host
whose output appends to a list, literal XML in, stanzas out, and small
queries over what was sent.  No sockets, no reactor.
"""

from twisted.words.xish import domish

import jabberd  # noqa: F401  (wokkel compatibility before anything else)
from jabberd.config import parse
from jabberd.ns import NS_DATA, NS_DELAY, NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_USER
from components.conference import makeHost
from components.conference.store import MemoryRoomStore

SERVICE = "conference.localhost"
ROOM = "room@conference.localhost"
OWNER = "owner@localhost/r"
BOB = "bob@localhost/b"
CAROL = "carol@localhost/c"

CONFIG = """
[server]
domains = localhost
database = memory:

[component:conference.localhost]
plugin = conference
{options}
"""


def parseXml(text):
    """Parse one stanza given as literal XML, in the jabber:client namespace."""
    found = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = found.append
    stream.DocumentEndEvent = lambda: None
    stream.parse("<stream xmlns='jabber:client'>" + text + "</stream>")
    return found[0]


def serverConfig(options="", database="memory:"):
    """A parsed server configuration with a conference component section."""
    text = CONFIG.format(options=options).replace("database = memory:",
                                                  f"database = {database}")
    return parse(text)


class Conference:
    """
    A conference host wired to a list: C{send} feeds it stanzas, C{take}
    returns (and forgets) what it sent out.
    """

    def __init__(self, options="", store=None, database="memory:", storage=None):
        self.config = serverConfig(options, database)
        self.store = store if store is not None or database != "memory:" else MemoryRoomStore()
        component = self.config.components[SERVICE]
        self.host = makeHost(self.config, component, storage, store=self.store)
        self.service = self.host.muc
        self.sent = []
        self.host.output = self.sent.append

    def send(self, xml):
        """Deliver literal XML (or an element) to the host; return what it sent."""
        element = parseXml(xml) if isinstance(xml, str) else xml
        self.host.receive(element)
        return self.take()

    def take(self):
        sent, self.sent[:] = list(self.sent), []
        return sent

    def room(self, jid=ROOM):
        return self.service.room(jid)

    # common actions

    def join(self, user, nick, room=ROOM, muc=True, password=None, history=None, extra=""):
        """Presence from C{user} to room/nick; return the stanzas sent back."""
        x = ""
        if muc:
            inner = ""
            if password is not None:
                inner += f"<password>{password}</password>"
            if history is not None:
                inner += f"<history {history}/>"
            x = f"<x xmlns='{NS_MUC}'>{inner}</x>"
        return self.send(f"<presence from='{user}' to='{room}/{nick}'>{x}{extra}</presence>")

    def leave(self, user, nick, room=ROOM, status=None):
        body = f"<status>{status}</status>" if status else ""
        return self.send(f"<presence from='{user}' to='{room}/{nick}' type='unavailable'>"
                         f"{body}</presence>")

    def createInstant(self, owner="owner@localhost/r", nick="owner", room=ROOM):
        """Create C{room} and accept it as an instant room."""
        self.join(owner, nick, room)
        return self.submitConfig(owner, {}, room)

    def submitConfig(self, owner, fields, room=ROOM, formType="submit"):
        """Submit the owner configuration form with C{fields} (var -> value(s))."""
        parts = []
        if fields:
            parts.append("<field var='FORM_TYPE'><value>"
                         "http://jabber.org/protocol/muc#roomconfig</value></field>")
        for var, value in fields.items():
            values = value if isinstance(value, list) else [value]
            inner = "".join(f"<value>{v}</value>" for v in values)
            parts.append(f"<field var='{var}'>{inner}</field>")
        return self.send(
            f"<iq type='set' id='cfg' from='{owner}' to='{room}'>"
            f"<query xmlns='{NS_MUC_OWNER}'><x xmlns='{NS_DATA}' type='{formType}'>"
            f"{''.join(parts)}</x></query></iq>")

    def createConfigured(self, fields, owner="owner@localhost/r", nick="owner", room=ROOM):
        self.join(owner, nick, room)
        return self.submitConfig(owner, fields, room)

    def say(self, user, body, room=ROOM):
        return self.send(f"<message from='{user}' to='{room}' type='groupchat' id='m1'>"
                         f"<body>{body}</body></message>")

    def admin(self, actor, items, room=ROOM, iqType="set", ns=NS_MUC_ADMIN):
        return self.send(f"<iq type='{iqType}' id='a1' from='{actor}' to='{room}'>"
                         f"<query xmlns='{ns}'>{items}</query></iq>")


def room(*users, **fields):
    """A room made by OWNER (instant, or configured with C{fields}) that C{users} entered, output taken."""
    c = Conference()
    if fields:
        c.createConfigured(fields)
    else:
        c.createInstant()
    for user in users:
        c.join(user, user.split("@")[0])
    c.take()
    return c


# queries over sent stanzas

def to(stanzas, jid):
    """The stanzas addressed to C{jid}."""
    return [s for s in stanzas if s.getAttribute("to") == jid]


def named(stanzas, name):
    return [s for s in stanzas if s.name == name]


def child(element, uri, name):
    for c in element.elements(uri, name):
        return c
    return None


def userX(stanza):
    return child(stanza, NS_MUC_USER, "x")


def codes(stanza):
    """The muc#user status codes of a stanza, as a set of strings."""
    x = userX(stanza)
    if x is None:
        return set()
    return {s["code"] for s in x.elements(NS_MUC_USER, "status")}


def item(stanza):
    """The muc#user item of a stanza."""
    x = userX(stanza)
    return child(x, NS_MUC_USER, "item") if x is not None else None


def errorElement(stanza):
    """The <error/> child of a stanza, or None."""
    return next((c for c in stanza.elements() if c.name == "error"), None)


def errorCondition(stanza):
    """The defined condition of an error stanza, or None."""
    error = errorElement(stanza)
    if error is None:
        return None
    for c in error.elements():
        if c.uri == "urn:ietf:params:xml:ns:xmpp-stanzas" and c.name != "text":
            return c.name
    return None


def delay(stanza):
    return child(stanza, NS_DELAY, "delay")


def bodyText(stanza):
    for c in stanza.elements():
        if c.name == "body":
            return str(c)
    return None
