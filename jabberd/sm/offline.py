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
   there were no offline storage.
 - On a session's initial presence with a non-negative priority (XEP-0160
   section 3) the store is asked to deliver the stored messages to that
   resource, from their original senders, with delay stamps.  A session
   that used XEP-0013 flexible retrieval (disco#items of the offline node,
   or an C{<offline/>} request) before its initial presence is not
   flooded (XEP-0013 section 2.3); it retrieves through XEP-0013, which the
   store answers as a delegated namespace (XEP-0355).

Which component is the store: C{[server] offline_store = DOMAIN}, or else
the component whose C{plugin} is C{offline}.  Without one, messages for
offline users bounce (RFC 6121 section 8.5.2.2 allows either).
"""

import itertools

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.error import exceptionFromStanza
from twisted.words.xish import domish

from jabberd.handler import Handler
from jabberd.jidutil import bareOf
from jabberd.ns import (NS_DISCO_ITEMS, NS_FORWARD, NS_MSGOFFLINE, NS_OFFLINE,
                        NS_OFFLINE_STORE)
from jabberd.sm.message import MessageHandler
from jabberd.sm.presence import PresenceHandler

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
    explicit = config.sections.get("server", {}).get("offline_store", "").strip().lower()
    if explicit:
        return explicit
    for domain, component in config.components.items():
        if component.plugin in _PLUGINS:
            return domain
    return None


class StoreTimeout(Exception):
    """The offline store did not answer in time."""


class OfflineHandler(Handler):
    """
    Hand messages for offline users to the offline store component and
    have it deliver them on initial presence.

    @ivar component: the store component's domain, or None (no offline
        storage: the handler does nothing).
    @ivar timeout: seconds to wait for the store's answer to a request.
    @ivar flexible: full JIDs of sessions that chose XEP-0013 retrieval.
    """

    log = Logger()
    timeout = 30

    def __init__(self, component=None, clock=None):
        if clock is None:
            from twisted.internet import reactor as clock
        self.component = component
        self.clock = clock
        self.flexible = set()
        self._pending = {}
        self._ids = itertools.count(1)

    def setHost(self, host):
        """Attach, and plug into message delivery and initial presence."""
        Handler.setHost(self, host)
        if self.component is None:
            return
        messages = host.handlerOf(MessageHandler)
        if messages is not None:
            messages.offline = self.store
        presence = host.handlerOf(PresenceHandler)
        if presence is not None:
            presence.availableObservers.append(self.sessionAvailable)

    # --- requests to the store ---

    def request(self, payload):
        """
        Send C{payload} to the store in an iq set; a Deferred firing with
        the result iq, or failing with the L{StanzaError} of the reply or
        L{StoreTimeout}.
        """
        iq = domish.Element((None, "iq"))
        iq["type"], iq["id"] = "set", f"offline-{next(self._ids)}"
        iq["from"], iq["to"] = self.host.domain, self.component
        iq.addChild(payload)
        d = defer.Deferred()
        call = self.clock.callLater(self.timeout, self._expire, iq["id"])
        self._pending[iq["id"]] = (d, call)
        self.send(iq)
        return d

    def _expire(self, iqId):
        d, _call = self._pending.pop(iqId)
        d.errback(StoreTimeout(self.component))

    def onInbound(self, stanza):
        """Take the store's answers to our requests; leave everything else."""
        if stanza.name != "iq" or stanza.getAttribute("type") not in ("result", "error"):
            return False
        pending = self._pending.get(stanza.getAttribute("id"))
        if pending is None or stanza.getAttribute("from") != self.component:
            return False
        del self._pending[stanza["id"]]
        d, call = pending
        call.cancel()
        if stanza["type"] == "result":
            d.callback(stanza)
        else:
            d.errback(exceptionFromStanza(stanza))
        return True

    # --- storing (the MessageHandler.offline hook) ---

    def store(self, message):
        """
        Offer C{message} to the store: a Deferred firing True once it is
        committed, False if it was refused or the store is unreachable.
        """
        payload = domish.Element((NS_OFFLINE_STORE, "store"))
        forwarded = payload.addElement((NS_FORWARD, "forwarded"))
        # Appended, not adopted: the message stays the sender's stanza.
        forwarded.children.append(message)
        d = self.request(payload)
        d.addCallbacks(self._stored, self._notStored, (message,), None, (message,))
        return d

    def _stored(self, _result, message):
        # The recipient may have come online while the message was stored.
        session = self._deliveryTarget(bareOf(message.getAttribute("to")))
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
        if session.priority < 0 or session.full in self.flexible:
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

    # --- XEP-0013: no flood for clients that retrieve by themselves ---

    def onOutbound(self, session, stanza):
        """Note a session using XEP-0013 before its initial presence."""
        if stanza.name == "iq" and not session.available and _isFlexible(stanza):
            self.flexible.add(session.full)
        return False

    def sessionEnded(self, session):
        self.flexible.discard(session.full)

    def discoFeatures(self, target, node):
        """XEP-0160 section 4 (and XEP-0013 section 2.1), for the server."""
        if node or target.user is not None or self.component is None:
            return []
        return [NS_MSGOFFLINE, NS_OFFLINE]


def _isFlexible(iq):
    """Whether C{iq} is a XEP-0013 request that asks for headers or messages."""
    for payload in iq.elements():
        if payload.uri == NS_OFFLINE:
            return True
        return payload.uri == NS_DISCO_ITEMS and payload.getAttribute("node") == NS_OFFLINE
    return False
