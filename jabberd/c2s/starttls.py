# -*- test-case-name: tests.c2s.test_starttls -*-
"""
STARTTLS on a client stream (RFC 6120 section 5): the C{<starttls/>}
feature (with C{<required/>} when C{[c2s] require_tls} is on), C{<proceed/>}
then the TLS handshake and a stream restart, or C{<failure/>} and the end
of the stream (section 5.4.2.2).

Offered only where the framing can switch to TLS (plain TCP) and the
stream is not encrypted yet; a direct TLS connection (XEP-0368) and HTTPS
framings are already secure.
"""

from twisted.words.xish import domish

from jabberd.c2s.negotiation import Negotiator
from jabberd.dispatch import handles
from jabberd.ns import NS_TLS

__all__ = ["StartTLSNegotiator"]


class StartTLSNegotiator(Negotiator):
    __slots__ = ()

    def offered(self):
        """Whether STARTTLS may be negotiated now."""
        stream = self.stream
        return not stream.secure and stream.username is None and stream.canStartTLS()

    def features(self):
        if not self.offered():
            return ()
        starttls = domish.Element((NS_TLS, "starttls"))
        if self.stream.config.c2s.requireTLS:
            starttls.addElement("required")
        return (starttls,)

    @handles(NS_TLS, "starttls")
    def onStartTLS(self, element):
        """Proceed and switch to TLS, or refuse and end the stream (section 5.4.2)."""
        if not self.offered():
            self.stream.send(domish.Element((NS_TLS, "failure")))
            self.stream.closeStream()
            return
        self.stream.send(domish.Element((NS_TLS, "proceed")))
        self.stream.startTLS()
