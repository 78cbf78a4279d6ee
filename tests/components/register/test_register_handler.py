"""
Tests for L{components.register}: XEP-0077 registration, password change
and removal, answered by the component through the session manager's
delegation, with MemoryStorage.
"""

from jabberd.ns import NS_DISCO_INFO, NS_REGISTER, NS_VCARD
from tests.components.register.reghelpers import RegWorld, condition, query
from tests.sm.helpers import parse
from tests.sm.test_delegation import Sink


def _fields(reply):
    query = next(reply.elements(NS_REGISTER, "query"))
    return [c.name for c in query.elements()]


def test_preAuthGetListsFields():
    """An unauthenticated get returns instructions, username, password and email."""
    reply = RegWorld().askPreAuth(query(iqType="get"))
    assert reply["type"] == "result" and reply["id"] == "r1"
    assert _fields(reply) == ["instructions", "username", "password", "email"]


def test_registerCreatesAccount():
    """A pre-auth set creates the account with SCRAM credentials for its password."""
    world = RegWorld()
    reply = world.askPreAuth(query(("username", "Newbie"), ("password", "s3cret")))
    assert reply["type"] == "result" and condition(reply) is None
    assert world.passwordIs("newbie", "s3cret")
    assert "SCRAM-SHA-256" in world.storage.accounts.data["newbie"]
    assert "plain" not in world.storage.accounts.data["newbie"]


def test_registerKeepsEmailInVCard():
    """An email given at registration lands in the new account's vCard."""
    world = RegWorld()
    world.askPreAuth(query(("username", "mailer"), ("password", "pw"),
                           ("email", "m@example.org")))
    vcard = parse(world.storage.vcards.data["mailer"], namespace=NS_VCARD)
    assert "m@example.org" in vcard.toXml()


def test_registerTakenIsConflict():
    """Registering an existing username is a conflict (409) and keeps the old password."""
    world = RegWorld()
    world.addUser("alice", "old")
    reply = world.askPreAuth(query(("username", "alice"), ("password", "new")))
    assert condition(reply) == "conflict"
    error = next(c for c in reply.elements() if c.name == "error")
    assert error["code"] == "409"
    assert world.passwordIs("alice", "old")


def test_registerInvalidUsername():
    """A username nodeprep refuses is not-acceptable (406)."""
    world = RegWorld()
    reply = world.askPreAuth(query(("username", "bad@name"), ("password", "pw")))
    assert condition(reply) == "not-acceptable"
    assert world.storage.accounts.data == {}


def test_registerPasswordSASLprepRefuses():
    """A password SASLprep forbids (private use) is not-acceptable and nothing is stored."""
    world = RegWorld()
    reply = world.askPreAuth(query(("username", "zed"), ("password", "pw\ue000")))
    assert condition(reply) == "not-acceptable"
    assert world.storage.accounts.data == {}


def test_registerMissingFields():
    """Without a password (or username) registration is not-acceptable."""
    world = RegWorld()
    assert condition(world.askPreAuth(query(("username", "x")))) == "not-acceptable"
    assert condition(world.askPreAuth(query(("password", "x")))) == "not-acceptable"


def test_closedRegistration():
    """With open = no both the form and registration are not-allowed (405)."""
    world = RegWorld(open="no")
    assert condition(world.askPreAuth(query(iqType="get"))) == "not-allowed"
    reply = world.askPreAuth(query(("username", "x"), ("password", "y")))
    assert condition(reply) == "not-allowed"
    assert world.storage.accounts.data == {}


def test_rateLimitPerAddress():
    """A third registration from one address within the window is resource-constraint."""
    world = RegWorld()
    for name in ("u1", "u2"):
        assert condition(world.askPreAuth(query(("username", name), ("password", "p")))) is None
    reply = world.askPreAuth(query(("username", "u3"), ("password", "p")))
    assert condition(reply) == "resource-constraint"
    assert next(c for c in reply.elements() if c.name == "error")["type"] == "wait"
    other = world.askPreAuth(query(("username", "u4"), ("password", "p")), ip="192.0.2.2")
    assert condition(other) is None
    world.clock.advance(61)
    assert condition(world.askPreAuth(query(("username", "u5"), ("password", "p")))) is None


def test_loopbackIsExempt():
    """Loopback clients are not rate limited by default."""
    world = RegWorld()
    for index in range(4):
        reply = world.askPreAuth(query(("username", f"l{index}"), ("password", "p")),
                                 ip="127.0.0.1")
        assert condition(reply) is None


def test_loggedInGetShowsRegistration():
    """A logged-in user's get says registered and gives the username."""
    world = RegWorld()
    world.addUser("alice", "pw")
    reply = world.ask(world.login("alice"), query(iqType="get"))
    assert reply["type"] == "result"
    assert _fields(reply) == ["registered", "username", "password"]
    username = next(next(reply.elements(NS_REGISTER, "query")).elements(NS_REGISTER, "username"))
    assert str(username) == "alice"


def test_changePassword():
    """A logged-in user's set with own username and a password changes the password."""
    world = RegWorld()
    world.addUser("alice", "old")
    reply = world.ask(world.login("alice"), query(("username", "alice"), ("password", "new")))
    assert reply["type"] == "result" and reply["to"] == "alice@localhost/pc"
    assert world.passwordIs("alice", "new")


def test_changeOtherPasswordRefused():
    """A user cannot change another account's password."""
    world = RegWorld()
    world.addUser("alice", "pw")
    world.addUser("bob", "bobpw")
    reply = world.ask(world.login("alice"), query(("username", "bob"), ("password", "x")))
    assert condition(reply) == "not-allowed"
    assert world.passwordIs("bob", "bobpw")


def test_emptyPasswordKeepsOld():
    """An empty password in a change is refused and the old one stays (section 3.3)."""
    world = RegWorld()
    world.addUser("alice", "old")
    reply = world.ask(world.login("alice"), query(("username", "alice"), "password"))
    assert condition(reply) == "not-acceptable"
    assert world.passwordIs("alice", "old")


def test_removeDeletesAccountAndEndsSessions():
    """Remove deletes the account, answers result, then ends every session not-authorized."""
    world = RegWorld()
    world.addUser("alice", "pw")
    world.storage.vcards.set("alice", "<vCard xmlns='vcard-temp'/>")
    desk, phone = world.login("alice", "desk"), world.login("alice", "phone")
    deleted = []
    world.sm.hooks("userDeleted").append(deleted.append)
    reply = world.ask(desk, query("remove"))
    assert reply["type"] == "result"
    assert "alice" not in world.storage.accounts.data and "alice" not in world.storage.vcards.data
    assert desk.stream.closed == ("not-authorized", "account removed")
    assert phone.stream.closed[0] == "not-authorized"
    assert deleted == ["alice"]


def test_removeWithOtherChildrenIsBadRequest():
    """Remove must be the only child of the query."""
    world = RegWorld()
    world.addUser("alice", "pw")
    session = world.login("alice")
    reply = world.ask(session, query("remove", ("username", "alice")))
    assert condition(reply) == "bad-request"
    assert "alice" in world.storage.accounts.data and session.stream.closed is None


def test_preAuthRemoveRefused():
    """An unauthenticated stream cannot remove an account."""
    world = RegWorld()
    world.addUser("alice", "pw")
    reply = world.askPreAuth(query("remove"))
    assert condition(reply) == "unexpected-request"
    assert "alice" in world.storage.accounts.data


def test_remoteRequesterForbidden():
    """A register iq from another server's user is forbidden."""
    world = RegWorld()
    remote = Sink()
    world.router.addRoute("remote.example", remote)
    iq = query(iqType="get")
    iq["from"] = "eve@remote.example/x"
    world.sm.receive(iq)
    assert condition(remote.stanzas[0]) == "forbidden"


def test_serverDiscoAdvertisesRegister():
    """The server's disco#info lists jabber:iq:register once delegated."""
    world = RegWorld()
    world.addUser("alice", "pw")
    reply = world.ask(world.login("alice"), parse(
        f"<iq type='get' id='d1' to='localhost'><query xmlns='{NS_DISCO_INFO}'/></iq>"))
    info = next(reply.elements(NS_DISCO_INFO, "query"))
    assert NS_REGISTER in [f["var"] for f in info.elements(NS_DISCO_INFO, "feature")]


def test_registerIqToAccountIsServiceUnavailable():
    """Registration is the server's: an iq to another user's JID is service-unavailable."""
    world = RegWorld()
    world.addUser("alice", "pw")
    world.addUser("bob", "pw")
    iq = query(iqType="get")
    iq["to"] = "bob@localhost"
    assert condition(world.ask(world.login("alice"), iq)) == "service-unavailable"
