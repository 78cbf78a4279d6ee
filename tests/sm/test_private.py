"""Tests for L{jabberd.sm.private}: XEP-0049 private XML storage."""

from jabberd.ns import NS_PRIVATE
from jabberd.sm.private import PrivateHandler, storageKey
from tests.sm.iqhelpers import addUser, ask, childrenNamed, errorOf, makeIQ, makeManager, payload

NS_BOOKMARKS = "storage:bookmarks"


def makePrivate(**kwargs):
    sm = makeManager(PrivateHandler(**kwargs))
    addUser(sm, "alice", "bob")
    return sm


def privateIQ(type, *children, to=None, frm="alice@localhost/res"):
    """
    A jabber:iq:private iq; children are (uri, name, conferences), each
    conference a {attribute: value} dict for a <conference/> grandchild.
    """
    iq = makeIQ(type, NS_PRIVATE, to=to, frm=frm)
    query = payload(iq)
    for uri, name, conferences in children:
        child = query.addElement((uri, name))
        if conferences:
            conference = child.addElement("conference")
            for key, value in conferences.items():
                conference[key] = value
    return iq


def storedChild(reply):
    query = payload(reply)
    assert query.uri == NS_PRIVATE
    [child] = list(query.elements())
    return child


def test_getNothingStored():
    """A get with nothing stored returns the empty element asked for."""
    reply = ask(makePrivate(), privateIQ("get", (NS_BOOKMARKS, "storage", {})))
    child = storedChild(reply)
    assert (child.uri, child.name) == (NS_BOOKMARKS, "storage")
    assert list(child.elements()) == []


def test_setThenGet():
    """A stored element is returned as it was set."""
    sm = makePrivate()
    setReply = ask(sm, privateIQ("set", (NS_BOOKMARKS, "storage", {"jid": "room@conf.localhost"})))
    assert setReply["type"] == "result"
    child = storedChild(ask(sm, privateIQ("get", (NS_BOOKMARKS, "storage", {}))))
    [conference] = childrenNamed(child, "conference")
    assert conference.uri == NS_BOOKMARKS and conference["jid"] == "room@conf.localhost"


def test_keyedByQualifiedName():
    """Elements are stored under {namespace}name, separately from each other."""
    sm = makePrivate()
    ask(sm, privateIQ("set", (NS_BOOKMARKS, "storage", {"jid": "a@conf"}),
                      ("exodus:prefs", "exodus", {})))
    assert set(k for u, k in sm.storage.private.data if u == "alice") == {
        "{storage:bookmarks}storage", "{exodus:prefs}exodus"}
    assert storageKey(storedChild(ask(sm, privateIQ("get", ("exodus:prefs", "exodus", {}))))) \
        == "{exodus:prefs}exodus"


def test_explicitOwnBareJID():
    """Addressing one's own bare JID is the same as no 'to'."""
    sm = makePrivate()
    reply = ask(sm, privateIQ("get", (NS_BOOKMARKS, "storage", {}), to="alice@localhost"))
    assert reply["type"] == "result"


def test_otherUserForbidden():
    """Getting or setting another user's private XML is forbidden."""
    sm = makePrivate()
    for type in ("get", "set"):
        reply = ask(sm, privateIQ(type, (NS_BOOKMARKS, "storage", {}), to="bob@localhost"))
        assert errorOf(reply) == ("forbidden", "403", "auth")
    assert sm.storage.private.data == {}


def test_serverForbidden():
    """Private XML addressed to the server's domain is forbidden."""
    reply = ask(makePrivate(), privateIQ("get", (NS_BOOKMARKS, "storage", {}), to="localhost"))
    assert errorOf(reply)[0] == "forbidden"


def test_emptyQueryNotAcceptable():
    """A query with no child element is not-acceptable (406)."""
    reply = ask(makePrivate(), privateIQ("set"))
    assert errorOf(reply) == ("not-acceptable", "406", "modify")


def test_reservedNamespaceNotAcceptable():
    """jabber:* and vcard-temp namespaces are refused, on set and get."""
    sm = makePrivate()
    for type, uri in (("set", "jabber:iq:roster"), ("get", "vcard-temp"),
                      ("set", "http://jabber.org/protocol/muc")):
        reply = ask(sm, privateIQ(type, (uri, "x", {})))
        assert errorOf(reply)[0] == "not-acceptable"
    assert sm.storage.private.data == {}


def test_inheritedNamespaceNotAcceptable():
    """A child without its own namespace inherits jabber:iq:private: refused."""
    reply = ask(makePrivate(), privateIQ("set", (NS_PRIVATE, "prefs", {})))
    assert errorOf(reply)[0] == "not-acceptable"


def test_tooLarge():
    """An element over the size limit is refused and nothing is stored."""
    sm = makePrivate(maxSize=100)
    reply = ask(sm, privateIQ("set", ("small:ns", "a", {}),
                              (NS_BOOKMARKS, "storage", {"jid": "x" * 200})))
    assert errorOf(reply) == ("policy-violation", "406", "modify")
    assert sm.storage.private.data == {}
