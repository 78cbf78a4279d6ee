# -*- test-case-name: tests.storage.test_pendingindex -*-
"""
Which users have inbound subscription requests waiting (RFC 6121 section
3.1.3), kept in memory.

Every initial presence asks storage for the requests kept while the user
was offline, so they reach the new resource; almost always there are none,
and the query is a thread hop per login for nothing.  L{PendingIndex}
wraps the roster store: it loads the set of users holding requests once,
answers "none" from memory for everybody else, and passes every other call
through.  The set only grows between reads: a user enters it when a
request is stored and leaves when a read finds nothing and no request was
being stored meanwhile, so the index never says "none" for a user who has
one.  The offline spool keeps its holders the same way (XEP-0160).
"""

from twisted.internet import defer

from jabberd.logs import Logger
from jabberd.storage.rosterwrapper import RosterStoreWrapper

__all__ = ["PendingIndex"]


class PendingIndex(RosterStoreWrapper):
    """
    The roster store, with the users holding requests known in memory.
    """

    log = Logger()

    def __init__(self, store):
        RosterStoreWrapper.__init__(self, store)
        self._holders = None  # None until loaded: every read goes to storage
        self._added = set()  # requests stored while the set was loading
        self._stores = 0  # requests ever started, to spot one during a read
        self._storing = 0  # requests started and not yet committed
        store.pendingUsers().addCallbacks(self._loaded, self._loadFailed)

    def _loaded(self, usernames):
        self._holders = set(usernames) | self._added
        self._added = None

    def _loadFailed(self, failure):
        self.log.failure("pending subscription requests not indexed; reading them "
                         "from storage at every login", failure)
        self._added = None

    def _hold(self, username):
        if self._holders is not None:
            self._holders.add(username)
        elif self._added is not None:
            self._added.add(username)

    def addPending(self, username, jid, xml):
        self._stores += 1
        self._storing += 1
        self._hold(username)

        def stored(result):
            self._storing -= 1
            self._hold(username)  # a read that overlapped may have dropped the name
            return result

        return self.store.addPending(username, jid, xml).addBoth(stored)

    def pending(self, username):
        """Return [(jid, xml)] of stored requests; none at once for users without."""
        holders = self._holders
        if holders is not None and username not in holders:
            return defer.succeed([])
        stores = self._stores

        def read(requests):
            if (not requests and self._holders is not None and not self._storing
                    and self._stores == stores):
                self._holders.discard(username)
            return requests

        return self.store.pending(username).addCallback(read)
