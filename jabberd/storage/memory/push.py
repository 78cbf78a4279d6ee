# -*- test-case-name: tests.storage.test_push -*-
"""
The push registrations of XEP-0357 in memory: the reference implementation
of L{jabberd.storage.interfaces.IPushStore}.
"""

import dataclasses

from twisted.internet import defer
from zope.interface import implementer

from jabberd.storage.interfaces import IPushStore

__all__ = ["MemoryPushStore"]


@implementer(IPushStore)
class MemoryPushStore:
    """
    @ivar accounts: username -> {(jid, node): PushRegistration}; a user
        with no registration has no entry.
    """

    def __init__(self):
        self.accounts = {}

    def forget(self, username):
        self.accounts.pop(username, None)

    def registrations(self, username):
        enabled = self.accounts.get(username, {})
        return defer.succeed([dataclasses.replace(enabled[key]) for key in sorted(enabled)])

    def enable(self, username, registration, maxRegistrations=0):
        enabled = self.accounts.get(username, {})
        key = (registration.jid, registration.node)
        if key not in enabled and maxRegistrations and len(enabled) >= maxRegistrations:
            return defer.succeed(False)
        self.accounts.setdefault(username, enabled)[key] = dataclasses.replace(registration)
        return defer.succeed(True)

    def disable(self, username, jid, node=None):
        enabled = self.accounts.get(username, {})
        gone = [key for key in enabled if key[0] == jid and (node is None or key[1] == node)]
        for key in gone:
            del enabled[key]
        if not enabled:
            self.accounts.pop(username, None)
        return defer.succeed(len(gone))

    def users(self):
        return defer.succeed(set(self.accounts))
