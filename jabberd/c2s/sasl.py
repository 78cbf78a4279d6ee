# -*- test-case-name: tests.c2s.test_sasl -*-
"""
SASL negotiation on a client stream (RFC 6120 section 6): the
C{<mechanisms/>} feature, C{<auth/>}, C{<challenge/>}/C{<response/>},
C{<abort/>}, C{<success/>} and C{<failure/>} with the section 6.5
conditions.  The mechanisms themselves are in L{jabberd.c2s.mechanisms}.

Policy: nothing is offered while TLS is required and missing (an attempt
gets C{encryption-required}); PLAIN only over TLS; the list and its order
come from C{[c2s] mechanisms}.  After C{maxAuthFailures} failures the
stream ends with C{policy-violation} (section 6.4.5).  Across streams, the
factory's L{jabberd.c2s.throttle.AuthThrottle} delays each step from an
address with too many recent failures, and the C{<failure/>} answer of a
wrong password (section 13.8: limit the rate of attempts).
"""

import base64
import binascii

from twisted.internet import task
from twisted.words.xish import domish

from jabberd.c2s.mechanisms import SASLFailure, Success, makeMechanism
from jabberd.c2s.negotiation import Negotiator
from jabberd.dispatch import handles
from jabberd.jidutil import parseJID
from jabberd.ns import NS_SASL

__all__ = ["SASLNegotiator", "clientAddress", "throttleOf", "whenAllowed"]


def throttleOf(stream):
    """The L{jabberd.c2s.throttle.AuthThrottle} of the stream's factory, or None."""
    return getattr(stream.factory, "throttle", None)


def clientAddress(stream):
    """The client's IP address (the HTTP peer's for BOSH and WebSocket), or None."""
    transport = stream.transport
    peer = transport.getPeer() if transport is not None else None
    return getattr(peer, "host", None)


def whenAllowed(stream, work, *args):
    """
    C{work(*args)} (returning a Deferred) once the client's address has
    waited out the delay its failed authentications earned
    (L{jabberd.c2s.throttle}); at once when it owes none.
    """
    throttle = throttleOf(stream)
    address = clientAddress(stream)
    if throttle is None or not throttle.waitFor(ip=address):
        return work(*args)
    d = throttle.gate(ip=address)
    d.addCallback(lambda _: work(*args))
    return d


class SASLNegotiator(Negotiator):
    """
    @ivar mechanism: the exchange in progress (a mechanism object), or None.
    """

    __slots__ = ("mechanism",)

    def __init__(self, stream):
        Negotiator.__init__(self, stream)
        self.mechanism = None

    def available(self):
        """The mechanism names usable on the stream now, in configured order."""
        stream = self.stream
        if stream.username is not None or stream.needsTLS:
            return []
        return [m for m in stream.config.c2s.mechanisms if m != "PLAIN" or stream.secure]

    def features(self):
        names = self.available()
        if not names:
            return ()
        mechanisms = domish.Element((NS_SASL, "mechanisms"))
        for name in names:
            mechanisms.addElement("mechanism", content=name)
        return (mechanisms,)

    def authenticatedAlready(self):
        """Once authenticated, a SASL element ends the stream; return whether it did."""
        if self.stream.username is None:
            return False
        self.stream.closeWithError("policy-violation", "already authenticated")
        return True

    @handles(NS_SASL, "auth")
    def onAuth(self, element):
        """Start an exchange with the requested mechanism (section 6.4.2)."""
        if self.authenticatedAlready():
            return None
        name = element.getAttribute("mechanism")
        if self.stream.needsTLS or (name == "PLAIN" and not self.stream.secure):
            return self.fail("encryption-required")
        if name not in self.available():
            return self.fail("invalid-mechanism")
        data = self._decode(element, initial=True)
        if data is False:
            return None
        self.mechanism = makeMechanism(name, self.stream.factory.credentials)
        if data is None:
            # No initial response: an empty challenge asks for it (section 6.4.2).
            self.stream.send(domish.Element((NS_SASL, "challenge")))
        else:
            self.step(data)
        return None

    @handles(NS_SASL, "response")
    def onResponse(self, element):
        """Continue the exchange (section 6.4.3)."""
        if self.authenticatedAlready():
            return None
        if self.mechanism is None:
            return self.fail("malformed-request", "no exchange in progress")
        data = self._decode(element, initial=False)
        if data is not False:
            self.step(data)
        return None

    @handles(NS_SASL, "abort")
    def onAbort(self, element):
        """The client gave up the exchange (section 6.4.4)."""
        if not self.authenticatedAlready():
            self.fail("aborted")

    def _decode(self, element, initial):
        """
        The base64 payload as bytes; None for an absent initial response,
        False after answering C{incorrect-encoding} (section 6.4.2: C{=} is
        an empty response).
        """
        text = str(element)
        if text == "=":
            return b""
        if not text:
            return None if initial else b""
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            self.fail("incorrect-encoding")
            return False

    def step(self, data):
        """
        Feed C{data} to the mechanism, once the address's throttle allows;
        input waits until it answers.
        """
        d = whenAllowed(self.stream, self.mechanism.step, data)
        d.addCallbacks(self._stepped, self._stepFailed)
        self.stream.waitFor(d)

    def _stepped(self, outcome):
        if self.stream.closing:
            return
        if not isinstance(outcome, Success):
            self._sendData("challenge", outcome.data)
            return
        if not self._authzidAllowed(outcome):
            self.fail("invalid-authzid")
            return
        self.mechanism = None
        throttle = throttleOf(self.stream)
        if throttle is not None:
            throttle.succeeded(outcome.username)
        self._sendData("success", outcome.data)
        self.stream.onAuthenticated(outcome.username)
        self.stream.restart()

    def _authzidAllowed(self, outcome):
        """An authzid, if any, must be the user's own bare JID (section 6.3.8)."""
        if not outcome.authzid:
            return True
        jid = parseJID(outcome.authzid)
        return (jid is not None and jid.resource is None and jid.user == outcome.username
                and jid.host == self.stream.domain)

    def _stepFailed(self, failure):
        if failure.check(SASLFailure):
            condition, text = failure.value.condition, failure.value.text
            throttle = throttleOf(self.stream)
            if condition == "not-authorized" and throttle is not None:
                account = getattr(self.mechanism, "username", None)
                delay = throttle.failed(clientAddress(self.stream), account)
                if delay:
                    return task.deferLater(self.stream.factory.clock, delay, self.fail,
                                           condition, text)
            self.fail(condition, text)
        else:
            self.log.failure("SASL step failed", failure)
            self.fail("temporary-auth-failure")

    def _sendData(self, name, data):
        element = domish.Element((NS_SASL, name))
        if data:
            element.addContent(base64.b64encode(data).decode("ascii"))
        elif data is not None and name == "success":
            element.addContent("=")
        self.stream.send(element)

    def fail(self, condition, text=None):
        """Answer C{<failure/>} and count it (section 6.4.5)."""
        self.mechanism = None
        if self.stream.closing:
            return
        failure = domish.Element((NS_SASL, "failure"))
        failure.addElement(condition)
        if text:
            failure.addElement("text", content=text)
        self.stream.send(failure)
        self.stream.noteAuthFailure()
