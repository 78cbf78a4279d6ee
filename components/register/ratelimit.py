# -*- test-case-name: tests.components.register.test_register_ratelimit -*-
"""
How many accounts one IP address may create in a sliding window: the
defence XEP-0077 section 10 asks of a server that lets anyone register.

Addresses in exempt networks (loopback by default: the web chat, tests and
administrators' scripts) are never limited; an unknown address (a framing
that cannot tell) counts as one shared address.
"""

import ipaddress
from collections import deque

__all__ = ["RateLimiter"]


class RateLimiter:
    """
    @ivar limit: attempts allowed per address per window (0: unlimited).
    @ivar window: the window, in seconds.
    @ivar exempt: L{ipaddress} networks never limited.
    """

    def __init__(self, limit, window, exempt=(), clock=None):
        if clock is None:
            from twisted.internet import reactor as clock
        self.limit = limit
        self.window = window
        self.exempt = list(exempt)
        self.clock = clock
        self._attempts = {}

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
        attempts = self._attempts.setdefault(address, deque())
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
