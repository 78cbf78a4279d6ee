# -*- test-case-name: tests.components.register.test_register_ratelimit -*-
"""
How many accounts one IP address may create in a sliding window: the
defence XEP-0077 section 10 asks of a server that lets anyone register.

Addresses in exempt networks (loopback by default: the web chat, tests and
administrators' scripts) are never limited; an unknown address (a framing
that cannot tell) counts as one shared address.

An IPv6 client usually holds a whole /64 (RFC 6177: end sites get at least
that much) and can pick a new address in it for every attempt, so IPv6
addresses are counted per prefix (C{ipv6_prefix}, 64 by default); IPv4
addresses per C{ipv4_prefix} (32: the address itself).  IPv4-mapped IPv6
addresses count as the IPv4 address they carry.
"""

import ipaddress
from collections import deque

__all__ = ["RateLimiter"]


class RateLimiter:
    """
    @ivar limit: attempts allowed per address per window (0: unlimited).
    @ivar window: the window, in seconds.
    @ivar exempt: L{ipaddress} networks never limited.
    @ivar ipv4Prefix: leading bits of an IPv4 address that name one client.
    @ivar ipv6Prefix: leading bits of an IPv6 address that name one client.
    """

    def __init__(self, limit, window, exempt=(), clock=None, ipv4Prefix=32, ipv6Prefix=64):
        if clock is None:
            from twisted.internet import reactor as clock
        self.limit = limit
        self.window = window
        self.exempt = list(exempt)
        self.clock = clock
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
        self._attempts = {}

    def clientOf(self, address):
        """The key C{address} is counted under: its network of the configured prefix."""
        try:
            ip = ipaddress.ip_address(address)
        except (TypeError, ValueError):
            return address
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        prefix = self.ipv4Prefix if ip.version == 4 else self.ipv6Prefix
        return str(ipaddress.ip_network((ip, prefix), strict=False))

    def isExempt(self, address):
        """Whether C{address} is in an exempt network."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.exempt)

    def take(self, address):
        """
        Count one attempt from C{address}; False (and nothing counted)
        when its allowance for the window is used up.
        """
        if not self.limit or (address is not None and self.isExempt(address)):
            return True
        now = self.clock.seconds()
        attempts = self._attempts.setdefault(self.clientOf(address), deque())
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        if len(attempts) >= self.limit:
            return False
        attempts.append(now)
        self._forgetIdle(now)
        return True

    def _forgetIdle(self, now):
        """Drop addresses whose attempts all left the window, so the table stays small."""
        if len(self._attempts) < 1024:
            return
        cutoff = now - self.window
        for address in [a for a, times in self._attempts.items() if times[-1] <= cutoff]:
            del self._attempts[address]
