# -*- test-case-name: tests.storage.test_archive -*-
"""
The in-memory message archive (XEP-0313): the reference implementation of
L{IArchiveStore}, for unit tests and throw-away servers.  Paging follows
XEP-0059 and XEP-0313 section 4.3; messages are copied in and out so
callers cannot change what is stored.
"""

import bisect
import dataclasses
import time

from twisted.internet import defer
from zope.interface import implementer

from jabberd.storage.interfaces import IArchiveStore
from jabberd.storage.records import (ArchivePage, ArchivePreferences,
                                     UnknownArchiveId, bareJID, randomId)

__all__ = ["MemoryArchiveStore", "matchesWith"]


def matchesWith(message, with_):
    """
    Whether C{message} is with C{with_}: a bare JID matches the peer's bare
    JID, a full JID only that full peer (XEP-0313 section 4.1.1).
    """
    if "/" in with_:
        return message.peer == with_
    return bareJID(message.peer) == with_


def _copy(message):
    return dataclasses.replace(message)


@implementer(IArchiveStore)
class MemoryArchiveStore:
    """
    Each owner's archive is a list in append order; archive ids map to
    their positions through C{_positions} (one dict per owner, rebuilt
    after deletions).
    """

    def __init__(self):
        self.archives = {}
        self.preferences = {}
        self._positions = {}

    def append(self, owner, message):
        return defer.succeed(self._add(owner, message))

    def appendMany(self, entries):
        return defer.succeed([self._add(owner, message) for owner, message in entries])

    def _add(self, owner, message):
        if message.id is None:
            message.id = randomId()
        if message.stamp is None:
            message.stamp = time.time()
        archive = self.archives.setdefault(owner, [])
        self._positions.setdefault(owner, {})[message.id] = len(archive)
        archive.append(_copy(message))
        return message.id

    def _position(self, owner, archiveId):
        try:
            return self._positions.get(owner, {})[archiveId]
        except KeyError:
            raise UnknownArchiveId(archiveId) from None

    def _matches(self, owner, with_, start, end, beforeId, afterId, ids):
        """The positions of the messages passing the filters, ascending."""
        messages = self.archives.get(owner, [])
        low = 0 if afterId is None else self._position(owner, afterId) + 1
        high = len(messages) if beforeId is None else self._position(owner, beforeId)
        wanted = None if ids is None else set(ids)
        return [n for n in range(low, high)
                if (with_ is None or matchesWith(messages[n], with_))
                and (start is None or messages[n].stamp >= start)
                and (end is None or messages[n].stamp <= end)
                and (wanted is None or messages[n].id in wanted)]

    def query(self, owner, with_=None, start=None, end=None, beforeId=None,
              afterId=None, ids=None, max=None, after=None, before=None,
              flip=False):
        messages = self.archives.get(owner, [])
        try:
            matches = self._matches(owner, with_, start, end, beforeId, afterId, ids)
            low = self._position(owner, after) if after else -1
            high = self._position(owner, before) if before else len(messages)
        except UnknownArchiveId as e:
            return defer.fail(e)
        window = [n for n in matches if low < n < high]
        backwards = before is not None
        if max is None or len(window) <= max:
            page = window
        else:
            page = window[len(window) - max:] if backwards else window[:max]
        index = bisect.bisect_left(matches, page[0]) if page else None
        return defer.succeed(ArchivePage.fromItems(
            [_copy(messages[n]) for n in page], count=len(matches), index=index,
            complete=len(page) == len(window), flip=flip))

    def get(self, owner, id):
        try:
            message = self.archives[owner][self._position(owner, id)]
        except (KeyError, UnknownArchiveId):
            return defer.succeed(None)
        return defer.succeed(_copy(message))

    def countOwner(self, owner):
        return defer.succeed(len(self.archives.get(owner, [])))

    def _keep(self, owner, predicate):
        """Keep only the messages of C{owner} passing C{predicate}; how many went."""
        messages = self.archives.get(owner, [])
        kept = [m for m in messages if predicate(m)]
        if kept:
            self.archives[owner] = kept
            self._positions[owner] = {m.id: n for n, m in enumerate(kept)}
        else:
            self.archives.pop(owner, None)
            self._positions.pop(owner, None)
        return len(messages) - len(kept)

    def trim(self, owner, keep):
        newest = {m.id for m in self.archives.get(owner, [])[::-1][:keep]}
        return defer.succeed(self._keep(owner, lambda m: m.id in newest))

    def expire(self, before):
        removed = sum(self._keep(owner, lambda m: m.stamp >= before)
                      for owner in list(self.archives))
        return defer.succeed(removed)

    def removeOwner(self, owner):
        self.archives.pop(owner, None)
        self._positions.pop(owner, None)
        self.preferences.pop(owner, None)
        return defer.succeed(None)

    def getPreferences(self, owner):
        prefs = self.preferences.get(owner)
        return defer.succeed(None if prefs is None else _copyPreferences(prefs))

    def setPreferences(self, owner, prefs):
        self.preferences[owner] = _copyPreferences(prefs)
        return defer.succeed(None)

    def preferenceOwners(self):
        return defer.succeed(set(self.preferences))


def _copyPreferences(prefs):
    return ArchivePreferences(prefs.default, list(prefs.always), list(prefs.never))
