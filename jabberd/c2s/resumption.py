# -*- test-case-name: tests.c2s.test_resumption -*-
"""
The stream-negotiation end of Stream Management (XEP-0198): what a
client stream does with C{<enable/>} and C{<resume/>} before a resource
is bound.

 - C{<resume previd h/>} (section 5) is sent after authentication instead
   of binding a resource; the session manager's stream management handler
   (L{jabberd.sm.streammanagement}) decides, and the stream either carries
   the old session on or stays ready for binding (section 5: "the server
   SHOULD allow the client to bind a resource" after C{<failed/>}).
 - C{<enable/>} before a resource is bound gets C{<failed/>} with
   C{unexpected-request} (section 3: "The server SHALL enforce this
   order"); once bound it goes to the session manager like any other
   nonza (the C{onNonza} hook).
 - Before authentication neither is allowed (section 3); both get
   C{unexpected-request} as well.

The C{<sm/>} feature itself is advertised by the handler through the
C{streamFeatures} hook, with the other features after authentication.
"""

from jabberd.c2s.negotiation import Negotiator
from jabberd.dispatch import handles
from jabberd.ns import NS_SM
from jabberd.sm.streammanagement import failed

__all__ = ["ResumptionNegotiator"]


class ResumptionNegotiator(Negotiator):
    __slots__ = ()

    @handles(NS_SM, "resume")
    def onResume(self, element):
        """Section 5: authenticated, not bound, and the session manager manages streams."""
        stream = self.stream
        handler = stream.sm.handler("streammanagement")
        if handler is None:
            stream.send(failed("feature-not-implemented"))
        elif stream.username is None or stream.session is not None:
            stream.send(failed("unexpected-request"))
        else:
            handler.resume(stream, element)

    @handles(NS_SM, "enable")
    def onEnable(self, element):
        """Section 3: only once a resource is bound; then the session manager takes it."""
        stream = self.stream
        session = stream.session
        if session is None:
            stream.send(failed("unexpected-request", text="bind a resource first"))
        elif not stream.sm.nonza(session, element):
            stream.send(failed("feature-not-implemented"))
