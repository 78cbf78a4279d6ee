# -*- test-case-name: tests.s2s.test_resolver -*-
"""
Where a remote domain's server listens (RFC 6120 section 3.2), and
whether we may go there (L{jabberd.s2s.addresses}).

A domain named in C{[s2s] hosts} goes to the address given there (for
private federations and for tests, which have no DNS).  Any other domain
is looked up as the SRV record C{_xmpp-server._tcp.DOMAIN}, falling back to
the domain itself on port 5269 (sections 3.2.1 and 3.2.2); Twisted's
C{SRVConnector} does both.  Either way the host name is resolved here,
before any packet goes to it, and the connection is made only when the
address policy permits that address: a refused domain or address fails
the attempt like an unreachable server (C{remote-server-not-found}).
Twisted's resolver (C{twisted.names}) is imported at the first lookup, not
at start-up: a server that federates with nobody yet does not keep it.
"""

from twisted.internet import defer
from twisted.python.failure import Failure

from jabberd.s2s.addresses import AddressPolicy, asAddress

__all__ = ["connectServer", "DEFAULT_PORT", "AddressRefused"]

DEFAULT_PORT = 5269


class AddressRefused(Exception):
    """The address policy does not let us dial there; bounces as C{remote-server-not-found}."""

    condition = "remote-server-not-found"


class _Attempt:
    """
    The connector handed out while a name is resolved and checked; once
    permitted it forwards to the reactor's own connector.
    """

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.connector = None
        self.stopped = False

    def stopConnecting(self):
        self.stopped = True
        if self.connector is not None:
            self.connector.stopConnecting()

    def disconnect(self):
        self.stopped = True
        if self.connector is not None:
            self.connector.disconnect()

    def connect(self):
        if self.connector is not None:
            self.connector.connect()

    def getDestination(self):
        return self.connector.getDestination() if self.connector is not None else None


class GuardedReactor:
    """
    Stands in for the reactor's C{connectTCP} (also for C{SRVConnector}):
    resolve, check the address against the policy, then connect to it.
    """

    def __init__(self, reactor, policy):
        self.reactor, self.policy = reactor, policy

    def connectTCP(self, host, port, factory, timeout=30, bindAddress=None):
        attempt = _Attempt(host, port)
        if asAddress(host) is not None:
            d = defer.succeed(host.strip("[]"))
        else:
            d = defer.maybeDeferred(self.reactor.resolve, host, (timeout,))
        d.addCallback(self._check, attempt, factory, timeout, bindAddress)
        d.addErrback(self._failed, attempt, factory)
        return attempt

    def _check(self, address, attempt, factory, timeout, bindAddress):
        if attempt.stopped:
            return
        reason = self.policy.refusesAddress(address)
        if reason is not None:
            raise AddressRefused(f"{attempt.host}: {reason}")
        attempt.connector = self.reactor.connectTCP(address, attempt.port, factory,
                                                    timeout=timeout, bindAddress=bindAddress)

    def _failed(self, failure, attempt, factory):
        if not attempt.stopped:
            # Never within the caller's own call: it has not yet kept what it started.
            self.reactor.callLater(0, factory.clientConnectionFailed, attempt, failure)

    def __getattr__(self, name):
        return getattr(self.reactor, name)


def connectServer(reactor, domain, factory, hosts, timeout, policy=None):
    """
    Connect C{factory} to the server of C{domain}; C{hosts} maps domains
    to (host, port).  C{policy} (an L{AddressPolicy}; by default the
    strict one) decides which domains and addresses may be dialed.
    """
    policy = policy if policy is not None else AddressPolicy()
    guarded = GuardedReactor(reactor, policy)
    refused = policy.refusesDomain(domain)
    if refused is not None:
        attempt = _Attempt(domain, DEFAULT_PORT)
        reactor.callLater(0, factory.clientConnectionFailed, attempt,
                          Failure(AddressRefused(refused)))
        return attempt
    address = hosts.get(domain)
    if address is not None:
        host, port = address
        return guarded.connectTCP(host, port, factory, timeout=timeout)
    from twisted.names.srvconnect import SRVConnector
    connector = SRVConnector(guarded, "xmpp-server", domain, factory,
                             connectFuncKwArgs={"timeout": timeout}, defaultPort=DEFAULT_PORT)
    connector.connect()
    return connector
