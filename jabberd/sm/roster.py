# -*- test-case-name: tests.sm.test_roster -*-
"""
Roster management (RFC 6121 section 2): roster get with roster versioning
(section 2.6), roster set and remove (sections 2.3 to 2.5), and roster pushes
to the user's interested resources (section 2.1.6).

Subscription states change in L{jabberd.sm.presence}; it stores and pushes
through L{RosterHandler.updateItem}, so every change reaches the clients the
same way.  Roster versions are the store's per-user counter, as a string.

Every read-modify-write of a user's roster runs under that user's lock
(L{RosterHandler.exclusive}): with a store that answers from a thread pool,
two stanzas about the same item (a client's approval crossing the contact's)
would otherwise each read the old item and one change would be lost.
"""

import itertools

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_ROSTER, NS_ROSTERVER_FEATURE
from jabberd.keyedlocks import KeyedLocks
from jabberd.sm.target import UNKNOWN_ACCOUNT
from jabberd.stanza import firstChild
from jabberd.storage import RosterItem

__all__ = ["RosterHandler", "itemElement", "usernameOf"]


def usernameOf(bare):
    """The storage key (localpart) of the bare JID string C{bare}."""
    return bare.partition("@")[0]


def itemElement(item, remove=False):
    """The C{<item/>} for L{RosterItem} C{item} (section 2.1.2)."""
    element = domish.Element((NS_ROSTER, "item"))
    element["jid"] = item.jid
    if item.name:
        element["name"] = item.name
    element["subscription"] = "remove" if remove else item.subscription
    if item.ask and not remove:
        element["ask"] = item.ask
    if item.approved and not remove:
        element["approved"] = "true"
    for group in item.groups:
        element.addElement("group", content=group)
    return element


def _query(iq):
    query = firstChild(iq, NS_ROSTER, "query")
    if query is None:
        raise StanzaError("bad-request")
    return query


class RosterHandler(IQHandler):
    """
    Answer roster gets and sets for the sender's own account and push every
    change to its interested resources.

    @ivar maxNameLength: the server-configured limit on the C{name}
        attribute (section 2.3.3: longer is C{not-acceptable}).
    @ivar maxGroupLength: the same for one C{<group/>}'s text.
    """

    handlerName = "roster"

    maxNameLength = 1023
    maxGroupLength = 1023

    def __init__(self):
        self._pushIds = itertools.count(1)
        self._locks = KeyedLocks()

    @property
    def storage(self):
        return self.host.storage

    def streamFeatures(self):
        """The stream features c2s offers for this handler: roster versioning (2.6.1)."""
        return [domish.Element((NS_ROSTERVER_FEATURE, "ver"))]

    # roster get (sections 2.1.3 and 2.6)

    @iqGet(NS_ROSTER)
    async def onRosterGet(self, iq):
        """Return the roster, or an empty result if the client's cache is current."""
        bare = await self.ownerOf(iq)
        session = self.host.session(iq.getAttribute("from"))
        if session is not None:
            session.interested = True
        username = usernameOf(bare)
        # The version is read before the items: a change in between makes
        # the client fetch again next time, never cache old items as new.
        version = str(await self.storage.roster.version(username))
        clientVersion = _query(iq).getAttribute("ver")
        if clientVersion == version:
            return None
        query = domish.Element((NS_ROSTER, "query"))
        if clientVersion is not None:
            query["ver"] = version
        for item in await self.storage.roster.items(username):
            query.addChild(itemElement(item))
        return query

    # roster set (sections 2.1.5, 2.3 to 2.5)

    @iqSet(NS_ROSTER)
    async def onRosterSet(self, iq):
        """Add, update or remove the one item of the set; answer an empty result."""
        bare = await self.ownerOf(iq)
        element = self._singleItem(_query(iq))
        contact = self._itemJID(element)
        if element.getAttribute("subscription") == "remove":
            await self.exclusive(bare, self.removeItem, bare, contact)
            return None
        name, groups = self._validate(element)
        await self.exclusive(bare, self._setItem, bare, contact, name, groups)
        return None

    async def _setItem(self, bare, contact, name, groups):
        item = await self.storage.roster.item(usernameOf(bare), contact) or RosterItem(contact)
        # Section 2.1.2: subscription (other than remove), ask and approved
        # are the server's business; a client only names and groups.
        item.name, item.groups = name, groups
        await self.updateItem(bare, item)

    async def ownerOf(self, iq):
        """
        The bare JID of the roster C{iq} addresses: the sender's own.

        @raise StanzaError: C{forbidden} for a sender that is no local
            account; C{service-unavailable} for anyone else's roster, whether
            that account exists or not (RFC 6121 section 8.5.1 for a missing
            one): the same answer, with no storage read, so the error tells
            nothing about which accounts exist.
        """
        sender = parseJID(iq.getAttribute("from") or "")
        if sender is None or sender.user is None or not self.host.isLocal(sender.host):
            raise StanzaError("forbidden")
        bare = sender.userhost()
        to = iq.getAttribute("to")
        if not to:
            return bare
        target = parseJID(to)
        if target is None:
            raise StanzaError("jid-malformed")
        if target.userhost() == bare:
            return bare
        raise StanzaError(UNKNOWN_ACCOUNT)

    def _singleItem(self, query):
        items = list(query.elements(NS_ROSTER, "item"))
        if len(items) != 1:
            raise StanzaError("bad-request", text="a roster set carries exactly one item")
        return items[0]

    def _itemJID(self, element):
        jid = element.getAttribute("jid")
        if not jid:
            raise StanzaError("bad-request", text="item without jid")
        parsed = parseJID(jid)
        if parsed is None:
            raise StanzaError("jid-malformed")
        return parsed.full()

    def _validate(self, element):
        """Return (name, groups) of a roster set item, checked per section 2.3.3."""
        name = element.getAttribute("name") or ""
        if len(name) > self.maxNameLength:
            raise StanzaError("not-acceptable", text="name too long")
        groups = []
        for group in element.elements(NS_ROSTER, "group"):
            text = str(group)
            if not text:
                raise StanzaError("not-acceptable", text="empty group name")
            if len(text) > self.maxGroupLength:
                raise StanzaError("not-acceptable", text="group name too long")
            if text in groups:
                raise StanzaError("bad-request", text="duplicate group")
            groups.append(text)
        return name, groups

    # storing and pushing (used by the presence handler too)

    def exclusive(self, bare, function, *args):
        """
        Run C{function(*args)} (a coroutine function, or one returning a
        Deferred) once no other change to C{bare}'s roster is running, in
        arrival order; return a Deferred of its result.
        """
        return self._locks.run(bare, function, *args)

    def updateItem(self, bare, item):
        """
        Store C{item} in C{bare}'s roster and push it to the interested
        resources; return a Deferred firing with the new roster version.
        """
        d = self.storage.roster.set(usernameOf(bare), item)
        d.addCallback(self._pushed, bare, item, False)
        return d

    async def removeItem(self, bare, contact):
        """
        Remove C{contact} from C{bare}'s roster, push the removal, and cancel
        the subscriptions both ways (section 2.5.2).

        @raise StanzaError: C{item-not-found} if it is not there (2.5.3).
        """
        username = usernameOf(bare)
        item = await self.storage.roster.item(username, contact)
        if item is None:
            raise StanzaError("item-not-found")
        pending = dict(await self.storage.roster.pending(username))
        version = await self.storage.roster.remove(username, contact)
        if contact in pending:
            await self.storage.roster.removePending(username, contact)
        self.pushItem(bare, item, version, remove=True)
        self._cancelSubscriptions(bare, item, contact in pending)
        return version

    def _pushed(self, version, bare, item, remove):
        self.pushItem(bare, item, version, remove)
        return version

    def pushItem(self, bare, item, version, remove=False):
        """
        Send a roster push of C{item} to every interested resource of
        C{bare}; the C{rosterChanged} hooks hear of it first.
        """
        self.host.notify("rosterChanged", bare, item.jid)
        for session in self.host.sessionsOf(bare):
            if session.interested:
                session.deliver(self._push(session.full, item, version, remove))

    def _push(self, to, item, version, remove):
        iq = domish.Element((None, "iq"))
        iq["type"] = "set"
        iq["id"] = f"push{next(self._pushIds)}"
        iq["to"] = to
        query = iq.addElement((NS_ROSTER, "query"))
        query["ver"] = str(version)
        query.addChild(itemElement(item, remove))
        return iq

    def _cancelSubscriptions(self, bare, item, pendingIn):
        """
        Section 2.5.2: a removed contact loses both directions: unsubscribe if
        the user was subscribed (or asking), unsubscribed if the contact was
        (or was asking), then unavailable from every available resource, as a
        cancelled subscription does (section 3.2.2).
        """
        if item.subscription in ("to", "both") or item.ask:
            self.send(_presence(bare, item.jid, "unsubscribe"))
        if item.subscription in ("from", "both") or pendingIn:
            self.send(_presence(bare, item.jid, "unsubscribed"))
        if item.subscription in ("from", "both"):
            for session in self.host.sessionsOf(bare):
                if session.available:
                    self.send(_presence(session.full, item.jid, "unavailable"))


def _presence(sender, to, presenceType):
    presence = domish.Element((None, "presence"))
    presence["from"] = sender
    presence["to"] = to
    presence["type"] = presenceType
    return presence
