"""
The client-to-server service (RFC 6120): stream handling, STARTTLS, SASL,
resource binding and legacy XEP-0078 authentication, up to the point where
a bound session is handed to the session manager.

 - L{jabberd.c2s.stream}: the one stream implementation for all framings;
 - L{jabberd.c2s.negotiation}: the base of negotiable stream features;
 - L{jabberd.c2s.starttls}, L{jabberd.c2s.sasl}, L{jabberd.c2s.bind},
   L{jabberd.c2s.legacyauth}: one feature each;
 - L{jabberd.c2s.mechanisms}: PLAIN and SCRAM, server side;
 - L{jabberd.c2s.liveness}: whitespace keepalives and the idle timeout;
 - L{jabberd.c2s.listener}: the TCP server factory.
"""
