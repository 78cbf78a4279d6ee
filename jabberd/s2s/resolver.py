# -*- test-case-name: tests.s2s.test_resolver -*-
"""
Where a remote domain's server listens (RFC 6120 section 3.2).

A domain named in C{[s2s] hosts} goes to the address given there (for
private federations and for tests, which have no DNS).  Any other domain
is looked up as the SRV record C{_xmpp-server._tcp.DOMAIN}, falling back to
the domain itself on port 5269 (sections 3.2.1 and 3.2.2); Twisted's
C{SRVConnector} does both.  Twisted's resolver (C{twisted.names}) is
imported at the first lookup, not at start-up: a server that federates
with nobody yet does not keep it.
"""

__all__ = ["connectServer", "DEFAULT_PORT"]

DEFAULT_PORT = 5269


def connectServer(reactor, domain, factory, hosts, timeout):
    """Connect C{factory} to the server of C{domain}; C{hosts} maps domains to (host, port)."""
    address = hosts.get(domain)
    if address is not None:
        host, port = address
        return reactor.connectTCP(host, port, factory, timeout=timeout)
    from twisted.names.srvconnect import SRVConnector
    connector = SRVConnector(reactor, "xmpp-server", domain, factory,
                             connectFuncKwArgs={"timeout": timeout}, defaultPort=DEFAULT_PORT)
    connector.connect()
    return connector
