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
           "IPrivateStore", "ILastActivityStore", "IArchiveStore", "IPubSubStore",
           "IStorage", "storeNames", "userStoreNames", "JID_STORES"]
__all__ += ["IBlockListStore"]
__all__ += ["IPushStore"]

# The stores keyed by JID, not by username: a message archive belongs to a
# bare JID (a user's or a room's), a PubSub service is a JID.  Their data
# goes with an account through the handlers that know its domains.
JID_STORES = ("archive", "pubsub")


def storeNames():
    """The names of the stores an L{IStorage} holds (its attributes), in order."""
    return [name for name, description in IStorage.namesAndDescriptions()
            if not isinstance(description, Method)]


def userStoreNames():
    """The stores keyed by username, which L{IStorage.deleteUser} empties of a user."""
    return [name for name in storeNames() if name not in JID_STORES]


class IAccountStore(Interface):
    """
    Accounts and their credentials (the dictionaries of L{jabberd.auth.credentials}),
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

    def users():
        """
        Who has a stored vCard, read once at start-up so that a login of
        anyone else needs no read for its avatar hash (XEP-0153).

        @return: a Deferred of the set of usernames.
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


class IBlockListStore(Interface):
    """
    Each user's block list (XEP-0191): the JIDs (full, bare, domain/resource
    or domain, as XEP-0016 section 2.1 matches them) the user blocks.
    """

    def items(username):
        """
        The block list (XEP-0191 section 3.2).

        @return: a Deferred of the sorted list of blocked JID strings.
        """

    def block(username, jids):
        """
        Add C{jids} to the block list; those already on it stay once
        (XEP-0191 section 3.3).

        @return: a Deferred of None, fired once committed.
        """

    def unblock(username, jids):
        """
        Remove C{jids} from the block list; JIDs not on it are ignored
        (XEP-0191 section 3.4).

        @return: a Deferred of None, fired once committed.
        """

    def unblockAll(username):
        """
        Empty the block list (XEP-0191 section 3.5).

        @return: a Deferred of the JIDs that were on it.
        """

    def users():
        """
        The users whose block list is not empty, read once at start-up so
        that a login of anyone else needs no read of their (empty) list.

        @return: a Deferred of a set of usernames.
        """


class IPushStore(Interface):
    """
    Each account's enabled push services (XEP-0357 section 5): at most one
    L{jabberd.storage.records.PushRegistration} per service JID and node.
    """

    def registrations(username):
        """
        The services notifications go to (XEP-0357 section 7).

        @return: a Deferred of the list of C{username}'s L{PushRegistration}s,
            sorted by JID and node.
        """

    def enable(username, registration, maxRegistrations=0):
        """
        Add C{registration}, or replace the one with the same JID and node
        (its publish options are those of the last request, section 5).
        A new one is refused when C{username} already has
        C{maxRegistrations} (0: no bound), in the same transaction.

        @return: a Deferred of True once committed, False if refused.
        """

    def disable(username, jid, node=None):
        """
        Remove the registration of C{jid} and C{node}, or every one of
        C{jid} when C{node} is None (XEP-0357 section 6).

        @return: a Deferred of the number removed, fired once committed.
        """

    def users():
        """
        Who has registrations, so that messages for anyone else need no
        read.

        @return: a Deferred of the set of usernames.
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
    archive = Attribute("The L{IArchiveStore} (XEP-0313).")
    pubsub = Attribute("The L{IPubSubStore} (XEP-0060, PEP XEP-0163).")
    blocklist = Attribute("The L{IBlockListStore} (XEP-0191).")
    push = Attribute("The L{IPushStore} (XEP-0357).")

    def deleteUser(username):
        """
        Remove the account C{username} and all of its data from every store
        keyed by username (L{userStoreNames}; XEP-0077 section 3.2); an SQL
        storage does so in one transaction.

        @return: a Deferred of whether there was such an account.
        """

    def close():
        """
        Finish queued work and release the database.

        @return: a Deferred fired once closed; later calls fail.
        """


class IArchiveStore(Interface):
    """
    Message archives (XEP-0313), one per owner: a user's bare JID or a
    room's JID (MUC archives, XEP-0313 section 3).  Messages are kept in
    the order they were appended; ids are stable and unguessable.
    """

    def append(owner, message):
        """
        Archive the L{ArchivedMessage} C{message} for C{owner}.  A message
        whose C{id} is already set keeps it (a caller-chosen L{randomId},
        so that the handler can stamp the XEP-0359 stanza-id on the stanza
        it delivers without waiting for the write); otherwise the store
        chooses one.

        @return: a Deferred of the new archive id, a string usable as the
            XEP-0359 stanza-id; the message's C{id} and C{stamp} are set.
        """

    def appendMany(entries):
        """
        Archive each (owner, L{ArchivedMessage}) pair of C{entries}, in that
        order and in one transaction (group commit: one durable write for
        all the messages that arrived while the previous write was under
        way), as L{append} does each.

        @return: a Deferred of the list of their archive ids.
        """

    def query(owner, with_=None, start=None, end=None, beforeId=None,
              afterId=None, ids=None, max=None, after=None, before=None,
              flip=False):
        """
        One page of C{owner}'s archive (XEP-0313 section 4, XEP-0059).

        Filters (XEP-0313 section 4.1), all optional and combined: C{with_}
        a bare JID matches the peer's bare JID, a full JID the full peer
        (section 4.1.1); C{start}/C{end} UTC seconds, inclusive (section
        4.1.2); C{afterId}/C{beforeId} archive ids, exclusive, and C{ids}
        a list of archive ids (section 4.1.3).

        Paging (XEP-0059): C{max} the page size (None: no limit; the
        handler applies its own bound); C{after} an archive id to page
        forwards from; C{before} an archive id to page backwards from, or
        C{""} for the last page (XEP-0059 section 2.5); C{flip} reverses
        the page (XEP-0313 section 4.3, flip-page).

        @return: a Deferred of an L{ArchivePage}; it fails with
            L{UnknownArchiveId} if C{after}, C{before}, C{afterId} or
            C{beforeId} is not in the archive.
        """

    def get(owner, id):
        """A Deferred of the L{ArchivedMessage} with archive id C{id}, or None."""

    def countOwner(owner):
        """A Deferred of the number of messages in C{owner}'s archive."""

    def trim(owner, keep):
        """Delete all but C{owner}'s newest C{keep} messages; a Deferred of how many went."""

    def expire(before):
        """
        Retention: delete every message (of every owner) archived before
        the UTC time C{before}; a Deferred of how many went.
        """

    def removeOwner(owner):
        """Delete C{owner}'s archive and preferences (the account was deleted)."""

    def getPreferences(owner):
        """
        A Deferred of C{owner}'s L{ArchivePreferences}, or None if never
        set (the handler then applies the server's default).
        """

    def setPreferences(owner, prefs):
        """Replace C{owner}'s L{ArchivePreferences}."""

    def preferenceOwners():
        """
        The owners who ever set preferences, read once at start-up so that
        a login of anyone else needs no read of preferences never set.

        @return: a Deferred of a set of owners.
        """


class IPubSubStore(Interface):
    """
    PubSub nodes, items, affiliations and subscriptions (XEP-0060), for
    every service: PEP on each account (XEP-0163, the service is the
    account's bare JID) and a C{pubsub.DOMAIN} service.  The store knows
    no access rules: the handler decides who may do what.

    Methods naming a node fail with L{NodeNotFound} if it does not exist.
    """

    def createNode(service, node, config, owner=None):
        """
        Create C{node} with the L{NodeConfig} C{config} and, in the same
        transaction, give C{owner} (if given) the owner affiliation.

        @return: a Deferred of the L{PubSubNode}; it fails with
            L{NodeExists} if the node exists.
        """

    def getNode(service, node):
        """A Deferred of the L{PubSubNode}, or None."""

    def listNodes(service):
        """A Deferred of the service's L{PubSubNode}s, oldest first."""

    def countNodes(service):
        """A Deferred of the number of nodes at C{service} (for its bound)."""

    def configureNode(service, node, config):
        """
        Replace the node's configuration, dropping the oldest items beyond
        a lowered C{max_items} in the same transaction.
        """

    def deleteNode(service, node):
        """Delete the node with its items, affiliations and subscriptions."""

    def publish(service, node, item):
        """
        Store the L{PubSubItem} C{item} as the newest of C{node}
        (XEP-0060 section 7.1): an item with the same id is replaced; an
        item without id gets a generated one.  The oldest items beyond the
        node's C{max_items} are deleted in the same transaction.

        @return: a Deferred of the item id.
        """

    def getItems(service, node, ids=None, maxItems=None):
        """
        A Deferred of the node's L{PubSubItem}s, newest first: those with
        the given C{ids} (unknown ones are left out), and at most the
        C{maxItems} newest (XEP-0060 section 6.5).
        """

    def lastItem(service, node):
        """A Deferred of the newest L{PubSubItem}, or None (XEP-0060 section 6.1.7)."""

    def retract(service, node, ids):
        """Delete the items with C{ids}; a Deferred of the ids that existed (section 7.2)."""

    def purge(service, node):
        """Delete every item of the node; a Deferred of how many went (section 8.5)."""

    def setAffiliation(service, node, jid, affiliation):
        """
        Set C{jid}'s affiliation (owner, publisher, publish-only, member,
        outcast); C{"none"} removes it (XEP-0060 section 4.1).
        """

    def getAffiliations(service, node):
        """A Deferred of a dict: JID to affiliation, for the node (section 8.9)."""

    def getEntityAffiliations(service, jid):
        """A Deferred of a dict: node to C{jid}'s affiliation, at C{service} (section 5.7)."""

    def subscribe(service, node, jid, state="subscribed", options=None):
        """
        Subscribe C{jid} (or update its subscription's state and options).

        @return: a Deferred of the L{PubSubSubscription}; its C{subid}
            stays the same across updates.
        """

    def unsubscribe(service, node, jid):
        """Remove C{jid}'s subscription; a Deferred of whether there was one."""

    def getSubscriptions(service, node):
        """A Deferred of the node's L{PubSubSubscription}s (section 8.8)."""

    def getSubscriberSubscriptions(jid, service=None):
        """
        A Deferred of C{jid}'s L{PubSubSubscription}s at every service, or
        at C{service} only (section 5.6).
        """

    def servicesWithNodes():
        """
        The services that have at least one node, read once at start-up
        so that a resource coming online needs no read of services with
        none (most accounts never publish).

        @return: a Deferred of a set of service JIDs (strings).
        """

    def removeService(service):
        """Delete every node of C{service} with its items, affiliations and subscriptions."""
