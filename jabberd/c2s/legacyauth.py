# -*- test-case-name: tests.c2s.test_legacyauth -*-
"""
Non-SASL authentication, C{jabber:iq:auth} (XEP-0078), for jabberd
1.4-era clients: they open a stream without C{version='1.0'}, get no
features, and authenticate and bind a resource with one iq.

 - get: the fields the server accepts (username, password, resource; digest
   only when plaintext passwords are stored, C{[c2s] store_plaintext});
 - set: authenticate and bind; errors 401 C{not-authorized} (wrong
   credentials), 406 C{not-acceptable} (missing fields or a bad resource);
   a session already bound to that resource is replaced (the 409 case).

With C{[c2s] require_tls} a cleartext stream is refused with
C{policy-violation}: such clients connect to the direct TLS port.
"""

import hashlib
import hmac

from twisted.words.xish import domish

from jabberd.auth.credentials import checkPassword
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
        """Tell the client which fields to send (XEP-0078 section 3)."""
        username = _field(query, "username")
        d = self.stream.factory.credentials.lookup(prepLocalpart(username or ""))
        d.addCallback(self._sendFields, iq, username)
        d.addErrback(self._lookupFailed, iq)
        self.stream.waitFor(d)

    def _sendFields(self, credentials, iq, username):
        query = domish.Element((NS_AUTH, "query"))
        query.addElement("username", content=username or "")
        query.addElement("password")
        if (self.stream.config.c2s.storePlaintext and credentials
                and credentials.get("plain") is not None):
            query.addElement("digest")
        query.addElement("resource")
        self.sendResult(iq, query)

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
        d = self.stream.factory.credentials.lookup(username)
        d.addCallback(self._verified, iq, username, resource, password, digest)
        d.addErrback(self._lookupFailed, iq)
        self.stream.waitFor(d)

    def _verified(self, credentials, iq, username, resource, password, digest):
        stream = self.stream
        if stream.closing:
            return
        if not self.check(credentials, username, password, digest):
            self.sendError(iq, "not-authorized")
            stream.noteAuthFailure()
            return
        stream.onAuthenticated(username)
        self.sendResult(iq)
        stream.bindResource(resource)

    def check(self, credentials, username, password, digest):
        """Whether the password (or digest, preferred when both are sent) is right."""
        if username is None or credentials is None:
            checkPassword(self.stream.factory.credentials.standIn(username), password or "")
            return False
        if digest:
            plain = credentials.get("plain")
            if plain is None:
                return False
            expected = digestOf(self.stream.sid, plain).encode("ascii")
            return hmac.compare_digest(expected, digest.strip().lower().encode("utf-8"))
        return checkPassword(credentials, password)

    def _lookupFailed(self, failure, iq):
        self.log.failure("credentials look-up failed", failure)
        self.sendError(iq, "internal-server-error")
