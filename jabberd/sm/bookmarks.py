# -*- test-case-name: tests.sm.test_bookmarks -*-
"""
PEP Native Bookmarks (XEP-0402) and the older forms kept in step with them
(section 5.3, "Compatibility"), on every account's PEP service.

 - The node C{urn:xmpp:bookmarks:1} is plain PEP (L{jabberd.sm.pep}):
   clients publish one item per room with the publish-options of section
   3 and get notifications by C{+notify}.  What is published there is
   checked (section 3): a C{<conference/>} payload, the room's bare JID as
   item id (C{jid-malformed} otherwise), and no room past the node's item
   limit (C{policy-violation}: a bookmark is never dropped to make room).
 - C{#compat}: a XEP-0048 C{<storage xmlns='storage:bookmarks'/>} set in
   private XML storage (XEP-0049) becomes the node's items (new and
   changed rooms published, rooms left out retracted, with notifications);
   a get of it is answered from the node, so an old client sees what a
   XEP-0402 client bookmarked.  The stored element keeps what has no
   XEP-0402 form (C{<url/>}); an account whose node does not exist yet has
   its stored bookmarks converted on the first get.
 - C{#compat-pep}: the XEP-0048 PEP node C{storage:bookmarks} (one item,
   C{current}, XEP-0223 options) is written from the node after every
   change, and what an old client publishes there becomes the node's items.
 - Each account's conversions run one at a time, in order.  A write that
   changes nothing is not made, and the legacy item this handler wrote is
   not converted back, so conversions do not loop.
 - The account's disco#info lists C{#compat} and C{#compat-pep} as
   configured (C{[bookmarks]}).
"""

from twisted.internet import defer

from jabberd.error import StanzaError
from jabberd.handler import Handler
from jabberd.ns import NS_BOOKMARKS, NS_BOOKMARKS2, NS_BOOKMARKS2_COMPAT, NS_BOOKMARKS2_COMPAT_PEP
from jabberd.pubsub.access import Standing
from jabberd.pubsub.config import itemLimit
from jabberd.pubsub.events import payloadOf
from jabberd.sm.bookmarkforms import fromItem, fromStorage, storageOthers, toItemPayload, toStorage
from jabberd.keyedlocks import KeyedLocks
from jabberd.sm.private import storageKey
from jabberd.stanza import parseElement, serializeElement

__all__ = ["BookmarksHandler", "NODE_OPTIONS", "LEGACY_OPTIONS"]

#: The publish-options of XEP-0402 section 3, for the node this handler creates.
NODE_OPTIONS = {"pubsub#persist_items": ["true"], "pubsub#max_items": ["max"],
                "pubsub#send_last_published_item": ["never"],
                "pubsub#access_model": ["whitelist"]}
#: XEP-0223 section 3 (private data in PEP), for the legacy node it creates.
LEGACY_OPTIONS = {"pubsub#persist_items": ["true"], "pubsub#access_model": ["whitelist"]}
#: The legacy node's one item (XEP-0048 section 3.3).
LEGACY_ITEM = "current"

_TO_LEGACY, _FROM_LEGACY = "to legacy", "from legacy"


def _parsed(payload):
    try:
        return parseElement(payload)
    except ValueError:
        return None


def _isStorage(element):
    return (element.uri, element.name) == (NS_BOOKMARKS, "storage")


def _rooms(bookmarks):
    """Room JID -> bookmark without extensions: what the XEP-0048 form can say."""
    return {b.jid: b.withExtensions(None) for b in bookmarks}


class BookmarksHandler(Handler):
    """
    Keep every account's bookmarks one list in three forms.

    @ivar compat: whether private XML bookmarks are converted (C{#compat}).
    @ivar compatPEP: whether the legacy PEP node is (C{#compat-pep}).
    @ivar written: account -> the legacy item this handler last wrote.
    """

    handlerName = "bookmarks"
    requires = ("pep", "private")

    def __init__(self, compat=True, compatPEP=True):
        self.compat, self.compatPEP = compat, compatPEP
        self.written = {}
        self._locks = KeyedLocks()
        self._queued = set()

    @classmethod
    def fromConfig(cls, config):
        """The handler as C{[bookmarks]} of C{config} says."""
        return cls(compat=config.bookmarks.compat, compatPEP=config.bookmarks.compatPEP)

    def setHost(self, host):
        super().setHost(host)
        engine = self.pep.engine
        engine.addPublishCheck(NS_BOOKMARKS2, self.checkItem)
        if self.compatPEP:
            engine.addPublishCheck(NS_BOOKMARKS, self.checkLegacy)

    @property
    def pep(self):
        return self.host.handler("pep")

    # --- what may be published (section 3) ---

    async def checkItem(self, service, record, itemId, payload):
        """A XEP-0402 item: a conference, its id a room JID, within the node's limit."""
        fromItem(itemId, _parsed(payload))
        store = self.host.storage.pubsub
        if await store.getItems(service, NS_BOOKMARKS2, ids=[itemId]):
            return  # it replaces a bookmark
        limit = itemLimit(record.config, self.pep.limits)
        if len(await store.getItems(service, NS_BOOKMARKS2)) >= limit:
            raise _tooMany(limit)

    async def checkLegacy(self, service, record, itemId, payload):
        """A XEP-0048 list for the legacy node: well-formed, within the XEP-0402 node's limit."""
        await self._checkCount(service, fromStorage(_parsed(payload)))

    async def _checkCount(self, service, bookmarks):
        record = await self.host.storage.pubsub.getNode(service, NS_BOOKMARKS2)
        limits = self.pep.limits
        limit = itemLimit(record.config, limits) if record else limits.maxItemsPerNode
        if len(bookmarks) > limit:
            raise _tooMany(limit)

    # --- one account's conversions, one at a time ---

    def _schedule(self, service, kind):
        """Queue one conversion of C{kind} for the account, unless one is waiting already."""
        if (service, kind) in self._queued:
            return
        self._queued.add((service, kind))
        d = self._locks.run(service, self._convert, service, kind)
        d.addErrback(lambda f: self.log.failure("converting the bookmarks of {jid}", f,
                                                jid=service))

    async def _convert(self, service, kind):
        self._queued.discard((service, kind))
        if kind == _TO_LEGACY:
            await self._toLegacy(service)
        else:
            await self._fromLegacy(service)

    # --- the XEP-0402 node ---

    async def items(self, service):
        """
        Room JID -> (item id, L{Bookmark}) of the account's XEP-0402 node,
        oldest first, or None when it has no node.
        """
        store = self.host.storage.pubsub
        if await store.getNode(service, NS_BOOKMARKS2) is None:
            return None
        found = {}
        for item in reversed(await store.getItems(service, NS_BOOKMARKS2)):
            try:
                bookmark = fromItem(item.id, payloadOf(item))
            except StanzaError:
                self.log.warn("unreadable bookmark {id} of {jid}", id=item.id, jid=service)
                continue
            found[bookmark.jid] = (item.id, bookmark)
        return found

    async def _apply(self, service, bookmarks):
        """
        Make the XEP-0402 node hold C{bookmarks} (section 5.3): retract the
        rooms left out, then publish the new and changed ones, keeping the
        C{<extensions/>} of the items they update.
        """
        current = await self.items(service)
        options = NODE_OPTIONS if current is None else None
        current = current or {}
        wanted = {b.jid for b in bookmarks}
        owner = Standing(service, owner=True)
        engine = self.pep.engine
        gone = [itemId for jid, (itemId, _b) in current.items() if jid not in wanted]
        if gone:
            await engine.retract(service, NS_BOOKMARKS2, owner, gone, notify=True)
        self.pep.withNodes.add(service)
        for bookmark in bookmarks:
            itemId, old = current.get(bookmark.jid, (bookmark.jid, None))
            if old is not None:
                bookmark = bookmark.withExtensions(old.extensions)
            if bookmark != old:
                await engine.publish(service, NS_BOOKMARKS2, owner,
                                     serializeElement(toItemPayload(bookmark)), itemId, options)
                options = None

    # --- the legacy PEP node (#compat-pep) ---

    def pepChanged(self, service, node):
        """One of the account's bookmark nodes changed: bring the other in step."""
        if not self.compatPEP:
            return
        if node == NS_BOOKMARKS2:
            self._schedule(service, _TO_LEGACY)
        elif node == NS_BOOKMARKS:
            self._schedule(service, _FROM_LEGACY)

    async def _legacyItem(self, service):
        """The legacy node's record and its newest item (None, None without the node)."""
        store = self.host.storage.pubsub
        record = await store.getNode(service, NS_BOOKMARKS)
        if record is None:
            return None, None
        return record, await store.lastItem(service, NS_BOOKMARKS)

    async def _toLegacy(self, service):
        current = await self.items(service) or {}
        record, item = await self._legacyItem(service)
        if record is None and not current:
            return
        legacy = payloadOf(item) if item is not None else None
        legacy = legacy if legacy is not None and _isStorage(legacy) else None
        bookmarks = [bookmark for _id, bookmark in current.values()]
        others = storageOthers(legacy)
        if legacy is not None and self._same(legacy, bookmarks, others):
            return
        text = serializeElement(toStorage(bookmarks, others))
        self.written[service] = text
        self.pep.withNodes.add(service)
        try:
            await self.pep.engine.publish(service, NS_BOOKMARKS, Standing(service, owner=True),
                                          text, LEGACY_ITEM, None if record else LEGACY_OPTIONS)
        except StanzaError as e:
            # The list past [pep] max_item_size, or a legacy node configured
            # otherwise: the XEP-0402 node still has every bookmark.
            self.written.pop(service, None)
            self.log.warn("legacy bookmarks of {jid} not written: {why}", jid=service,
                          why=e.text or e.condition)

    def _same(self, legacy, bookmarks, others):
        try:
            said = fromStorage(legacy)
        except StanzaError:
            return False
        return _rooms(said) == _rooms(bookmarks) and storageOthers(legacy) == others

    async def _fromLegacy(self, service):
        _record, item = await self._legacyItem(service)
        if item is None or self.written.pop(service, None) == item.xml:
            return  # nothing there, or what this handler wrote
        try:
            bookmarks = fromStorage(payloadOf(item))
        except StanzaError:
            self.log.warn("unreadable legacy bookmarks of {jid}", jid=service)
            return
        await self._apply(service, bookmarks)

    # --- private XML storage (#compat) ---

    def privateStoring(self, account, element):
        """Section 5.3: a XEP-0048 list stored privately becomes the node's items."""
        if not self.compat or not _isStorage(element):
            return []
        return [defer.ensureDeferred(self._fromPrivate(account, element))]

    async def _fromPrivate(self, service, storage):
        bookmarks = fromStorage(storage)
        await self._checkCount(service, bookmarks)
        await self._locks.run(service, self._apply, service, bookmarks)

    def privateReading(self, account, element):
        """Section 5.3: a private get of XEP-0048 bookmarks is answered from the node."""
        if not self.compat or not _isStorage(element):
            return None
        return self._locks.run(account, self._readPrivate, account)

    async def _readPrivate(self, service):
        stored = await self.host.storage.private.get(service.partition("@")[0],
                                                     storageKey(toStorage([])))
        storage = _parsed(stored) if stored else None
        current = await self.items(service)
        if current is None:
            await self._migrate(service, storage)
            return None  # what is stored answers
        return toStorage([bookmark for _id, bookmark in current.values()],
                         storageOthers(storage))

    async def _migrate(self, service, storage):
        """Bookmarks stored before the node existed (XEP-0411 section 3) are published."""
        if storage is None:
            return
        try:
            bookmarks = fromStorage(storage)
            await self._checkCount(service, bookmarks)
        except StanzaError as e:
            self.log.warn("stored bookmarks of {jid} not converted: {why}", jid=service,
                          why=e.text or e.condition)
            return
        if bookmarks:
            await self._apply(service, bookmarks)

    # --- the account ---

    def userDeleted(self, username):
        """The account's nodes go with PEP's; forget what was written for it."""
        for domain in self.host.domains:
            self.written.pop(f"{username}@{domain}", None)

    def discoFeatures(self, target, node):
        """Section 5.3: the compatibility this server keeps, on the account."""
        if node or target.user is None:
            return []
        return ([NS_BOOKMARKS2_COMPAT] if self.compat else []) + \
            ([NS_BOOKMARKS2_COMPAT_PEP] if self.compatPEP else [])


def _tooMany(limit):
    return StanzaError("policy-violation", text=f"at most {limit} bookmarks")
