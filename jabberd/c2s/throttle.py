# -*- test-case-name: tests.c2s.test_throttle -*-
"""
Throttling password guessing (RFC 6120 section 13.8 asks servers to limit
authentication attempts; RFC 4422 section 9 leaves the policy to them).

A stream already ends after C{maxAuthFailures} failures (section 6.4.5),
but reconnecting starts over.  L{AuthThrottle} remembers failures per
client IP address and per account across streams, fail2ban-style: the
first C{free} failures within C{window} seconds cost nothing, every further
one doubles a delay (from C{delay} up to C{maxDelay} seconds) that the next
attempt from that address, or on that account, waits before its password
is even checked, and that the failure answer waits too.  Each failure is
logged at warn level as one line an operator can feed to fail2ban::

    authentication failure for account=alice ip=192.0.2.7 (4 from this ip)

A success clears the account's count, not the address's: one good login
must not buy an address more guesses on other accounts.  At most
C{tracked} addresses and accounts are remembered (the least recently
failed are forgotten first), so the table is bounded however many
addresses an attacker uses.
"""

import collections

from twisted.internet import task

from jabberd.logs import Logger

__all__ = ["AuthThrottle"]


class _Record:
    __slots__ = ("count", "last", "until")

    def __init__(self):
        self.count = 0
        self.last = 0.0
        self.until = 0.0


class AuthThrottle:
    """
    Failed authentications per IP address and per account, and the delays they earn.

    @ivar free: failures before delays start.
    @ivar delay: seconds of the first delay; each further failure doubles it.
    @ivar maxDelay: longest delay, in seconds.
    @ivar window: seconds after its last failure that a record is forgotten.
    @ivar tracked: most records kept (addresses and accounts together).
    """

    log = Logger()

    def __init__(self, clock, free=5, delay=1, maxDelay=60, window=900, tracked=10000):
        self.clock = clock
        self.free = free
        self.delay = delay
        self.maxDelay = maxDelay
        self.window = window
        self.tracked = max(1, tracked)
        self._records = collections.OrderedDict()

    @classmethod
    def fromConfig(cls, c2s, clock):
        """The throttle configured by C{[c2s] auth_fail_*}."""
        return cls(clock, c2s.authFailFree, c2s.authFailDelay, c2s.authFailMaxDelay,
                   c2s.authFailWindow, c2s.authFailTracked)

    def _record(self, key, create=False):
        record = self._records.get(key)
        now = self.clock.seconds()
        if record is not None and now - record.last > self.window:
            del self._records[key]
            record = None
        if record is None and create:
            record = self._records[key] = _Record()
            while len(self._records) > self.tracked:
                self._records.popitem(last=False)
        return record

    def waitFor(self, ip=None, account=None):
        """Seconds an attempt from C{ip} on C{account} must still wait (0: none)."""
        now = self.clock.seconds()
        wait = 0.0
        for key in (("ip", ip), ("account", account)):
            if key[1] is None:
                continue
            record = self._record(key)
            if record is not None and record.until > now:
                wait = max(wait, record.until - now)
        return wait

    def gate(self, ip=None, account=None):
        """A Deferred firing once the attempt may go on (at once when not throttled)."""
        return task.deferLater(self.clock, self.waitFor(ip, account), lambda: None)

    def failed(self, ip, account):
        """Count a failure; return the seconds its answer waits."""
        now = self.clock.seconds()
        counts = {}
        for key in (("ip", ip), ("account", account)):
            if key[1] is None:
                continue
            record = self._record(key, create=True)
            self._records.move_to_end(key)
            record.count += 1
            record.last = now
            record.until = max(record.until, now + self._delayAfter(record.count))
            counts[key[0]] = record.count
        self.log.warn("authentication failure for account={account} ip={ip} "
                      "({count} from this ip)", account=account or "-", ip=ip or "-",
                      count=counts.get("ip", 0))
        return self.waitFor(ip, account)

    def succeeded(self, account):
        """The account's owner logged in: forget its failures."""
        self._records.pop(("account", account), None)

    def _delayAfter(self, count):
        if count <= self.free:
            return 0.0
        return float(min(self.delay * 2 ** min(count - self.free - 1, 32), self.maxDelay))
