"""Tests for L{jabberd.router}: routing by domain, the from check, bounces."""

from twisted.words.xish import domish

from jabberd.host import Host
from jabberd.router import Route, Router


class RecordingRoute(Route):
    """A route that records what it is handed."""

    def __init__(self, domain, trusted=False):
        self.domain = domain
        self.trusted = trusted
        self.delivered = []

    def deliver(self, stanza):
        self.delivered.append(stanza)


def message(to, sender, type="chat"):
    m = domish.Element((None, "message"))
    m["to"], m["from"], m["type"] = to, sender, type
    m.addElement("body", content="hi")
    return m


def makeRouter():
    router = Router()
    local = RecordingRoute("localhost", trusted=True)
    comp = RecordingRoute("conference.localhost")
    router.addRoute("localhost", local)
    router.addRoute("conference.localhost", comp)
    return router, local, comp


def test_routesByDomain():
    """A stanza goes to the route of its to domain, whatever the local part."""
    router, local, comp = makeRouter()
    router.route(message("room@conference.localhost/nick", "a@localhost/r"), local)
    router.route(message("bob@LOCALHOST", "room@conference.localhost"), comp)
    assert len(comp.delivered) == 1 and len(local.delivered) == 1


def test_unknownDomainBounces():
    """An unroutable stanza comes back as remote-server-not-found with code 404."""
    router, local, _ = makeRouter()
    router.route(message("x@nowhere.example", "a@localhost/r"), local)
    [reply] = local.delivered
    assert reply["type"] == "error"
    assert reply["from"] == "nowhere.example" and reply["to"] == "a@localhost/r"
    error = reply.error
    assert error["code"] == "404"
    assert error.firstChildElement().name == "remote-server-not-found"


def test_errorsAreNeverBounced():
    """An unroutable error stanza is dropped, so errors cannot loop."""
    router, local, _ = makeRouter()
    router.route(message("x@nowhere.example", "a@localhost/r", type="error"), local)
    assert local.delivered == []


def test_untrustedSpoofIsRefused():
    """An untrusted component cannot send from a user's address."""
    router, local, comp = makeRouter()
    router.route(message("bob@localhost", "alice@localhost/r"), comp)
    assert local.delivered == []
    [reply] = comp.delivered
    assert reply["type"] == "error"
    assert reply.error.firstChildElement().name == "not-authorized"


def test_untrustedSubdomainAllowed():
    """An untrusted component may send from its own domain and subdomains."""
    router, local, comp = makeRouter()
    router.route(message("bob@localhost", "room@conference.localhost/nick"), comp)
    router.route(message("bob@localhost", "x.conference.localhost"), comp)
    assert len(local.delivered) == 2


def test_lookalikeDomainRefused():
    """A domain that merely ends with the component's name is not a subdomain."""
    router, local, comp = makeRouter()
    router.route(message("bob@localhost", "evilconference.localhost"), comp)
    assert local.delivered == []


def test_trustedRouteMaySendAnything():
    """A trusted route (the session manager, a trusted component) may send from anywhere."""
    router, local, comp = makeRouter()
    router.route(message("room@conference.localhost", "someone@remote.example"), local)
    assert len(comp.delivered) == 1


def test_secondRouteForDomainRefused():
    """Adding a second, different route for a served domain raises KeyError."""
    router, _, _ = makeRouter()
    try:
        router.addRoute("conference.localhost", RecordingRoute("conference.localhost"))
    except KeyError:
        return
    raise AssertionError("second route accepted")


def test_removeRouteOnlyOwn():
    """removeRoute leaves a domain alone when a different route serves it."""
    router, _, comp = makeRouter()
    router.removeRoute("conference.localhost", RecordingRoute("conference.localhost"))
    assert router.routes["conference.localhost"] is comp
    router.removeRoute("conference.localhost", comp)
    assert "conference.localhost" not in router.routes


def test_attachHostRoutesBothWays():
    """An attached in-process host receives its stanzas and its sends are routed."""
    router, local, _ = makeRouter()
    received = []
    host = Host(["echo.localhost"])
    host.receive = received.append
    router.attachHost(host)
    router.route(message("echo.localhost", "a@localhost/r"), local)
    assert len(received) == 1
    host.send(message("a@localhost/r", "echo.localhost"))
    assert len(local.delivered) == 1


def test_defaultRouteTakesOtherDomains():
    """With a default route (s2s), stanzas to domains not served locally go there, not bounced."""
    router, local, comp = makeRouter()
    remote = RecordingRoute(None)
    router.defaultRoute = remote
    router.route(message("x@remote.example", "a@localhost/r"), local)
    router.route(message("room@conference.localhost", "a@localhost/r"), local)
    assert [s["to"] for s in remote.delivered] == ["x@remote.example"]
    assert local.delivered == [] and len(comp.delivered) == 1
