# -*- test-case-name: tests.sm.test_offline -*-
"""
Offline messages (XEP-0160; RFC 6121 section 8.5.2.2), the session
manager's side: the messages themselves are kept by a component, the
offline store (C{components.offline}), so the store can run in process or
in its own process with a configuration change only.

 - A chat or normal message for an existing account with no available
   resource (the L{MessageHandler.offline} hook) is forwarded to the store
   in a private iq (C{urn:xmpp:jabberd:offline:0}, see
   L{components.offline.handler}).  The store answers only once the
   message is committed to disk; then the message counts as accepted.  An
   error (the recipient's quota is full), no answer within L{timeout}, or
   no store reachable, and the sender gets C{service-unavailable}, as if
   there were no offline storage (after a timeout the store may still
   commit it: a bounced message may then be delivered after all, but an
   accepted one is never lost).
 - On a session's initial presence with a non-negative priority (XEP-0160
   section 3) the store is asked to deliver the stored messages to that
   resource, from their original senders, with delay stamps.  A session
   that used XEP-0013 flexible retrieval (disco#items of the offline node,
   or an C{<offline/>} request) before its initial presence is not
   flooded (XEP-0013 section 2.3).  XEP-0013 is answered by the component
   the C{http://jabber.org/protocol/offline} namespace is delegated to
   (XEP-0355, L{jabberd.sm.delegation}); the disco requests of the offline
   node, which are not in that namespace, are forwarded to it here in the
   same delegation wrapper.

Which component is the store: C{[server] offline_store = DOMAIN}, or else
the component whose C{plugin} is C{offline}.  Without one, messages for
offline users bounce (RFC 6121 section 8.5.2.2 allows either).
"""

from twisted.words.protocols.jabber.error import exceptionFromStanza
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from jabberd.component.delegation import stanzaErrorOf, unwrap, wrap
from jabberd.error import StanzaError
from jabberd.handler import Handler, Stage
from jabberd.jidutil import bareOf, parseJID
from jabberd.logs import Logger
from jabberd.ns import (NS_DISCO_INFO, NS_DISCO_ITEMS, NS_FORWARD, NS_MSGOFFLINE, NS_OFFLINE,
                        NS_OFFLINE_STORE)
from jabberd.sm.delegation import delegatesOf
from jabberd.sm.iqrequests import IQRequests
from jabberd.stanza import firstChild

__all__ = ["OfflineHandler", "offlineComponent", "StoreTimeout"]

_PLUGINS = ("offline", "components.offline")


def offlineComponent(config):
    """
    The domain of the offline store component for C{config}, or None: the
    C{[server] offline_store} key if set, else the first component section
    whose plugin is C{offline}.
    """
    if config is None:
        return None
    if config.server.offlineStore:
        return config.server.offlineStore
    for domain, component in config.components.items():
        if component.plugin in _PLUGINS:
            return domain
    return None


class StoreTimeout(Exception):
    """The offline store did not answer in time."""


class OfflineHandler(Handler):
    """
    Hand messages for offline users to the offline store component and
    have it deliver them on initial presence.  Its hooks run in the
    storage stage: after every other handler had the chance to deliver.

    @ivar component: the store component's domain, or None (no offline
        storage: the handler does nothing).
    @ivar flexibleDomain: the component XEP-0013 is delegated to (XEP-0355),
        or None.
    @ivar flexible: full JIDs of sessions that chose XEP-0013 retrieval.
    """

    log = Logger()
    handlerName = "offline"
    stage = Stage.STORAGE
    timeout = 30

    def __init__(self, component=None, flexibleDomain=None, clock=None):
        self.component = component
        self.flexibleDomain = flexibleDomain
        self.flexible = set()
        self.requests = IQRequests("offline", self.timeout, StoreTimeout, clock)

    @classmethod
    def fromConfig(cls, config, **kwargs):
        """The handler for the store and the XEP-0013 delegate C{config} names."""
        return cls(offlineComponent(config), delegatesOf(config).get(NS_OFFLINE), **kwargs)

    # --- requests to the store ---

    def request(self, payload, to=None):
        """
        Send C{payload} in an iq set to the store (or to C{to}); a Deferred
        firing with the result iq, or failing with the L{StanzaError} of
        the reply or L{StoreTimeout}.
        """
        iq = domish.Element((None, "iq"))
        iq["type"] = "set"
        iq["from"], iq["to"] = self.host.domain, to or self.component
        iq.addChild(payload)
        d = self.requests.send(self.send, iq)
        d.addCallback(_resultOrFailure)
        return d

    def onInbound(self, stanza):
        """
        Take the answers to our requests, and forward a user's disco of
        the offline node (XEP-0013 sections 2.2, 2.3); leave the rest.
        """
        if stanza.name != "iq":
            return False
        if stanza.getAttribute("type") == "get":
            return self._offlineNodeQuery(stanza)
        return self.requests.answer(stanza)

    # --- storing ---

    def onUndeliverable(self, message):
        """
        Offer C{message} to the store: a Deferred firing True once it is
        committed, False if it was refused or the store is unreachable.
        """
        if self.component is None:
            return False
        payload = domish.Element((NS_OFFLINE_STORE, "store"))
        forwarded = payload.addElement((NS_FORWARD, "forwarded"))
        # Appended, not adopted: the message stays the sender's stanza.
        forwarded.children.append(message)
        d = self.request(payload)
        d.addCallbacks(self._stored, self._notStored, (message,), None, (message,))
        return d

    def _stored(self, _result, message):
        # The recipient may have come online while the message was stored.
        recipient = parseJID(message.getAttribute("to") or "")
        session = recipient and self._deliveryTarget(recipient.userhost())
        if session is not None:
            self.deliverTo(session)
        return True

    def _notStored(self, failure, message):
        self.log.info("offline store refused a message for {to}: {error}",
                      to=message.getAttribute("to"), error=failure.getErrorMessage())
        return False

    def _deliveryTarget(self, bare):
        """The available session of C{bare} that gets a flood, or None."""
        best = None
        for session in self.host.sessionsOf(bare):
            if (session.available and session.priority >= 0
                    and session.full not in self.flexible
                    and (best is None or session.priority > best.priority)):
                best = session
        return best

    # --- delivery on initial presence ---

    def sessionAvailable(self, session):
        """Initial presence: the stored messages go to this resource."""
        if self.component is None or session.priority < 0 or session.full in self.flexible:
            return
        self.deliverTo(session)

    def deliverTo(self, session):
        """Ask the store to send C{session} the user's stored messages."""
        payload = domish.Element((NS_OFFLINE_STORE, "deliver"))
        payload["jid"] = session.full
        d = self.request(payload)
        d.addErrback(lambda f: self.log.warn(
            "offline messages for {jid} not delivered: {error}",
            jid=session.full, error=f.getErrorMessage()))
        return d

    # --- XEP-0013 ---

    def onOutbound(self, session, stanza):
        """Note a session using XEP-0013 before its initial presence: no flood."""
        if stanza.name == "iq" and not session.available and _isFlexible(stanza):
            self.flexible.add(session.full)
        return False

    def sessionEnded(self, session):
        """The session is gone: forget its choice of XEP-0013 retrieval."""
        self.flexible.discard(session.full)

    def _offlineNodeQuery(self, iq):
        """
        A user's disco#info or disco#items of the offline node of their own
        account goes, delegated, to the XEP-0013 component.
        """
        query = firstChild(iq)
        if (query is None or query.getAttribute("node") != NS_OFFLINE
                or query.uri not in (NS_DISCO_INFO, NS_DISCO_ITEMS)
                or not self._ownAccount(iq)):
            return False
        domain = self.flexibleDomain
        if domain is None:
            return False
        d = self.request(wrap(iq), domain)
        d.addCallbacks(self._nodeAnswered, self._nodeFailed, (iq,), None, (iq,))
        return True

    def _ownAccount(self, iq):
        sender = parseJID(iq.getAttribute("from") or "")
        if sender is None or sender.user is None or not self.host.isLocal(sender.host):
            return False
        to = iq.getAttribute("to")
        return not to or self.host.isLocal(to) or bareOf(to) == sender.userhost()

    def _nodeAnswered(self, answer, iq):
        inner = unwrap(answer)
        if inner is None or inner.getAttribute("type") not in ("result", "error"):
            self.send(StanzaError("internal-server-error").toResponse(iq))
        elif inner["type"] == "error":
            self.send(stanzaErrorOf(inner).toResponse(iq))
        else:
            reply = toResponse(iq, "result")
            payload = firstChild(inner)
            if payload is not None:
                reply.addChild(payload)
            self.send(reply)

    def _nodeFailed(self, failure, iq):
        error = failure.value if failure.check(StanzaError) else StanzaError(
            "service-unavailable", text="offline storage did not answer")
        self.send(error.toResponse(iq))

    def discoFeatures(self, target, node):
        """XEP-0160 section 4: the server stores offline messages."""
        if node or target.user is not None or self.component is None:
            return []
        return [NS_MSGOFFLINE]


def _resultOrFailure(answer):
    """A result iq as is; an error iq as the failure of its L{StanzaError}."""
    if answer.getAttribute("type") == "error":
        raise exceptionFromStanza(answer)
    return answer


def _isFlexible(iq):
    """Whether C{iq} is a XEP-0013 request that asks for headers or messages."""
    for payload in iq.elements():
        if payload.uri == NS_OFFLINE:
            return True
        return payload.uri == NS_DISCO_ITEMS and payload.getAttribute("node") == NS_OFFLINE
    return False
