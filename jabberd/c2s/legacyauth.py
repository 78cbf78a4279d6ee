# -*- test-case-name: tests.c2s.test_legacyauth -*-
"""
Non-SASL authentication, C{jabber:iq:auth} (XEP-0078), for jabberd
1.4-era clients: they open a stream without C{version='1.0'}, get no
features, and authenticate and bind a resource with one iq.

 - get: the fields the server accepts (username, password, resource; digest
   only when plaintext passwords are stored, C{[c2s] store_plaintext}),
   the same for every username, existing or not, and answered without a
   storage look-up, so the answer tells nothing about the account;
 - set: authenticate and bind; errors 401 C{not-authorized} (wrong
   credentials), 406 C{not-acceptable} (missing fields or a bad resource);
   a session already bound to that resource is replaced (the 409 case).

With C{[c2s] require_tls} a cleartext stream is refused with
C{policy-violation}: such clients connect to the direct TLS port.

Passwords are checked through the credential source (PBKDF2 off the
reactor thread, a stand-in of the same cost for a missing account), and
wrong ones are throttled like SASL's (L{jabberd.c2s.throttle}).
"""

import hashlib
import hmac

from twisted.internet import defer, task
from twisted.words.xish import domish

from jabberd.c2s.mechanisms import SASLFailure
from jabberd.c2s.sasl import clientAddress, throttleOf, whenAllowed
from jabberd.jidutil import prepLocalpart, prepResource
from jabberd.c2s.negotiation import Negotiator, handlesIQ
from jabberd.ns import NS_AUTH, NS_AUTH_FEATURE
from jabberd.stanza import firstChild

__all__ = ["LegacyAuthNegotiator", "digestOf"]


def digestOf(streamID, password):
    """The XEP-0078 digest: hex SHA-1 of the stream id followed by the password."""
    return hashlib.sha1((streamID + password).encode("utf-8")).hexdigest()


def _field(query, name):
    """The text of C{query}'s child C{name}, or None when absent."""
    child = firstChild(query, NS_AUTH, name)
    return str(child) if child is not None else None


class LegacyAuthNegotiator(Negotiator):
    __slots__ = ()

    def features(self):
        stream = self.stream
        if stream.username is not None or stream.needsTLS:
            return ()
        return (domish.Element((NS_AUTH_FEATURE, "auth")),)

    @handlesIQ(NS_AUTH)
    def onAuthIQ(self, iq, payload):
        """A jabber:iq:auth get or set before authentication (XEP-0078 section 3)."""
        stream = self.stream
        if stream.username is not None:
            return False
        iqType = iq.getAttribute("type")
        if payload.name != "query" or iqType not in ("get", "set"):
            self.sendError(iq, "bad-request")
        elif stream.needsTLS:
            self.sendError(iq, "policy-violation", "encryption required: use the TLS port")
        elif iqType == "get":
            self.onGet(iq, payload)
        else:
            self.onSet(iq, payload)
        return True

    def onGet(self, iq, query):
        """
        Tell the client which fields to send (XEP-0078 section 3): the
        same fields whether or not the account exists.
        """
        fields = domish.Element((NS_AUTH, "query"))
        fields.addElement("username", content=_field(query, "username") or "")
        fields.addElement("password")
        if self.stream.config.c2s.storePlaintext:
            fields.addElement("digest")
        fields.addElement("resource")
        self.sendResult(iq, fields)

    def onSet(self, iq, query):
        """Authenticate and bind in one step."""
        username, resource = _field(query, "username"), _field(query, "resource")
        password, digest = _field(query, "password"), _field(query, "digest")
        if not username or not resource or (password is None and not digest):
            self.sendError(iq, "not-acceptable", "username, resource and a password are required")
            return
        resource = prepResource(resource)
        if resource is None:
            self.sendError(iq, "not-acceptable", "invalid resource")
            return
        username = prepLocalpart(username)
        d = whenAllowed(self.stream, self.stream.factory.credentials.lookup, username)
        d.addCallback(self.check, username, password, digest)
        d.addCallback(self._verified, iq, username, resource)
        d.addErrback(self._checkFailed, iq)
        self.stream.waitFor(d)

    def _verified(self, matches, iq, username, resource):
        stream = self.stream
        if stream.closing:
            return None
        throttle = throttleOf(stream)
        if not matches:
            delay = throttle.failed(clientAddress(stream), username) if throttle else 0
            if delay:
                return task.deferLater(stream.factory.clock, delay, self._refused, iq)
            self._refused(iq)
            return None
        if throttle is not None:
            throttle.succeeded(username)
        stream.onAuthenticated(username)
        self.sendResult(iq)
        stream.bindResource(resource)
        return None

    def _refused(self, iq):
        if not self.stream.closing:
            self.sendError(iq, "not-authorized")
            self.stream.noteAuthFailure()

    def check(self, credentials, username, password, digest):
        """
        Deferred: whether the password (or digest, preferred when both are
        sent) is right.  A missing account costs what a real check costs.
        """
        source = self.stream.factory.credentials
        if username is None or credentials is None:
            return source.verify(None, username, password or "")
        if digest:
            plain = credentials.get("plain")
            if plain is None:
                return source.verify(None, username, "")
            expected = digestOf(self.stream.sid, plain).encode("ascii")
            return defer.succeed(
                hmac.compare_digest(expected, digest.strip().lower().encode("utf-8")))
        return source.verify(credentials, username, password)

    def _checkFailed(self, failure, iq):
        if failure.check(SASLFailure):
            self.sendError(iq, "resource-constraint", failure.value.text)
            return
        self._lookupFailed(failure, iq)

    def _lookupFailed(self, failure, iq):
        self.log.failure("credentials look-up failed", failure)
        self.sendError(iq, "internal-server-error")
