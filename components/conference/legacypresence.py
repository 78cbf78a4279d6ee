# -*- test-case-name: tests.components.conference.test_muc_legacypresence -*-
"""
Presence sent to a room's bare address before a C{jabber:iq:conference}
join (the old "availability" step, see L{components.conference.legacy}),
kept until the join's iq set picks it up.

Anyone may send presence without the MUC extension to any room address,
so what is kept is bounded three ways: the entries per room
(C{max_legacy_presences_per_room}) and in all
(C{max_legacy_presences}), the oldest giving way first (an entry is
normally picked up within moments, by the iq that follows it); and the
size of one entry (C{max_legacy_presence_bytes}): the presence's
children are kept in order while they fit, the rest dropped.  An
unavailable presence to the bare room address, or the join, removes it.
"""

from collections import OrderedDict

__all__ = ["LegacyPresences", "DEFAULT_PER_ROOM", "DEFAULT_TOTAL", "DEFAULT_ENTRY_BYTES"]

DEFAULT_PER_ROOM = 50
DEFAULT_TOTAL = 5000
DEFAULT_ENTRY_BYTES = 2048


class LegacyPresences:
    """
    (room JID, real JID) -> the presence children to repeat on the join.

    @ivar maxPerRoom: entries kept for one room.
    @ivar maxTotal: entries kept for all rooms.
    @ivar maxEntryBytes: serialised bytes of children kept per entry.
    """

    def __init__(self, maxPerRoom=DEFAULT_PER_ROOM, maxTotal=DEFAULT_TOTAL,
                 maxEntryBytes=DEFAULT_ENTRY_BYTES):
        self.maxPerRoom, self.maxTotal, self.maxEntryBytes = maxPerRoom, maxTotal, maxEntryBytes
        self._all = OrderedDict()  # (room, sender) -> children, oldest first
        self._rooms = {}  # room -> OrderedDict of senders, oldest first

    def __len__(self):
        return len(self._all)

    def __contains__(self, key):
        return key in self._all

    def countFor(self, roomJid):
        """How many entries C{roomJid} has."""
        return len(self._rooms.get(roomJid, ()))

    def put(self, roomJid, sender, children):
        """Keep C{children} (what fits) for C{sender}'s join of C{roomJid}."""
        self.pop((roomJid, sender))
        senders = self._rooms.setdefault(roomJid, OrderedDict())
        while len(senders) >= self.maxPerRoom:
            self.pop((roomJid, next(iter(senders))))
            senders = self._rooms.setdefault(roomJid, OrderedDict())
        while len(self._all) >= self.maxTotal:
            self.pop(next(iter(self._all)))
            senders = self._rooms.setdefault(roomJid, OrderedDict())
        senders[sender] = None
        self._all[(roomJid, sender)] = self._fitting(children)

    def _fitting(self, children):
        kept, size = [], 0
        for child in children:
            size += len(child.toXml().encode("utf-8"))
            if size > self.maxEntryBytes:
                break
            kept.append(child)
        return kept

    def pop(self, key, default=None):
        """Remove and return the entry for C{key}, (room JID, real JID), or C{default}."""
        children = self._all.pop(key, None)
        if children is None:
            return default
        roomJid, sender = key
        senders = self._rooms[roomJid]
        del senders[sender]
        if not senders:
            del self._rooms[roomJid]
        return children
