"""
A server in memory for registration tests: the real session manager
modules and the register component on one L{Router}, MemoryStorage, a
fake clock, and client streams that record what they are sent.
"""

from twisted.internet.task import Clock

from components import register
from jabberd.auth.credentials import checkPassword, makeCredentials
from jabberd.config import parse as parseConfig
from jabberd.jidutil import JID
from jabberd.ns import NS_REGISTER, NS_XMPP_STANZAS
from jabberd.router import Router
from jabberd.sm.modules import buildSessionManager
from jabberd.sm.session import Session
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import FakeStream, parse

CONFIG = """
[server]
domains = localhost
[c2s]
scram_iterations = 16
[component:register.localhost]
plugin = register
trusted = yes
delegate = jabber:iq:register
open = {open}
max_per_ip = 2
window = 60
"""


def query(*fields, iqType="set", ident="r1"):
    """A register iq; C{fields} are (name, text) pairs or bare element names."""
    parts = []
    for item in fields:
        if isinstance(item, tuple):
            parts.append("<%s>%s</%s>" % (item[0], item[1], item[0]))
        else:
            parts.append("<%s/>" % item)
    return parse("<iq type='%s' id='%s' to='localhost'><query xmlns='%s'>%s</query></iq>"
                 % (iqType, ident, NS_REGISTER, "".join(parts)))


def condition(stanza):
    """The stanza error condition of C{stanza} (None for a result)."""
    if stanza.getAttribute("type") != "error":
        return None
    error = next(c for c in stanza.elements() if c.name == "error")
    return next(c.name for c in error.elements() if c.uri == NS_XMPP_STANZAS and c.name != "text")


class RegWorld:
    """The session manager and the register component, wired in process."""

    def __init__(self, open="yes"):
        self.config = parseConfig(CONFIG.format(open=open))
        self.storage = MemoryStorage()
        self.clock = Clock()
        self.router = Router()
        self.sm = buildSessionManager(self.config, self.storage, self.router)
        self.sm.handler("delegation").requests.clock = self.clock
        self.router.attachHost(self.sm, trusted=True)
        component = self.config.components["register.localhost"]
        self.component = register.makeHost(self.config, component, self.storage, self.clock)
        self.router.attachHost(self.component, trusted=True)

    def addUser(self, username, password):
        self.storage.accounts.create(username, makeCredentials(password, 16))

    def passwordIs(self, username, password):
        creds = self.storage.accounts.data.get(username)
        return creds is not None and checkPassword(creds, password)

    def preAuth(self, ip="192.0.2.1"):
        """A pre-auth stream and its temporary address."""
        stream = FakeStream()
        return stream, self.sm.bindPreAuth(stream, "localhost", ip)

    def askPreAuth(self, iq, ip="192.0.2.1", stream=None):
        """Send C{iq} from a (new) pre-auth stream; return the stream's answer."""
        if stream is None:
            stream, address = self.preAuth(ip)
        else:
            address = next(a for a, p in self.sm.preAuth.items() if p.stream is stream)
        iq["from"] = address
        self.sm.receive(iq)
        assert len(stream.sent) >= 1
        return stream.sent[-1]

    def login(self, username, resource="pc"):
        stream = FakeStream()
        session = Session(stream, JID(tuple=(username, "localhost", resource)))
        self.sm.bindSession(session)
        return session

    def ask(self, session, iq):
        """Send C{iq} from C{session}; return the last stanza its stream got."""
        self.sm.outbound(session, iq)
        return session.stream.sent[-1]
