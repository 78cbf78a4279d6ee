# -*- test-case-name: tests.s2s.test_outbound -*-
"""
Server-to-server federation (RFC 6120 section 10.4) with Server Dialback
(XEP-0220) over STARTTLS.

 - L{jabberd.s2s.dialback}: keys (XEP-0185) and C{db:} elements;
 - L{jabberd.s2s.stream}: what both ends of a C{jabber:server} stream share;
 - L{jabberd.s2s.inbound}: streams other servers open to us;
 - L{jabberd.s2s.outbound}: streams we open, to send or to verify a key;
 - L{jabberd.s2s.resolver}: where a domain's server is (SRV, or C{[s2s] hosts});
 - L{jabberd.s2s.service}: the router's route to remote domains, queues per
   domain pair, bounces.
"""

from jabberd.s2s.service import RemoteRoute, S2SFactory, S2SService

__all__ = ["S2SService", "S2SFactory", "RemoteRoute"]
