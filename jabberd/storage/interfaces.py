# -*- test-case-name: tests.storage.test_archive -*-
"""
Store interfaces.  Every method returns a Deferred: SQL implementations
run their blocking work in a thread pool and fire the Deferred of a write
only after its transaction committed; memory implementations answer at
once.  Records and errors are in L{jabberd.storage.records}.
"""

from zope.interface import Interface

__all__ = ["IArchiveStore", "IPubSubStore"]


class IArchiveStore(Interface):
    """
    Message archives (XEP-0313), one per owner: a user's bare JID or a
    room's JID (MUC archives, XEP-0313 section 3).  Messages are kept in
    the order they were appended; ids are stable and unguessable.
    """

    def append(owner, message):
        """
        Archive the L{ArchivedMessage} C{message} for C{owner}.

        @return: a Deferred of the new archive id, a string usable as the
            XEP-0359 stanza-id; the message's C{id} and C{stamp} are set.
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

    def removeService(service):
        """Delete every node of C{service} with its items, affiliations and subscriptions."""
