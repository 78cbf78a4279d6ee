# -*- test-case-name: tests.sm.test_acks -*-
"""
The counting side of Stream Management (XEP-0198 section 4) for one
session: the two sequence numbers and the queue of stanzas the client has
not acknowledged yet.

 - C{handled} counts the stanzas received from the client, C{sent} the
   stanzas written to it; both start at zero when C{<enabled/>} is sent and
   wrap from 2^32 - 1 back to zero (section 4: the unsignedInt of 'h').
 - Every stanza written is kept in C{unacked}, with the time it was
   written, until an 'h' from the client covers it.  An 'h' that covers more than was sent is an error
   (L{HandledCountTooHigh}, section 6); the queue length is what is in
   flight, so the check is modular arithmetic and never a comparison of
   wrapped counters.

This module knows no XML beyond the stanzas it keeps; the protocol is in
L{jabberd.sm.streammanagement}.
"""

from collections import deque

__all__ = ["AckState", "HandledCountTooHigh", "MODULO", "parseH"]

#: 'h' is an xs:unsignedInt (section 4): counters run modulo 2^32.
MODULO = 2 ** 32


class HandledCountTooHigh(ValueError):
    """The client acknowledged stanzas it was never sent (section 6)."""

    def __init__(self, h, sent):
        ValueError.__init__(self, f"acknowledged {h} stanzas, only {sent} were sent")
        self.h, self.sent = h, sent


def parseH(value):
    """The 'h' attribute C{value} as an int in [0, 2^32), or None when it is not one."""
    if value is None or not value.isdigit():
        return None
    h = int(value)
    return h if h < MODULO else None


class AckState:
    """
    One session's stream management state.

    @ivar session: the L{jabberd.sm.session.Session}.
    @ivar handler: the L{jabberd.sm.streammanagement.StreamManagementHandler},
        told after every stanza kept (L{StreamManagementHandler.queued});
        its C{clock} stamps what is kept.
    @ivar smId: the SM-ID for resumption, or None when not resumable.
    @ivar timeout: seconds a detached session waits to be resumed.
    @ivar handled: stanzas received from the client, modulo 2^32.
    @ivar sent: stanzas written to the client, modulo 2^32.
    @ivar acked: the last 'h' the client sent (what it has handled).
    @ivar unacked: (time written, stanza) of the stanzas written since
        C{acked}, oldest first.
    @ivar priority: the session's presence priority when it was last
        written to (the session's own is reset when it goes unavailable,
        before its unacknowledged stanzas are dealt with).
    @ivar requested: whether an C{<r/>} is out and unanswered.
    @ivar usedArchive: whether the client queried its archive (XEP-0313)
        during the session: then it catches up there.
    @ivar ending: whether the session is being ended for good.
    @ivar expiry: the delayed call that ends the session while detached.
    """

    __slots__ = ("session", "handler", "smId", "timeout", "handled", "sent", "acked", "unacked",
                 "priority", "requested", "usedArchive", "ending", "expiry")

    def __init__(self, session, handler, smId=None, timeout=0):
        self.session = session
        self.handler = handler
        self.smId = smId
        self.timeout = timeout
        self.handled = self.sent = self.acked = 0
        self.unacked = deque()
        self.priority = 0
        self.requested = self.usedArchive = self.ending = False
        self.expiry = None

    @property
    def resumable(self):
        """Whether the client asked for, and was granted, resumption (section 5)."""
        return self.smId is not None

    def countHandled(self):
        """A stanza from the client was received."""
        self.handled = (self.handled + 1) % MODULO

    def send(self, stanza):
        """Count and keep C{stanza}, then write it (a detached stream writes nothing)."""
        self.unacked.append((self.handler.clock.seconds(), stanza))
        self.sent = (self.sent + 1) % MODULO
        self.priority = self.session.priority
        self.session.stream.send(stanza)
        self.handler.queued(self)

    def ack(self, h):
        """
        The client has handled C{h} stanzas: forget those.  Raises
        L{HandledCountTooHigh} (changing nothing) if C{h} covers more than
        was sent.
        """
        count = (h - self.acked) % MODULO
        if count > len(self.unacked):
            raise HandledCountTooHigh(h, self.sent)
        unacked = self.unacked
        for _ in range(count):
            unacked.popleft()
        self.acked = h

    def stanzas(self):
        """The unacknowledged stanzas, oldest first."""
        return [stanza for _, stanza in self.unacked]

    def take(self):
        """(time written, stanza) of every unacknowledged stanza, oldest first; keep none."""
        kept = list(self.unacked)
        self.unacked.clear()
        return kept
