# -*- test-case-name: tests.sm.test_userindex -*-
"""
Which users have a stored record of some kind (a block list, archive
preferences), read once when the session manager starts, so that the
login of anyone else needs no storage read of a record that is not there.

Most users never block anyone nor set archive preferences; without the
index every login would wait for one read per such record, and the block
list's read waits on the user's roster lock as well.  The index holds a
username per user who has the record, in memory: a few bytes per user who
uses the feature, none for those who don't.

Until the start-up read arrives (or if it fails), L{mayHave} answers True
for everyone: a login then reads as it would without the index.  Records
written meanwhile are noted with L{add}, so the index misses none of them.
"""

__all__ = ["UserIndex"]


class UserIndex:
    """
    The keys (usernames or bare JIDs) with a stored record.

    @ivar known: the keys, or None while the start-up read runs.
    """

    def __init__(self):
        self.known = None
        self._addedMeanwhile = set()

    def load(self, deferred, log, what):
        """
        Take the keys from C{deferred} (a Deferred of an iterable); a
        failure is logged (naming C{what}) and leaves the index unknown.
        """
        deferred.addCallbacks(self._loaded, lambda f: log.failure(
            "reading who has {what} failed; every login reads its own", f, what=what))

    def _loaded(self, keys):
        self.known = set(keys) | self._addedMeanwhile
        self._addedMeanwhile = None

    def mayHave(self, key):
        """Whether C{key} may have a stored record (False only if known not to)."""
        return self.known is None or key in self.known

    def add(self, key):
        """C{key} has a record now."""
        (self.known if self.known is not None else self._addedMeanwhile).add(key)
