# -*- test-case-name: tests.components.offline.test_offline_handler -*-
"""
The offline store's side of its private protocol with the session manager
(C{urn:xmpp:jabberd:offline:0}; the other side is L{jabberd.sm.offline}).
Only the server's own domains may use it.

Store (XEP-0160 section 3, RFC 6121 section 8.5.2.2)::

    <iq type='set' from='localhost' to='offline.localhost' id='o1'>
      <store xmlns='urn:xmpp:jabberd:offline:0'>
        <forwarded xmlns='urn:xmpp:forward:0'>
          <message xmlns='jabber:client' from='alice@localhost/a' to='bob@localhost'>...
        </forwarded>
      </store>
    </iq>

is answered with an empty result only once the message is committed to
storage, so the sender's server never reports as stored what a crash could
lose; a full spool (the C{quota}) answers C{resource-constraint}.

Deliver (XEP-0160 section 3, on the user's initial presence)::

    <iq type='set' from='localhost' to='offline.localhost' id='o2'>
      <deliver xmlns='urn:xmpp:jabberd:offline:0' jid='bob@localhost/res'/>
    </iq>

sends every stored message to that resource, oldest first, from its
original sender (the component must be C{trusted}) with delay stamps, then
forgets them and answers C{<deliver count='N'/>}.
"""

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqSet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_FORWARD, NS_OFFLINE_STORE
from jabberd.stanza import firstChild
from components.offline.spool import QuotaExceeded
from components.offline.stanzas import forDelivery, forStorage

__all__ = ["StoreHandler"]

# XEP-0160 section 3: these are never stored (RFC 6121 section 8.5.2.2).
_NOT_KEPT = frozenset(("groupchat", "headline", "error"))


class StoreHandler(IQHandler):
    """
    Store and deliver offline messages for the session manager.

    @ivar spool: the L{components.offline.spool.OfflineSpool}.
    @ivar serverDomains: the domains whose session manager may use this.
    """

    def __init__(self, spool, serverDomains):
        self.spool = spool
        self.serverDomains = frozenset(d.lower() for d in serverDomains)

    @iqSet(NS_OFFLINE_STORE)
    def onRequest(self, iq):
        """A store or deliver request (the host indexes iqs by namespace only)."""
        if (iq.getAttribute("from") or "").lower() not in self.serverDomains:
            raise StanzaError("forbidden", text="Only the server may use the offline store")
        request = firstChild(iq)
        if request.name == "store":
            return self.store(request)
        if request.name == "deliver":
            return self.deliver(request)
        raise StanzaError("feature-not-implemented")

    def store(self, request):
        """Commit the forwarded message; the empty result says it is durable."""
        message = _forwardedMessage(request)
        recipient = parseJID(message.getAttribute("to") or "")
        if recipient is None or recipient.user is None \
                or recipient.host not in self.serverDomains:
            raise StanzaError("bad-request", text="The message is not for a local user")
        if message.getAttribute("type") in _NOT_KEPT:
            raise StanzaError("not-acceptable", text="Only chat and normal messages are kept")
        xml, stamp = forStorage(message, self.serverDomains)
        d = self.spool.store(recipient.user, xml, stamp)
        d.addCallbacks(lambda _id: None, _quotaError)
        return d

    def deliver(self, request):
        """Send the user's messages to the resource named, then forget them."""
        to = parseJID(request.getAttribute("jid") or "")
        if to is None or to.user is None or to.resource is None \
                or to.host not in self.serverDomains:
            raise StanzaError("bad-request", text="Expected the full JID of a local user")
        full = to.full()
        d = self.spool.drain(to.user, lambda stored: self._deliver(stored, full))
        d.addCallback(_deliverResult)
        return d

    def _deliver(self, stored, full):
        try:
            message = forDelivery(stored, full)
        except ValueError as e:
            self.log.warn("dropping unreadable offline message {id}: {error}",
                          id=stored.id, error=e)
            return
        self.send(message)


def _forwardedMessage(store):
    forwarded = firstChild(store, NS_FORWARD, "forwarded")
    message = firstChild(forwarded, name="message") if forwarded is not None else None
    if message is not None:
        return message
    raise StanzaError("bad-request", text="Expected a forwarded message")


def _quotaError(failure):
    failure.trap(QuotaExceeded)
    raise StanzaError("resource-constraint", type="wait",
                      text="The recipient's offline storage is full")


def _deliverResult(count):
    deliver = domish.Element((NS_OFFLINE_STORE, "deliver"))
    deliver["count"] = str(count)
    return deliver
