# -*- test-case-name: tests.s2s.test_inbound -*-
"""
The receiving end of a server-to-server stream (RFC 6120 sections 4, 5
and 10.4; XEP-0220).

The peer opens a C{jabber:server} stream to one of our domains (any domain
the router serves: the local domains and components, else C{host-unknown}).
We offer STARTTLS (C{<required/>} under C{[s2s] require_tls}) and dialback.
A C{<db:result/>} asks us to accept stanzas from one domain to one of ours:
its key is checked with that domain's authoritative server
(L{S2SService.verifyKey}) and answered C{valid} or C{invalid}.  Only pairs
answered C{valid} may carry stanzas; one from any other domain ends the
stream with C{invalid-from} (section 4.9.3.9), so a peer cannot speak for
a domain it did not prove.  A C{<db:verify/>} asks us, as the authoritative
server, whether a key we made is right.
"""

import secrets

from jabberd.dispatch import handles
from jabberd.jidutil import domainOf, parseJID
from jabberd.ns import NS_DIALBACK, NS_SERVER, NS_STREAMS, NS_TLS
from jabberd.s2s import dialback
from jabberd.s2s.stream import ServerStream, parseVersion
from jabberd.stanza import toClientNamespace
from twisted.words.xish import domish

__all__ = ["InboundStream"]


def _domainName(address):
    """C{address} if it is a bare, valid domain (nameprep'd), else None."""
    jid = parseJID(address or "")
    if jid is None or jid.user is not None or jid.resource is not None:
        return None
    return jid.host


class InboundStream(ServerStream):
    """
    @ivar service: the L{S2SService}.
    @ivar authorized: (originating, receiving) domain pairs dialback proved.
    """

    initiating = False

    def __init__(self, factory):
        self.clock = factory.clock
        ServerStream.__init__(self)
        self.factory = factory
        self.service = factory.service
        self.maxStanzaSize = self.service.maxStanzaSize
        self.parserLimits = self.service.parserLimits
        self.authorized = set()
        self._deadline = None

    def connectionMade(self):
        ServerStream.connectionMade(self)
        self.factory.streams.add(self)
        peer = self.transport.getPeer()
        refused = self.factory.limiter.admit(getattr(peer, "host", str(peer)), self)
        if refused is not None:
            self.closeWithError(refused, "too many connections")
            return
        # A peer that proves no domain in time does not keep a connection.
        self._deadline = self.factory.clock.callLater(
            self.service.connectTimeout * 2, self._negotiationTimedOut)

    def _negotiationTimedOut(self):
        self._deadline = None
        if not self.authorized:
            self.closeWithError("connection-timeout")

    def connectionLost(self, reason):
        self.factory.streams.discard(self)
        self.factory.limiter.release(self)
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None
        ServerStream.connectionLost(self, reason)

    def onDocumentStart(self, root):
        self.sid = secrets.token_hex(12)
        condition = self.checkHeader(root)
        self.send(self.headerText(self.local or self.service.defaultDomain,
                                  self.remote, self.sid))
        self._headerSent = True
        if condition is not None:
            self.closeWithError(condition)
        elif self.version >= (1, 0):
            self.send(self.featuresElement())
        elif self.service.requireTLS:
            # A pre-1.0 peer cannot see STARTTLS offered (RFC 6120 4.7.5).
            self.closeWithError("policy-violation", "TLS is required")

    def checkHeader(self, root):
        """Validate the peer's header; a stream error condition, or None."""
        self.version = min(parseVersion(root.getAttribute("version")), (1, 0))
        if (root.uri, root.name) != (NS_STREAMS, "stream") or root.defaultUri != NS_SERVER:
            return "invalid-namespace"
        to = _domainName(root.getAttribute("to"))
        if to is None or not self.service.hosts(to):
            return "host-unknown"
        if self.local is not None and to != self.local:
            return "host-unknown"  # a restart may not change the domain
        self.local = to
        self.remote = _domainName(root.getAttribute("from")) or self.remote
        return None

    def featuresElement(self):
        features = domish.Element((NS_STREAMS, "features"))
        if not self.secure and self.factory.contextFactory is not None:
            starttls = features.addElement((NS_TLS, "starttls"))
            if self.service.requireTLS:
                starttls.addElement("required")
        features.addChild(dialback.feature())
        return features

    @handles(NS_TLS, "starttls")
    def onStartTLS(self, element):
        """RFC 6120 section 5.4.2: proceed, switch to TLS, wait for the new header."""
        if self.secure or self.factory.contextFactory is None:
            self.send(domish.Element((NS_TLS, "failure")))
            self.closeStream()
            return
        self.send(domish.Element((NS_TLS, "proceed")))
        self.transport = self.factory.startTLS(self.transport, self)
        self.secure = True
        self.reset()

    @handles(NS_DIALBACK, "result")
    def onResult(self, element):
        """XEP-0220 section 2.1.2: verify the key, then answer valid or invalid (2.4)."""
        if element.getAttribute("type"):
            return  # answers travel on streams we open, never on this one
        originating = _domainName(element.getAttribute("from"))
        receiving = _domainName(element.getAttribute("to"))
        if originating is None or receiving is None:
            self.closeWithError("improper-addressing")
            return
        if self.service.hosts(originating):
            self.closeWithError("invalid-from", "that domain is served here")
            return
        if self.service.requireTLS and not self.secure:
            self.closeWithError("policy-violation", "TLS is required before dialback")
            return
        if not self.service.hosts(receiving):
            self.send(dialback.withError(dialback.result(receiving, originating),
                                         "item-not-found"))
            return
        d = self.service.verifyKey(receiving, originating, self.sid, str(element))
        d.addCallbacks(self._verified, self._unverifiable,
                       callbackArgs=(originating, receiving),
                       errbackArgs=(originating, receiving))

    def _verified(self, valid, originating, receiving):
        if self.closing:
            return
        if valid:
            self.authorized.add((originating, receiving))
            self.remote = self.remote or originating
            self.log.info("s2s: {remote} may send to {local}", remote=originating,
                          local=receiving)
        else:
            self.log.warn("s2s: {remote} sent a dialback key its server denies",
                          remote=originating)
        self.send(dialback.result(receiving, originating,
                                  type="valid" if valid else "invalid"))

    def _unverifiable(self, failure, originating, receiving):
        if self.closing:
            return
        if getattr(failure.value, "condition", None) == "resource-constraint":
            # Too many checks under way here (logged by the service, not
            # once per claim): the peer may try again later.
            self.send(dialback.withError(dialback.result(receiving, originating),
                                         "resource-constraint", "wait"))
            return
        self.log.info("s2s: cannot verify {remote}: {why}", remote=originating,
                      why=failure.getErrorMessage())
        self.send(dialback.withError(dialback.result(receiving, originating),
                                     "remote-server-not-found"))

    @handles(NS_DIALBACK, "verify")
    def onVerify(self, element):
        """XEP-0220 section 2.3: as authoritative server, say whether our key is right."""
        asker = _domainName(element.getAttribute("from"))
        ours = _domainName(element.getAttribute("to"))
        streamID = element.getAttribute("id")
        if asker is None or ours is None or not streamID:
            self.closeWithError("improper-addressing")
            return
        answer = dialback.verify(ours, asker, streamID)
        if not self.service.hosts(ours):
            self.send(dialback.withError(answer, "item-not-found"))
            return
        valid = dialback.keyMatches(self.service.secret, asker, ours, streamID, str(element))
        answer["type"] = "valid" if valid else "invalid"
        self.send(answer)

    def onStanza(self, stanza):
        """A stanza from the peer: only from and to a pair dialback proved."""
        toClientNamespace(stanza, (NS_SERVER,), skipPayloads=True)
        sender, to = stanza.getAttribute("from"), stanza.getAttribute("to")
        if not sender or not to:
            self.closeWithError("improper-addressing")
            return
        if (domainOf(sender), domainOf(to)) not in self.authorized:
            self.closeWithError("invalid-from")
            return
        if parseJID(sender) is None or parseJID(to) is None:
            # No answer can go back: this stream carries the peer's stanzas only.
            self.log.info("s2s: dropped a {name} with a malformed address from {remote}",
                          name=stanza.name, remote=self.remote)
            return
        self.service.router.route(stanza)
