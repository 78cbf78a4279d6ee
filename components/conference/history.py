# -*- test-case-name: tests.components.conference.test_muc_history -*-
"""
Discussion history of a room (XEP-0045 section 7.2, "Discussion
History" and "Managing Discussion History").

The room keeps its last messages as the reflected stanzas (from the
occupant JID, no C{to}); on entering, the client may limit what it gets
with C{maxstanzas}, C{maxchars}, C{seconds} and C{since}.  Stamping the
copies with XEP-0203 delay elements is the protocol layer's job.
"""

import time
from collections import deque

__all__ = ["History", "HistoryEntry", "HistoryRequest"]


class HistoryEntry:
    """A stored message: the reflected stanza and the UTC time it was sent."""

    __slots__ = ("stanza", "stamp", "_chars")

    def __init__(self, stanza, stamp):
        self.stanza = stanza
        self.stamp = stamp
        self._chars = None

    @property
    def chars(self):
        """Characters of the serialised stanza, computed once on demand."""
        if self._chars is None:
            self._chars = len(self.stanza.toXml())
        return self._chars


class HistoryRequest:
    """
    The limits of a C{<history/>} element; None means no limit.

    @ivar since: a POSIX timestamp.
    """

    __slots__ = ("maxstanzas", "maxchars", "seconds", "since")

    def __init__(self, maxstanzas=None, maxchars=None, seconds=None, since=None):
        self.maxstanzas = maxstanzas
        self.maxchars = maxchars
        self.seconds = seconds
        self.since = since


class History:
    """
    A bounded list of L{HistoryEntry}, oldest first.

    @ivar size: how many messages are kept.
    """

    def __init__(self, size):
        self.size = size
        self.entries = deque(maxlen=max(size, 0))

    def __len__(self):
        return len(self.entries)

    def add(self, stanza, stamp=None):
        """Keep C{stanza}; the oldest entry goes when the list is full."""
        self.entries.append(HistoryEntry(stanza, time.time() if stamp is None else stamp))

    def clear(self):
        """Forget everything."""
        self.entries.clear()

    def select(self, request, limit, now=None):
        """
        Return the entries C{request} asks for, oldest first, never more
        than C{limit} (the room's C{muc#maxhistoryfetch}).
        """
        maxstanzas = limit if request.maxstanzas is None else min(limit, request.maxstanzas)
        if maxstanzas <= 0 or request.maxchars == 0:
            return []
        oldest = _oldestStamp(request, time.time() if now is None else now)
        picked, chars = [], 0
        for entry in reversed(self.entries):
            if len(picked) >= maxstanzas or entry.stamp < oldest:
                break
            if request.maxchars is not None:
                chars += entry.chars
                if chars > request.maxchars:
                    break
            picked.append(entry)
        picked.reverse()
        return picked


def _oldestStamp(request, now):
    oldest = float("-inf")
    if request.seconds is not None:
        oldest = now - request.seconds
    if request.since is not None:
        oldest = max(oldest, request.since)
    return oldest
