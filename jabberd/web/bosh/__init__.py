# -*- test-case-name: tests.web.bosh.test_resource -*-
"""
BOSH: XMPP over HTTP long polling (XEP-0124, with the XMPP binding of
XEP-0206), served on the shared HTTP site (C{[http] bosh_path}, default
C{/http-bind}).

 - L{body}: parsing request C{<body/>}s and writing responses;
 - L{session}: one BOSH session (request ids, held requests, timers);
 - L{stream}: the client stream with BOSH framing (the TCP listener's
   L{jabberd.c2s.stream.ClientStream}, framing methods overridden);
 - L{resource}: the HTTP resource, session creation and CORS.
"""

from jabberd.web.bosh.resource import BOSHResource
from jabberd.web.bosh.session import BOSHSession
from jabberd.web.bosh.stream import BOSHStream

__all__ = ["BOSHResource", "BOSHSession", "BOSHStream"]
