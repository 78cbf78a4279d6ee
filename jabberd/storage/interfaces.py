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
        Create the account C{username} with C{credentials} (XEP-0077
        section 3.1, jabberdctl adduser).

        @return: a Deferred of None; it fails with
            L{jabberd.storage.UserExists} if the name is taken.
        """

    def exists(username):
        """
        Whether C{username} is an account (RFC 6121 section 8.5.1: stanzas
        to a missing account bounce).

        @return: a Deferred of True or False.
        """

    def get(username):
        """
        The credentials SASL checks (RFC 6120 section 6, RFC 5802 SCRAM).

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
        Remove the account only; L{IStorage.deleteUser} removes its data
        too (XEP-0077 section 3.2).

        @return: a Deferred of whether there was such an account.
        """

    def list():
        """
        Every account, for administration (jabberdctl users).

        @return: a Deferred of the usernames, sorted.
        """


class IRosterStore(Interface):
    """
    Rosters (RFC 6121 section 2) with their versions (section 2.6), and the
    inbound subscription requests awaiting the user's answer (section
    3.1.3), which are redelivered at each login until answered.
    """

    def items(username):
        """
        The roster (RFC 6121 section 2.1.3, roster get).

        @return: a Deferred of the list of C{username}'s
            L{jabberd.storage.RosterItem}s (copies the caller may change).
        """

    def item(username, jid):
        """
        One item, for subscription state (RFC 6121 section 3) and probes
        (section 4.3).

        @return: a Deferred of the L{RosterItem} for C{jid}, or None.
        """

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
        The roster version (RFC 6121 section 2.6).

        @return: a Deferred of the roster version, an integer that grows at
            every change; 0 for a roster never changed.
        """

    def addPending(username, jid, xml):
        """
        Keep the subscription request from C{jid} (its serialised presence),
        replacing an earlier one from the same JID (RFC 6121 section 3.1.3).

        @return: a Deferred of None.
        """

    def pending(username):
        """
        The kept requests, redelivered at login (RFC 6121 section 3.1.3).

        @return: a Deferred of the list of (jid, xml) of kept requests.
        """

    def removePending(username, jid):
        """
        Forget the request from C{jid}, answered (RFC 6121 sections 3.1.4
        and 3.1.5); nothing if there is none.

        @return: a Deferred of None.
        """

    def pendingUsers():
        """
        Who holds kept requests (RFC 6121 section 3.1.3), so logins of
        others need no read.

        @return: a Deferred of the set of usernames.
        """


class IOfflineStore(Interface):
    """The offline message spool (XEP-0160; XEP-0013 reads it by message)."""

    def store(username, xml, stamp=None):
        """
        Spool the message C{xml} for C{username}, received at C{stamp}
        (seconds since the epoch, UTC; now if None), per XEP-0160 section 3.

        @return: a Deferred of the message's id, fired once it is committed.
        """

    def count(username):
        """
        The spool's size, for quotas (XEP-0160 section 3) and XEP-0013
        section 2.2.

        @return: a Deferred of the number of messages spooled for C{username}.
        """

    def list(username):
        """
        The spool, delivered at login (XEP-0160 section 4) or listed by
        XEP-0013.

        @return: a Deferred of the spooled L{jabberd.storage.OfflineMessage}s,
            oldest first.
        """

    def remove(username, ids):
        """
        Remove the messages of C{username} with these ids, delivered
        (XEP-0160 section 4) or purged (XEP-0013 section 2.6).

        @return: a Deferred of None.
        """

    def users():
        """
        Who has spooled messages (XEP-0160), so logins of others need no read.

        @return: a Deferred of the set of usernames.
        """


class IVCardStore(Interface):
    """Each user's own vCard (XEP-0054, vcard-temp)."""

    def get(username):
        """
        The vCard a vcard-temp get returns (XEP-0054 section 3.1).

        @return: a Deferred of the serialised vCard, or None if none was set.
        """

    def set(username, xml):
        """
        Store C{xml} as the vCard of C{username}, replacing any earlier one
        (XEP-0054 section 3.2).

        @return: a Deferred of None.
        """


class IPrivateStore(Interface):
    """
    Private XML storage (XEP-0049, jabber:iq:private): elements keyed by
    C{"{namespace}name"}.
    """

    def get(username, key):
        """
        The element a jabber:iq:private get returns (XEP-0049 section 3).

        @return: a Deferred of the serialised element at C{key}, or None.
        """

    def set(username, key, xml):
        """
        Store C{xml} at C{key}, replacing any earlier element (XEP-0049
        section 3).

        @return: a Deferred of None.
        """


class ILastActivityStore(Interface):
    """When each user last logged out, and the status they left (XEP-0012)."""

    def get(username):
        """
        What a jabber:iq:last query to an offline user reports (XEP-0012
        section 4).

        @return: a Deferred of (stamp, status) of the last logout, or None.
        """

    def set(username, stamp, status):
        """
        Record a logout at C{stamp} (seconds since the epoch) with the
        status text of the unavailable presence (XEP-0012 section 4).

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
