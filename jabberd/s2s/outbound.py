# -*- test-case-name: tests.s2s.test_outbound -*-
"""
The initiating end of a server-to-server stream (RFC 6120 sections 4, 5
and 10.4; XEP-0220).

We open a C{jabber:server} stream from one of our domains to a remote one,
take STARTTLS when offered (and give up when C{[s2s] require_tls} is on and
it is not), then either

 - prove our domain with a dialback key (C{<db:result/>}, XEP-0220 section
   2.1.1) and, once the peer answers C{valid}, carry our stanzas to it; or
 - as the receiving server checking someone's key, ask the remote domain's
   authoritative server about it (C{<db:verify/>}, section 2.2) and close.

The stream reports to an owner (L{S2SService}): C{outboundReady},
C{outboundFailed}, and for a verification the Deferred it was given.
"""

from twisted.internet import protocol
from twisted.words.xish import domish

from jabberd.dispatch import handles
from jabberd.ns import NS_DIALBACK, NS_SERVER, NS_STREAMS, NS_TLS
from jabberd.s2s import dialback
from jabberd.s2s.stream import ServerStream, parseVersion

__all__ = ["OutboundStream", "OutboundFactory", "VerifyRequest"]


class VerifyRequest:
    """
    A key to check with an authoritative server (XEP-0220 section 2.2).

    @ivar streamID: the id of our inbound stream the key came on.
    @ivar deferred: fires with True (valid) or False (invalid), or fails
        with L{S2SError} when no answer comes.
    """

    def __init__(self, streamID, key, deferred):
        self.streamID, self.key, self.deferred = streamID, key, deferred

    def answer(self, valid):
        if not self.deferred.called:  # not given up on (a timeout) already
            self.deferred.callback(valid)

    def fail(self, error):
        if not self.deferred.called:
            self.deferred.errback(error)


class S2SError(Exception):
    """A server-to-server stream could not be set up; C{condition} says why."""

    def __init__(self, condition, text=""):
        Exception.__init__(self, f"{condition}: {text}" if text else condition)
        self.condition = condition


class OutboundStream(ServerStream):
    """
    @ivar owner: told about the outcome (L{S2SService}).
    @ivar request: the L{VerifyRequest} of a verification stream until it is answered.
    @ivar verifying: whether this is a verification stream.
    @ivar ready: whether dialback said C{valid} and stanzas may flow.
    """

    initiating = True

    def __init__(self, owner, local, remote, request=None):
        self.clock = owner.clock
        ServerStream.__init__(self)
        self.owner = owner
        self.local, self.remote = local, remote
        self.maxStanzaSize = owner.maxStanzaSize
        self.parserLimits = owner.parserLimits
        self.request = request
        self.verifying = request is not None
        self.ready = False
        self.failure = None

    def connectionMade(self):
        ServerStream.connectionMade(self)
        self.sendHeader()

    def sendHeader(self):
        self.send(self.headerText(self.local, self.remote))
        self._headerSent = True

    def onDocumentStart(self, root):
        if (root.uri, root.name) != (NS_STREAMS, "stream") or root.defaultUri != NS_SERVER:
            self.fail("invalid-namespace", "the peer's stream is not jabber:server")
            return
        self.sid = root.getAttribute("id")
        self.version = min(parseVersion(root.getAttribute("version")), (1, 0))
        if not self.sid:
            self.fail("undefined-condition", "the peer's header has no stream id")
        elif self.version < (1, 0):
            self.onFeatures(None)  # no features before XMPP 1.0: dialback at once

    @handles(NS_STREAMS, "features")
    def onFeatures(self, features):
        offered = features is not None and any(
            (child.uri, child.name) == (NS_TLS, "starttls") for child in features.elements())
        if offered and not self.secure and self.owner.clientTLS is not None:
            self.send(domish.Element((NS_TLS, "starttls")))
        elif not self.secure and self.owner.requireTLS:
            self.fail("policy-violation", f"{self.remote} offers no TLS")
        else:
            self.authenticate()

    @handles(NS_TLS, "proceed")
    def onProceed(self, element):
        """RFC 6120 section 5.4.3.3: TLS, then a new stream on top of it."""
        self.transport.startTLS(self.owner.clientTLS)
        self.secure = True
        self.reset()
        self.sendHeader()

    @handles(NS_TLS, "failure")
    def onTLSFailure(self, element):
        self.fail("policy-violation", f"{self.remote} refused TLS")

    def authenticate(self):
        """Send our key (2.1.1), or the key to be checked (2.2)."""
        if not self.verifying:
            key = dialback.dialbackKey(self.owner.secret, self.remote, self.local, self.sid)
            self.send(dialback.result(self.local, self.remote, key))
        else:
            self.send(dialback.verify(self.local, self.remote, self.request.streamID,
                                      self.request.key))

    @handles(NS_DIALBACK, "result")
    def onResult(self, element):
        """The peer's answer to our key (XEP-0220 section 2.4)."""
        if self.verifying or self.ready:
            return
        kind = element.getAttribute("type")
        if kind == "valid":
            self.ready = True
            self.owner.outboundReady(self)
        elif kind == "invalid":
            self.fail("not-authorized", f"{self.remote} did not accept our key")
        else:
            self.fail(dialback.errorCondition(element) or "undefined-condition",
                      f"{self.remote} could not check our key")

    @handles(NS_DIALBACK, "verify")
    def onVerify(self, element):
        """The authoritative server's answer (XEP-0220 section 2.3); then we are done."""
        request = self.request
        if request is None or element.getAttribute("id") != request.streamID:
            return
        self.request = None
        kind = element.getAttribute("type")
        if kind in ("valid", "invalid"):
            request.answer(kind == "valid")
        else:
            request.fail(S2SError(dialback.errorCondition(element) or "undefined-condition"))
        self.closeStream()

    def fail(self, condition, text=""):
        """Give up on this stream: the owner learns why, the connection closes."""
        if self.failure is None:
            self.failure = S2SError(condition, text)
        self.closeStream()

    def connectionLost(self, reason):
        ServerStream.connectionLost(self, reason)
        failure = self.failure or S2SError("remote-connection-failed",
                                           reason.getErrorMessage())
        if self.request is not None:
            request, self.request = self.request, None
            request.fail(failure)
        self.owner.outboundLost(self, failure)


class OutboundFactory(protocol.ClientFactory):
    """Makes the one L{OutboundStream} of a connection attempt; reports failed attempts."""

    noisy = False  # one per remote stream and per key check: no start/stop log lines

    def __init__(self, owner, local, remote, request=None):
        self.owner, self.local, self.remote, self.request = owner, local, remote, request
        self.stream = None

    def buildProtocol(self, addr):
        self.stream = OutboundStream(self.owner, self.local, self.remote, self.request)
        return self.stream

    def clientConnectionFailed(self, connector, reason):
        failure = S2SError("remote-server-not-found", reason.getErrorMessage())
        if self.request is not None:
            self.request.fail(failure)
        self.owner.connectFailed(self, failure)
