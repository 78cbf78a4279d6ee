"""
Property tests for the session manager's iq payload parsing: for every iq
route the handlers of L{jabberd.sm.modules} register (the C{IQRoutes} of
the host, L{jabberd.handler.IQRoutes}), iqs of type get and set with
random payloads under that namespace (random element names, attributes,
children, text, JIDs, data forms and result set management) are sent by a
bound client to the server, to its own account and to a contact's.

RFC 6120 section 8.2.3: each such iq gets exactly one reply, of type
result or error, with the iq's id; no handler raises or logs a failure.
"""

import string

from hypothesis import given, strategies as st

from jabberd.config import parse as parseConfig
from jabberd.sm.manager import SessionManager
from jabberd.sm.modules import handlerFactories
from jabberd.sm.session import Session
from jabberd.storage.cached import CachedStorage
from jabberd.storage.memory import MemoryStorage
from tests.fuzzing import LoggedFailures, fuzzSettings
from tests.sm.helpers import DOMAIN, FakeStream, StubRouter, parse
from tests.test_xmlparser_fuzz import quote
from twisted.words.protocols.jabber.jid import JID

CONFIG = "[server]\ndomains = %s\n" % DOMAIN


def makeManager():
    """A session manager with every handler of the module list, as built for the server."""
    config = parseConfig(CONFIG)
    storage = MemoryStorage()
    for user in ("alice", "bob"):
        storage.accounts.create(user, {"password": "secret"})
    sm = SessionManager([DOMAIN], CachedStorage(storage))
    sm.config = config
    for factory in handlerFactories(config):
        sm.addHandler(factory())
    sm.checkRequirements()
    sm.output = StubRouter(sm)
    return sm


def routes():
    """The (type, namespace) keys of every get and set route, sorted."""
    keys = makeManager().iqRoutes._methods
    return sorted(key for key in keys if key[0] in ("get", "set"))


ROUTES = routes()

NAMES = st.sampled_from([
    "query", "item", "items", "x", "field", "value", "set", "max", "before", "after", "first",
    "vCard", "FN", "NICKNAME", "PHOTO", "ping", "time", "block", "unblock", "blocklist",
    "enable", "disable", "pubsub", "publish", "retract", "subscribe", "options", "configure",
    "create", "delete", "purge", "affiliations", "subscriptions", "prefs", "always", "never",
    "jid", "group", "name", "storage", "fin", "remove", "username", "password", "resource",
    "report", "text", "publish-options", "default", "redirect", "list", "feature", "identity",
])
NAMESPACES = st.sampled_from([None, "jabber:x:data", "http://jabber.org/protocol/rsm",
                              "urn:xmpp:forward:0", "urn:x:unknown", ""])
VALUES = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + " @/.-_:&<'\"\u00e9\x01", max_size=20),
    st.sampled_from(["alice@localhost", "bob@localhost/res", "localhost", "@", "a@b@c", "/",
                     "urn:xmpp:mam:2", "jabber:x:data", "submit", "form", "cancel", "result",
                     "true", "false", "0", "-1", "99999999999999999999", "2010-06-07T00:00:00Z",
                     "not-a-date", "both", "remove", "subscribe", "none", "owner", "outcast",
                     "current", "*", "x" * 300, "\u00b2"]),
)
ATTRIBUTES = st.sampled_from([
    "node", "jid", "name", "subscription", "ask", "var", "type", "id", "with", "start", "end",
    "action", "category", "ver", "max", "index", "queryid", "item", "affiliation", "subid",
    "publisher", "label", "default", "seconds", "code", "reason", "xml:lang", "to", "from",
])


def escaped(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("\x01", "")


def element(draw, depth, namespace=None):
    """Random XML of one element in C{namespace} (else a random one), C{depth} levels deep."""
    name = draw(NAMES)
    attributes = draw(st.lists(st.tuples(ATTRIBUTES, VALUES), max_size=4,
                               unique_by=lambda a: a[0]))
    if namespace is None:
        namespace = draw(NAMESPACES)
    if namespace is not None:
        attributes = [("xmlns", namespace)] + attributes
    head = "<%s%s" % (name, "".join(" %s=%s" % (k, quote(escaped(v))) for k, v in attributes))
    children = []
    if depth > 0:
        for _ in range(draw(st.integers(0, 3))):
            children.append(element(draw, depth - 1))
    text = escaped(draw(VALUES)) if draw(st.booleans()) else ""
    if not children and not text:
        return head + "/>"
    return head + ">" + text + "".join(children) + "</%s>" % name


@st.composite
def iqs(draw, routes=ROUTES, recipients=(None, DOMAIN, "alice@localhost", "bob@localhost"),
        sender=None):
    """An iq of one route's type and a random payload in the route's namespace."""
    iqType, namespace = draw(st.sampled_from(routes))
    to = draw(st.sampled_from(recipients))
    payload = element(draw, draw(st.integers(0, 3)), namespace)
    if draw(st.integers(0, 9)) == 0:
        payload += element(draw, 1)  # a second child: bad-request somewhere
    return "<iq type='%s' id='fuzz'%s%s>%s</iq>" % (
        iqType, " to='%s'" % to if to else "", " from='%s'" % sender if sender else "", payload)


def check(stanzas):
    """The property, for a bound session of alice sending C{stanzas} one by one."""
    sm = makeManager()
    session = Session(FakeStream(), JID("alice@%s/res" % DOMAIN))
    with LoggedFailures() as logged:
        sm.bindSession(session)
        for number, text in enumerate(stanzas):
            iqId = "fuzz%d" % number
            session.stream.sent.clear()
            sm.outbound(session, parse(text.replace("id='fuzz'", "id='%s'" % iqId, 1)))
            replies = [e for e in session.stream.sent
                       if e.name == "iq" and e.getAttribute("id") == iqId]
            assert len(replies) == 1, (text, [e.toXml() for e in session.stream.sent])
            assert replies[0].getAttribute("type") in ("result", "error"), replies[0].toXml()
            logged.check()


def test_routesAreFound():
    """The fuzzed routes include the core ones (a check on the route discovery itself)."""
    assert ("get", "jabber:iq:roster") in ROUTES
    assert ("set", "urn:xmpp:blocking") in ROUTES
    assert ("get", "urn:xmpp:ping") in ROUTES


@fuzzSettings(300, deadline=4000)
@given(st.lists(iqs(), min_size=1, max_size=4))
def test_everyRouteAnswersRandomPayloads(stanzas):
    """Random payloads on every route get exactly one result or error reply."""
    check(stanzas)


def test_everyRouteAnswersAnEmptyPayload():
    """Each route, get and set, answers an empty payload element with one reply."""
    for iqType, namespace in ROUTES:
        for to in ("", " to='bob@localhost'"):
            check(["<iq type='%s' id='fuzz'%s><query xmlns='%s'/></iq>" % (iqType, to, namespace)])
