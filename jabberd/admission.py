# -*- test-case-name: tests.test_admission -*-
"""
Admission of connections: how many one address, and all addresses
together, may hold open at once.

Why: every connection costs memory and a file descriptor before its peer
has proved anything, so a single host opening thousands of them can
exhaust the server (issue 14; Prosody's and ejabberd's operators limit
this at the firewall or with C{max_connections}-style settings).  IPv6
addresses are counted per prefix (a /64 by default): one host is
usually given a whole /64 and can use any address in it.  Networks listed
as exempt (a NAT gateway of one's own, a web front end) are only counted
in the total.
"""

import ipaddress

__all__ = ["ConnectionLimiter", "TOO_MANY_FROM_ADDRESS", "TOO_MANY_IN_TOTAL"]

TOO_MANY_FROM_ADDRESS = "policy-violation"
"""The stream error for an address over its limit (RFC 6120 section 4.9.3.14)."""

TOO_MANY_IN_TOTAL = "resource-constraint"
"""The stream error when the server is full (RFC 6120 section 4.9.3.15)."""


class ConnectionLimiter:
    """
    Counts open connections per address key and in total.

    @ivar maxPerAddress: connections per key (0: no limit).
    @ivar maxTotal: connections in all (0: no limit).
    @ivar counts: address key -> open connections.
    @ivar total: open connections admitted.
    @ivar admitted: connection -> the key it is counted under; kept here
        rather than on the connection, whose attributes are kept few.
    """

    def __init__(self, maxPerAddress=0, maxTotal=0, ipv6Prefix=64, exempt=()):
        self.maxPerAddress = maxPerAddress
        self.maxTotal = maxTotal
        self.ipv6Prefix = ipv6Prefix
        self.exempt = list(exempt)
        self.counts = {}
        self.total = 0
        self.admitted = {}

    @classmethod
    def fromConfig(cls, connections):
        """The limiter a C{[connections]} section (L{jabberd.config.ConnectionsConfig}) describes."""
        return cls(connections.maxPerAddress, connections.maxTotal, connections.ipv6Prefix,
                   connections.exempt)

    def key(self, host):
        """
        The key C{host} is counted under: the IPv4 address, the IPv6
        prefix, or None for an exempt address; a host that is not an IP
        address (a UNIX socket) is its own key.
        """
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.exempt):
            return None
        if address.version == 6:
            return ipaddress.ip_network((address, self.ipv6Prefix), strict=False)
        return address

    def admit(self, host, connection):
        """
        Count C{connection}, new from C{host}: None when admitted, else the
        stream error condition of the limit it is over.
        """
        if self.maxTotal and self.total >= self.maxTotal:
            return TOO_MANY_IN_TOTAL
        key = self.key(host)
        if key is not None:
            count = self.counts.get(key, 0)
            if self.maxPerAddress and count >= self.maxPerAddress:
                return TOO_MANY_FROM_ADDRESS
            self.counts[key] = count + 1
        self.total += 1
        self.admitted[connection] = key
        return None

    def release(self, connection):
        """C{connection} closed: it no longer counts (nothing if it was never admitted)."""
        if connection not in self.admitted:
            return
        key = self.admitted.pop(connection)
        self.total -= 1
        if key is not None:
            count = self.counts.pop(key) - 1
            if count:
                self.counts[key] = count
