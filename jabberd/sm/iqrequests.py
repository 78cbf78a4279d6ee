# -*- test-case-name: tests.sm.test_iqrequests -*-
"""
Iqs the session manager sends to components and waits on (RFC 6120 section
8.2.3: every get/set is answered by one result or error): the offline store
(XEP-0160, L{jabberd.sm.offline}) and namespace delegation (XEP-0355,
L{jabberd.sm.delegation}).

Each request gets an id no earlier run of the server used, and a deadline;
an answer is taken only from the domain the request went to, so another
entity cannot answer for the component, or, for requests to one entity
(an entity capabilities query to a client, XEP-0115, L{jabberd.sm.caps}),
only from the exact address asked.
"""

import itertools
import secrets

from twisted.internet import defer

from jabberd.jidutil import domainOf, parseJID

__all__ = ["IQRequests"]


class _Request:
    __slots__ = ("deferred", "sender", "call")

    def __init__(self, deferred, sender, call):
        self.deferred, self.sender, self.call = deferred, sender, call


class IQRequests:
    """
    The outstanding requests of one handler.

    @ivar timeout: seconds to wait for an answer.
    @ivar timedOut: callable taking the domain (or address) asked, returning the
        exception a request fails with when no answer came in time.
    @ivar exact: whether an answer must come from the very address asked
        (compared prepared, RFC 7622) rather than from its domain.
    """

    def __init__(self, prefix, timeout, timedOut, clock=None, exact=False):
        if clock is None:
            from twisted.internet import reactor as clock
        self.clock = clock
        self.timeout = timeout
        self.timedOut = timedOut
        self.exact = exact
        self._pending = {}
        # A fresh prefix per start: no late answer to an earlier run matches.
        self._prefix = f"{prefix}-{secrets.token_hex(4)}-"
        self._ids = itertools.count(1)

    def __len__(self):
        return len(self._pending)

    def __iter__(self):
        """The ids of the requests still waiting for an answer."""
        return iter(self._pending)

    def send(self, send, iq):
        """
        Give C{iq} (addressed to its C{to} domain) a fresh id, hand it to
        C{send}, and return a Deferred firing with the answering stanza
        (a result or an error iq), or failing with L{timedOut}'s exception.
        """
        iq["id"] = ident = self._prefix + str(next(self._ids))
        d = defer.Deferred()
        call = self.clock.callLater(self.timeout, self._expire, ident)
        self._pending[ident] = _Request(d, self._sender(iq["to"]), call)
        send(iq)
        return d

    def _sender(self, address):
        """What an answer's C{from} is compared on: the domain, or the prepared address."""
        if not self.exact:
            return domainOf(address)
        jid = parseJID(address)
        return jid.full() if jid is not None else None

    def _expire(self, ident):
        request = self._pending.pop(ident)
        request.deferred.errback(self.timedOut(request.sender))

    def answer(self, stanza):
        """
        Fire the request C{stanza} (a result or error iq) answers; True if
        it answered one of ours, False to leave the stanza to others.
        """
        if not self._pending or stanza.getAttribute("type") not in ("result", "error"):
            return False
        ident = stanza.getAttribute("id")
        request = self._pending.get(ident)
        if request is None or self._sender(stanza.getAttribute("from") or "") != request.sender:
            return False
        del self._pending[ident]
        request.call.cancel()
        request.deferred.callback(stanza)
        return True

