# -*- test-case-name: tests.storage.test_memory -*-
"""
The in-memory store: the reference implementation of the storage interface,
for unit tests and throw-away servers.  Same methods, same Deferreds, as
L{jabberd.storage.sql.SQLStorage}.
"""

import copy
import time

from twisted.internet import defer

from jabberd.storage import OfflineMessage, UserExists

__all__ = ["MemoryStorage"]


def _d(value):
    return defer.succeed(value)


class MemoryStorage:
    """
    Everything in dictionaries keyed by username (the prepared localpart).
    Roster items are copied in and out so callers cannot mutate the store.
    """

    def __init__(self):
        self.accounts = {}
        self.rosters = {}
        self.rosterVersions = {}
        self.pending = {}
        self.offline = {}
        self.vcards = {}
        self.private = {}
        self.last = {}
        self._nextId = 1

    def close(self):
        return _d(None)

    # accounts

    def createUser(self, username, credentials):
        """Create an account; fails with L{UserExists} if taken."""
        if username in self.accounts:
            return defer.fail(UserExists(username))
        self.accounts[username] = dict(credentials)
        return _d(None)

    def userExists(self, username):
        return _d(username in self.accounts)

    def getCredentials(self, username):
        """Return the stored credentials dict, or None for no such user."""
        creds = self.accounts.get(username)
        return _d(dict(creds) if creds is not None else None)

    def setCredentials(self, username, credentials):
        if username not in self.accounts:
            return _d(False)
        self.accounts[username] = dict(credentials)
        return _d(True)

    def deleteUser(self, username):
        """Remove the account and every piece of its data."""
        existed = self.accounts.pop(username, None) is not None
        for table in (self.rosters, self.rosterVersions, self.pending,
                      self.offline, self.vcards, self.last):
            table.pop(username, None)
        for key in [k for k in self.private if k[0] == username]:
            del self.private[key]
        return _d(existed)

    def listUsers(self):
        return _d(sorted(self.accounts))

    # roster (RFC 6121 section 2)

    def getRoster(self, username):
        return _d([copy.deepcopy(i) for i in self.rosters.get(username, {}).values()])

    def getRosterItem(self, username, jid):
        item = self.rosters.get(username, {}).get(jid)
        return _d(copy.deepcopy(item))

    def setRosterItem(self, username, item):
        """Add or replace C{item}; returns the new roster version."""
        self.rosters.setdefault(username, {})[item.jid] = copy.deepcopy(item)
        return _d(self._bump(username))

    def removeRosterItem(self, username, jid):
        """Remove the item for C{jid}; returns the new roster version."""
        self.rosters.get(username, {}).pop(jid, None)
        return _d(self._bump(username))

    def getRosterVersion(self, username):
        return _d(self.rosterVersions.get(username, 0))

    def _bump(self, username):
        version = self.rosterVersions.get(username, 0) + 1
        self.rosterVersions[username] = version
        return version

    # inbound subscription requests awaiting the user's answer (section 3.1.3)

    def addPendingSubscription(self, username, jid, xml):
        self.pending.setdefault(username, {})[jid] = xml
        return _d(None)

    def getPendingSubscriptions(self, username):
        """Return [(jid, xml)] of stored inbound subscription requests."""
        return _d(list(self.pending.get(username, {}).items()))

    def removePendingSubscription(self, username, jid):
        self.pending.get(username, {}).pop(jid, None)
        return _d(None)

    def pendingSubscriptionUsers(self):
        """The usernames that have stored subscription requests."""
        return _d({name for name, requests in self.pending.items() if requests})

    # offline messages (XEP-0160)

    def storeOffline(self, username, xml, stamp=None):
        """Store a message; returns its id."""
        msgId = self._nextId
        self._nextId += 1
        self.offline.setdefault(username, []).append(
            OfflineMessage(msgId, xml, stamp if stamp is not None else time.time()))
        return _d(msgId)

    def offlineUsers(self):
        """The usernames that have offline messages stored."""
        return _d({name for name, messages in self.offline.items() if messages})

    def countOffline(self, username):
        return _d(len(self.offline.get(username, [])))

    def getOffline(self, username):
        """Return the stored L{OfflineMessage}s, oldest first."""
        return _d(list(self.offline.get(username, [])))

    def removeOffline(self, username, ids):
        ids = set(ids)
        self.offline[username] = [m for m in self.offline.get(username, []) if m.id not in ids]
        return _d(None)

    # vCard (XEP-0054) and private XML (XEP-0049)

    def getVCard(self, username):
        return _d(self.vcards.get(username))

    def setVCard(self, username, xml):
        self.vcards[username] = xml
        return _d(None)

    def getPrivate(self, username, key):
        """C{key} is C{"{namespace}name"} of the stored element."""
        return _d(self.private.get((username, key)))

    def setPrivate(self, username, key, xml):
        self.private[(username, key)] = xml
        return _d(None)

    # last activity (XEP-0012)

    def setLast(self, username, stamp, status):
        self.last[username] = (stamp, status)
        return _d(None)

    def getLast(self, username):
        """Return (stamp, status) of the last logout, or None."""
        return _d(self.last.get(username))
