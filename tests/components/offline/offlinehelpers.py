"""
Fixtures for the offline store component tests: the component's host on
MemoryStorage (which answers at once) with its output collected in a list,
and builders for the iqs the session manager and users send it.
"""

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.words.xish import domish

import components.offline
from jabberd.config import ComponentConfig, parse
from jabberd.component.delegation import wrap
from jabberd.ns import NS_CLIENT, NS_FORWARD, NS_OFFLINE_STORE, NS_XMPP_STANZAS
from jabberd.storage.memory import MemoryOfflineStore, MemoryStorage

DOMAIN = "offline.localhost"


def makeHost(storage=None, **options):
    """The offline component's host; C{host.sent} collects what it sends."""
    storage = storage if storage is not None else MemoryStorage()
    component = ComponentConfig(domain=DOMAIN, plugin="offline", trusted=True,
                                options=options)
    host = components.offline.makeHost(parse(""), component, storage)
    host.sent = []
    host.output = host.sent.append
    host.storage = storage
    return host


def result(d):
    """The result of a fired Deferred, re-raising its failure."""
    out = []
    d.addBoth(out.append)
    assert out, "Deferred has not fired"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    return out[0]


def chat(body="hi", to="bob@localhost", sender="alice@localhost/home", kind="chat",
         children=()):
    """A message as the session manager sees it (jabber:client)."""
    message = domish.Element((NS_CLIENT, "message"))
    message["from"], message["to"], message["id"] = sender, to, "m-" + body
    if kind:
        message["type"] = kind
    message.addElement("body", content=body)
    for child in children:
        message.addChild(child)
    return message


def storeIQ(message, sender="localhost"):
    """The session manager's store request for C{message}."""
    iq = _serverIQ(sender)
    iq.addElement((NS_OFFLINE_STORE, "store")).addElement(
        (NS_FORWARD, "forwarded")).addChild(message)
    return iq


def deliverIQ(jid, sender="localhost"):
    """The session manager's request to deliver to the resource C{jid}."""
    iq = _serverIQ(sender)
    iq.addElement((NS_OFFLINE_STORE, "deliver"))["jid"] = jid
    return iq


def _serverIQ(sender):
    iq = domish.Element((NS_CLIENT, "iq"))
    iq["type"], iq["id"], iq["from"], iq["to"] = "set", "s1", sender, DOMAIN
    return iq


def delegated(inner, server="localhost"):
    """C{inner}, a user's iq, delegated by the server as XEP-0355 wraps it."""
    iq = _serverIQ(server)
    iq["id"] = "d1"
    iq.addChild(wrap(inner))
    return iq


def userIQ(iqType, uri, name, sender="bob@localhost/phone", to=None, **attrs):
    """A user's iq with one payload element; returns (iq, payload)."""
    iq = domish.Element((NS_CLIENT, "iq"))
    iq["type"], iq["id"], iq["from"] = iqType, "u1", sender
    if to:
        iq["to"] = to
    payload = iq.addElement((uri, name))
    for key, value in attrs.items():
        payload[key] = value
    return iq, payload


def ask(host, iq):
    """Feed C{iq} to C{host}; return (everything it sent before the reply, the reply)."""
    before = len(host.sent)
    host.receive(iq)
    sent = host.sent[before:]
    replies = [s for s in sent if s.name == "iq" and s.getAttribute("id") == iq["id"]]
    assert len(replies) == 1, [s.toXml() for s in sent]
    return [s for s in sent if s is not replies[0]], replies[0]


def condition(stanza):
    """The defined error condition of an error stanza."""
    assert stanza["type"] == "error", stanza.toXml()
    error = next(c for c in stanza.elements() if c.name == "error")
    return next(c.name for c in error.elements(NS_XMPP_STANZAS) if c.name != "text")


def stored(host, username="bob"):
    """What the store holds for C{username} right now (even on L{SlowStorage})."""
    return result(MemoryOfflineStore.list(host.storage.offline, username))


class SlowOfflineStore(MemoryOfflineStore):
    """An offline store whose calls answer only on L{flush}, like a thread pool."""

    def __init__(self):
        MemoryOfflineStore.__init__(self)
        self.queue = []

    def _later(self, method, *args):
        d = defer.Deferred()
        self.queue.append((d, method, args))
        return d

    def store(self, *args):
        return self._later(MemoryOfflineStore.store, *args)

    def count(self, *args):
        return self._later(MemoryOfflineStore.count, *args)

    def list(self, *args):
        return self._later(MemoryOfflineStore.list, *args)

    def remove(self, *args):
        return self._later(MemoryOfflineStore.remove, *args)

    def flush(self):
        """Answer every call, including those made while answering, in order."""
        while self.queue:
            d, method, args = self.queue.pop(0)
            d.callback(result(method(self, *args)))


class SlowStorage(MemoryStorage):
    """A memory storage whose offline store is a L{SlowOfflineStore}."""

    def __init__(self):
        MemoryStorage.__init__(self)
        self.offline = SlowOfflineStore()
        self.queue = self.offline.queue

    def flush(self):
        """Answer every offline call, including those made while answering, in order."""
        self.offline.flush()
