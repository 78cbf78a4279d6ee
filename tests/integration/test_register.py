"""
In-band registration (XEP-0077) end to end: a real jabberd with
the register component in process (on SQLite and PostgreSQL), and the same
component moved out of process by configuration only; slixmpp's xep_0077
plugin and raw XML as clients.
"""

import asyncio

import pytest
from slixmpp.exceptions import IqError
from twisted.words.xish import domish

from jabberd.ns import NS_REGISTER, NS_REGISTER_FEATURE, NS_XMPP_STANZAS
from tests.integration.clients import TIMEOUT, Client, RawStream, run
from tests.integration.harness import ServerProcess

HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
NS_STREAMS = "http://etherx.jabber.org/streams"
SECTION = "[component:register.localhost]\n"


class PreAuthStream:
    """A raw direct-TLS client stream that stops before authentication."""

    def __init__(self, port, host="127.0.0.1"):
        self.raw = RawStream(port, tls=True, host=host)
        self.elements = []
        self.parser = domish.elementStream()
        self.parser.DocumentStartEvent = lambda root: None
        self.parser.ElementEvent = self.elements.append
        self.parser.DocumentEndEvent = lambda: None
        self.raw.send(HEADER)
        self.features = self.next()

    def next(self):
        """The next first-level element the server sends."""
        while not self.elements:
            chunk = self.raw.sock.recv(4096)
            if not chunk:
                raise EOFError("the server closed the stream")
            self.parser.parse(chunk)
        return self.elements.pop(0)

    def register(self, username, password, ident="reg"):
        """Send a registration set; return (type, error condition or None)."""
        self.raw.send(f"<iq type='set' id='{ident}'><query xmlns='{NS_REGISTER}'>"
                      f"<username>{username}</username><password>{password}</password>"
                      f"</query></iq>")
        reply = self.next()
        assert (reply.name, reply["id"]) == ("iq", ident)
        return reply["type"], _condition(reply)

    def close(self):
        self.raw.close()


def _condition(stanza):
    for error in stanza.elements(None, "error"):
        for child in error.elements(NS_XMPP_STANZAS):
            if child.name != "text":
                return child.name
    for error in stanza.elements("jabber:client", "error"):
        return next(c.name for c in error.elements(NS_XMPP_STANZAS) if c.name != "text")
    return None


def preAuthRegister(server, username, password):
    """Register over a fresh unauthenticated stream; return (type, condition)."""
    stream = PreAuthStream(server.ports["c2s-tls"])
    try:
        return stream.register(username, password)
    finally:
        stream.close()


async def canLogin(port, jid, password):
    client = Client(jid, password)
    ok = await client.login(port, presence=False)
    if ok:
        await client.close()
    else:
        client.abort()
    return ok


def _rewrite(proc, old, new):
    """Change C{proc}'s configuration file before it starts."""
    with open(proc.configPath) as f:
        text = f.read()
    assert text.count(old) == 1
    with open(proc.configPath, "w") as f:
        f.write(text.replace(old, new))


@pytest.fixture(scope="module")
def closedServer(tmp_path_factory):
    """A jabberd (SQLite) whose register component says open = no."""
    proc = ServerProcess(tmp_path_factory.mktemp("closed"))
    _rewrite(proc, SECTION + "plugin = register\ntrusted = yes\ndelegate = jabber:iq:register\n"
             "open = yes\n",
             SECTION + "plugin = register\ntrusted = yes\ndelegate = jabber:iq:register\n"
             "open = no\n")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def externalServer(tmp_path_factory):
    """A jabberd (SQLite) with the register component in its own process."""
    proc = ServerProcess(tmp_path_factory.mktemp("external"))
    _rewrite(proc, SECTION, SECTION + "secret = register-secret\nexternal = yes\n")
    proc.start()
    proc.startComponent("register.localhost")
    yield proc
    proc.stop()


def test_registerWithSlixmppThenLogin(server):
    """slixmpp registers a new account before authenticating, logs in with it, and again later."""
    async def body():
        client = Client("newbie@localhost/reg", "newpw", plugins=("xep_0077",))
        seen = []

        async def register(form):
            seen.append(form["register"]["instructions"])
            iq = client.Iq()
            iq["type"] = "set"
            iq["register"]["username"] = "newbie"
            iq["register"]["password"] = "newpw"
            await iq.send()

        client.add_event_handler("register", register)
        assert await client.login(server.ports["c2s"])
        assert client.boundjid.full == "newbie@localhost/reg"
        assert seen and seen[0]
        await client.close()
        assert await canLogin(server.ports["c2s"], "newbie@localhost/again", "newpw")
    run(body())
    assert "newbie" in server.ctl("users").stdout.split()


def test_featureAndRawRegistration(server):
    """The register feature is offered before auth and a raw registration succeeds."""
    stream = PreAuthStream(server.ports["c2s-tls"])
    try:
        assert next(stream.features.elements(NS_REGISTER_FEATURE, "register"), None) is not None
        assert stream.register("rawuser", "rawpw") == ("result", None)
    finally:
        stream.close()
    assert run(canLogin(server.ports["c2s"], "rawuser@localhost/x", "rawpw"))


def test_duplicateIsConflict(server):
    """Registering an existing account is a conflict and its password is unchanged."""
    assert preAuthRegister(server, "alice", "stolen") == ("error", "conflict")
    assert run(canLogin(server.ports["c2s"], "alice@localhost/x", "alicepw"))


def test_invalidUsernameIsNotAcceptable(server):
    """A username that is not a valid localpart is not-acceptable."""
    assert preAuthRegister(server, "bad@name", "pw") == ("error", "not-acceptable")
    assert preAuthRegister(server, "", "pw") == ("error", "not-acceptable")


def test_changePasswordThenLogin(server):
    """A logged-in user changes the password; the new one works and the old one not."""
    assert preAuthRegister(server, "changer", "oldpw") == ("result", None)

    async def body():
        client = Client("changer@localhost/x", "oldpw", plugins=("xep_0077",))
        assert await client.login(server.ports["c2s"], presence=False)
        await client["xep_0077"].change_password("newpw")
        await client.close()
        assert await canLogin(server.ports["c2s"], "changer@localhost/y", "newpw")
        assert not await canLogin(server.ports["c2s"], "changer@localhost/z", "oldpw")
    run(body())


def test_removeEndsStreamsAndLogin(server):
    """Removing the account answers result, ends the user's streams, and login fails after."""
    assert preAuthRegister(server, "doomed", "pw") == ("result", None)

    async def body():
        other = Client("doomed@localhost/other", "pw")
        assert await other.login(server.ports["c2s"])
        client = Client("doomed@localhost/x", "pw", plugins=("xep_0077",))
        assert await client.login(server.ports["c2s"])
        await client["xep_0077"].cancel_registration()
        for session in (client, other):
            error = await _streamError(session)
            assert error["condition"] == "not-authorized"
        assert not await canLogin(server.ports["c2s"], "doomed@localhost/y", "pw")
    run(body())


async def _streamError(client):
    """The next stream error C{client} received."""
    return await asyncio.wait_for(client.streamErrors.get(), TIMEOUT)


def test_otherStanzaBeforeAuthStillRefused(server):
    """A non-registration iq before authentication still ends the stream not-authorized."""
    stream = PreAuthStream(server.ports["c2s-tls"])
    try:
        stream.raw.send("<iq type='get' id='v'><query xmlns='jabber:iq:version'/></iq>")
        error = stream.next()
        assert (error.uri, error.name) == (NS_STREAMS, "error")
        assert next(error.elements()).name == "not-authorized"
    finally:
        stream.close()


def test_closedRegistration(closedServer):
    """With open = no the feature is not offered and registration is not-allowed."""
    stream = PreAuthStream(closedServer.ports["c2s-tls"])
    try:
        assert next(stream.features.elements(NS_REGISTER_FEATURE, "register"), None) is None
        assert stream.register("nobody", "pw") == ("error", "not-allowed")
    finally:
        stream.close()
    assert not run(canLogin(closedServer.ports["c2s"], "nobody@localhost/x", "pw"))


def test_outOfProcessRegisterAndLogin(externalServer):
    """With the component in its own process, registration and login work the same."""
    assert preAuthRegister(externalServer, "outsider", "pw") == ("result", None)
    assert preAuthRegister(externalServer, "outsider", "pw") == ("error", "conflict")
    assert run(canLogin(externalServer.ports["c2s"], "outsider@localhost/x", "pw"))

    async def removal():
        client = Client("outsider@localhost/x", "pw", plugins=("xep_0077",))
        assert await client.login(externalServer.ports["c2s"])
        try:
            await client["xep_0077"].cancel_registration()
        except IqError as e:  # pragma: no cover - reported by the assertion
            pytest.fail(f"removal failed: {e.iq}")
        assert (await _streamError(client))["condition"] == "not-authorized"
    run(removal())
    assert "outsider" not in externalServer.ctl("users").stdout.split()

