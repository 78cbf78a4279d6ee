# -*- test-case-name: tests.storage.test_memory -*-
"""
The storage interfaces: one small store per kind of data a user has, and
L{IStorage}, the container holding one store of each kind.

Every method returns a Deferred, so an SQL store can run its blocking calls
in worker threads and never on the reactor; a Deferred fires once the
change is committed, so what has been acknowledged survives a restart.
Usernames are prepared localparts (RFC 7622 section 3.3) and JIDs are bare
JIDs.  XML payloads (offline messages, vCards, private XML) are serialised
text that the stores never parse.
"""

from zope.interface import Attribute, Interface
from zope.interface.interface import Method

__all__ = ["IAccountStore", "IRosterStore", "IOfflineStore", "IVCardStore",
           "IPrivateStore", "ILastActivityStore", "IStorage", "storeNames"]


def storeNames():
    """The names of the stores an L{IStorage} holds (its attributes), in order."""
    return [name for name, description in IStorage.namesAndDescriptions()
            if not isinstance(description, Method)]


class IAccountStore(Interface):
    """
    Accounts and their credentials (the dictionaries of L{jabberd.auth}),
    for SASL (RFC 6120 section 6), legacy authentication (XEP-0078) and
    in-band registration (XEP-0077).
    """

    def create(username, credentials):
        """
        Create the account C{username} with C{credentials}.

        @return: a Deferred of None; it fails with
            L{jabberd.storage.UserExists} if the name is taken.
        """

    def exists(username):
        """@return: a Deferred of whether the account C{username} exists."""

    def get(username):
        """
        @return: a Deferred of a copy of the stored credentials dictionary,
            or None if there is no such account.
        """

    def set(username, credentials):
        """
        Replace the credentials of C{username} (a password change, XEP-0077
        section 3.3).

        @return: a Deferred of True, or False if there is no such account
            (none is created).
        """

    def delete(username):
        """
        Remove the account only; L{IStorage.deleteUser} removes its data too.

        @return: a Deferred of whether there was such an account.
        """

    def list():
        """@return: a Deferred of every username, sorted."""


class IRosterStore(Interface):
    """
    Rosters (RFC 6121 section 2) with their versions (section 2.6), and the
    inbound subscription requests awaiting the user's answer (section
    3.1.3), which are redelivered at each login until answered.
    """

    def items(username):
        """
        @return: a Deferred of the list of C{username}'s
            L{jabberd.storage.RosterItem}s (copies the caller may change).
        """

    def item(username, jid):
        """@return: a Deferred of the L{RosterItem} for C{jid}, or None."""

    def set(username, item):
        """
        Add C{item}, or replace the item with the same JID (section 2.1.5).

        @return: a Deferred of the new roster version.
        """

    def remove(username, jid):
        """
        Remove the item for C{jid}, if any (section 2.5).

        @return: a Deferred of the new roster version.
        """

    def version(username):
        """
        @return: a Deferred of the roster version, an integer that grows at
            every change; 0 for a roster never changed.
        """

    def addPending(username, jid, xml):
        """
        Keep the subscription request from C{jid} (its serialised presence),
        replacing an earlier one from the same JID.

        @return: a Deferred of None.
        """

    def pending(username):
        """@return: a Deferred of the list of (jid, xml) of kept requests."""

    def removePending(username, jid):
        """
        Forget the request from C{jid} (answered); nothing if there is none.

        @return: a Deferred of None.
        """

    def pendingUsers():
        """@return: a Deferred of the set of usernames holding requests."""


class IOfflineStore(Interface):
    """The offline message spool (XEP-0160; XEP-0013 reads it by message)."""

    def store(username, xml, stamp=None):
        """
        Spool the message C{xml} for C{username}, received at C{stamp}
        (seconds since the epoch, UTC; now if None).

        @return: a Deferred of the message's id, fired once it is committed.
        """

    def count(username):
        """@return: a Deferred of the number of messages spooled for C{username}."""

    def list(username):
        """
        @return: a Deferred of the spooled L{jabberd.storage.OfflineMessage}s,
            oldest first.
        """

    def remove(username, ids):
        """
        Remove the messages of C{username} with these ids (delivered).

        @return: a Deferred of None.
        """

    def users():
        """@return: a Deferred of the set of usernames with spooled messages."""


class IVCardStore(Interface):
    """Each user's own vCard (XEP-0054, vcard-temp)."""

    def get(username):
        """@return: a Deferred of the serialised vCard, or None if none was set."""

    def set(username, xml):
        """
        Store C{xml} as the vCard of C{username}, replacing any earlier one.

        @return: a Deferred of None.
        """


class IPrivateStore(Interface):
    """
    Private XML storage (XEP-0049, jabber:iq:private): elements keyed by
    C{"{namespace}name"}.
    """

    def get(username, key):
        """@return: a Deferred of the serialised element at C{key}, or None."""

    def set(username, key, xml):
        """
        Store C{xml} at C{key}, replacing any earlier element.

        @return: a Deferred of None.
        """


class ILastActivityStore(Interface):
    """When each user last logged out, and the status they left (XEP-0012)."""

    def get(username):
        """@return: a Deferred of (stamp, status) of the last logout, or None."""

    def set(username, stamp, status):
        """
        Record a logout at C{stamp} (seconds since the epoch) with the
        status text of the unavailable presence.

        @return: a Deferred of None.
        """


class IStorage(Interface):
    """
    The server's storage: one store of each kind, on one database.
    """

    accounts = Attribute("The L{IAccountStore}.")
    roster = Attribute("The L{IRosterStore}.")
    offline = Attribute("The L{IOfflineStore}.")
    vcards = Attribute("The L{IVCardStore}.")
    private = Attribute("The L{IPrivateStore}.")
    last = Attribute("The L{ILastActivityStore}.")

    def deleteUser(username):
        """
        Remove the account C{username} and all of its data from every store
        (XEP-0077 section 3.2); an SQL storage does so in one transaction.

        @return: a Deferred of whether there was such an account.
        """

    def close():
        """
        Finish queued work and release the database.

        @return: a Deferred fired once closed; later calls fail.
        """
