"""Tests for L{jabberd.sm.vcard}: XEP-0054 vcard-temp storage."""

import base64

from jabberd.config import parse as parseConfig
from jabberd.handler import Handler
from jabberd.ns import NS_VCARD
from jabberd.sm.vcard import VCardHandler
from tests.sm.iqhelpers import addUser, ask, childrenNamed, errorOf, makeIQ, makeManager, payload


def makeVCard(**kwargs):
    sm = makeManager(VCardHandler(**kwargs))
    addUser(sm, "alice", "bob")
    return sm


def vcardSet(fn, to=None, frm="alice@localhost/res"):
    iq = makeIQ("set", NS_VCARD, name="vCard", to=to, frm=frm)
    vcard = payload(iq)
    vcard.addElement("FN", content=fn)
    n = vcard.addElement("N")
    n.addElement("GIVEN", content=fn.split()[0])
    return iq


def vcardGet(to=None, frm="alice@localhost/res"):
    return makeIQ("get", NS_VCARD, name="vCard", to=to, frm=frm)


def fnOf(reply):
    vcard = payload(reply)
    assert (vcard.uri, vcard.name) == (NS_VCARD, "vCard")
    return [str(c) for c in childrenNamed(vcard, "FN")]


def test_ownEmptyVCard():
    """With nothing stored, one's own vCard is an empty <vCard/> result."""
    reply = ask(makeVCard(), vcardGet())
    assert reply["type"] == "result" and fnOf(reply) == []


def test_setThenGetOwn():
    """A stored vCard comes back whole, namespaces and nesting intact."""
    sm = makeVCard()
    reply = ask(sm, vcardSet("Alice Liddell"))
    assert reply["type"] == "result" and list(reply.elements()) == []
    got = ask(sm, vcardGet())
    assert fnOf(got) == ["Alice Liddell"]
    [n] = childrenNamed(payload(got), "N")
    assert [str(g) for g in childrenNamed(n, "GIVEN")] == ["Alice"]
    assert n.uri == NS_VCARD


def test_setToOwnBareJID():
    """A set addressed to one's own bare JID is one's own vCard."""
    sm = makeVCard()
    assert ask(sm, vcardSet("Alice", to="alice@localhost"))["type"] == "result"
    assert fnOf(ask(sm, vcardGet(to="alice@localhost"))) == ["Alice"]


def test_setReplacesWhole():
    """A second set replaces the first entirely (no partial updates)."""
    sm = makeVCard()
    ask(sm, vcardSet("First Name"))
    ask(sm, makeIQ("set", NS_VCARD, name="vCard", to=None))
    assert fnOf(ask(sm, vcardGet())) == []


def test_othersVCardIsPublic():
    """Another user's stored vCard is returned to anyone."""
    sm = makeVCard()
    ask(sm, vcardSet("Bob Builder", frm="bob@localhost/site"))
    reply = ask(sm, vcardGet(to="bob@localhost", frm="stranger@example.org/x"))
    assert reply["from"] == "bob@localhost" and fnOf(reply) == ["Bob Builder"]


def test_othersMissingVCard():
    """Another user with no vCard gives service-unavailable (XEP-0054 3.3)."""
    reply = ask(makeVCard(), vcardGet(to="bob@localhost"))
    assert errorOf(reply) == ("service-unavailable", "503", "cancel")


def test_unknownUser():
    """A bare JID with no account gives the same service-unavailable."""
    reply = ask(makeVCard(), vcardGet(to="nobody@localhost"))
    assert errorOf(reply)[0] == "service-unavailable"


def test_setOthersForbidden():
    """Setting another user's vCard is forbidden and stores nothing."""
    sm = makeVCard()
    reply = ask(sm, vcardSet("Mallory", to="bob@localhost"))
    assert errorOf(reply) == ("forbidden", "403", "auth")
    assert sm.storage.vcards.data.get("bob") is None


def test_setServerForbidden():
    """Setting a vCard on the server's domain is forbidden."""
    reply = ask(makeVCard(), vcardSet("Server", to="localhost"))
    assert errorOf(reply)[0] == "forbidden"


def test_serverHasNoVCard():
    """A get of the server's vCard is service-unavailable."""
    reply = ask(makeVCard(), vcardGet(to="localhost"))
    assert errorOf(reply)[0] == "service-unavailable"


def test_tooLarge():
    """A vCard over the size limit is refused with policy-violation (406)."""
    sm = makeVCard(maxSize=200)
    reply = ask(sm, vcardSet("A" * 300))
    assert errorOf(reply) == ("policy-violation", "406", "modify")
    assert sm.storage.vcards.data.get("alice") is None


def test_wrongElement():
    """A vcard-temp payload that is not <vCard/> is bad-request."""
    reply = ask(makeVCard(), makeIQ("set", NS_VCARD, name="card", to=None))
    assert errorOf(reply)[0] == "bad-request"


def test_storedAsText():
    """The vCard is stored as serialised XML text, not as an element."""
    sm = makeVCard()
    ask(sm, vcardSet("Alice & Co <x>"))
    stored = sm.storage.vcards.data["alice"]
    assert isinstance(stored, str) and "&amp;" in stored and "&lt;x&gt;" in stored
    assert fnOf(ask(sm, vcardGet())) == ["Alice & Co <x>"]


def test_corruptStoredVCard():
    """Unreadable stored XML is an internal-server-error, not a crash."""
    sm = makeVCard()
    sm.storage.vcards.data["alice"] = "<!DOCTYPE x [<!ENTITY a 'b'>]><vCard xmlns='vcard-temp'/>"
    reply = ask(sm, vcardGet())
    assert errorOf(reply)[0] == "internal-server-error"


def photoSet(binval, fn="Alice"):
    iq = vcardSet(fn)
    photo = payload(iq).addElement("PHOTO")
    photo.addElement("TYPE", content="image/png")
    photo.addElement("BINVAL", content=binval)
    return iq


def test_photoNotBase64():
    """A PHOTO whose BINVAL is not base64 is bad-request, and nothing is stored."""
    sm = makeVCard()
    reply = ask(sm, photoSet("this is *not* base64"))
    assert errorOf(reply)[0] == "bad-request"
    assert sm.storage.vcards.data.get("alice") is None


def test_photoOverTheLimit():
    """A photo over maxPhotoBytes is policy-violation, and nothing is stored."""
    sm = makeVCard(maxPhotoBytes=10)
    reply = ask(sm, photoSet(base64.b64encode(b"x" * 11).decode()))
    assert errorOf(reply)[0] == "policy-violation"
    assert sm.storage.vcards.data.get("alice") is None


def test_photoNotCountedInSize():
    """The size limit is on the vCard besides its photo, which has its own bound."""
    sm = makeVCard(maxSize=300, maxPhotoBytes=1000)
    reply = ask(sm, photoSet(base64.b64encode(b"x" * 900).decode()))
    assert reply["type"] == "result"
    assert len(sm.storage.vcards.data["alice"]) > 1200


def test_storedVCardAnnounced():
    """A client's set is told to the vcardChanged hooks with the account's bare JID."""
    seen = []

    class Watcher(Handler):
        def vcardChanged(self, jid, vcard, fromClient):
            seen.append((jid, vcard.name, fromClient))
            return []

    sm = makeVCard()
    sm.addHandler(Watcher())
    ask(sm, vcardSet("Alice"))
    assert seen == [("alice@localhost", "vCard", True)]


def test_limitsFromConfig():
    """[vcard] max_size and [avatars] max_bytes set the handler's limits."""
    config = parseConfig("[vcard]\nmax_size = 1000\n[avatars]\nmax_bytes = 2000\n")
    handler = VCardHandler.fromConfig(config)
    assert (handler.maxSize, handler.maxPhotoBytes) == (1000, 2000)
