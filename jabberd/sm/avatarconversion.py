# -*- test-case-name: tests.sm.test_avatarconversion -*-
"""
User Avatar to vCard-Based Avatars Conversion (XEP-0398): an avatar
published in one protocol is available in the other, for clients of both.

 - From PEP to vCard (section 3.1): when a client publishes to the
   C{urn:xmpp:avatar:metadata} node, the C{<info/>} without a C{url} is
   looked up in the C{urn:xmpp:avatar:data} node by its id, its SHA-1 is
   checked, and the image becomes the vCard C{<PHOTO/>} (C{<TYPE/>} from
   the info, C{<BINVAL/>}); the rest of the vCard stays.  Metadata that
   disables the avatar (XEP-0084 section 4.5, an empty C{<metadata/>}),
   and retracting the metadata (or purging or deleting its node) with none
   left, remove the photo; the XEP-0153 hash in presence follows.
 - From vCard to PEP (section 3.2): when a client sets a vCard whose
   photo has a C{<BINVAL/>} other than the current one, the image is
   published on the account's behalf to the data node (item id: its
   SHA-1), then its metadata (one C{<info/>}, type from the vCard) to the
   metadata node, whose subscribers are notified as usual; a vCard with
   no photo where there was one publishes metadata that disables it.
   Nodes created so are open, as the vCard photo is public.
 - No loops: what the server publishes is not converted back (its own
   publications are remembered until PEP announces them), and a vCard the
   server stores is announced as not from a client.
 - Discovery (section 2): C{urn:xmpp:pep-vcard-conversion:0} on every
   account.  Section 6: the conversion makes a PEP avatar public, as
   vCards are.

The photo hash in presence (section 4) is L{jabberd.sm.vcardupdate}'s.
"""

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import Handler
from jabberd.logs import Logger
from jabberd.ns import NS_AVATAR_DATA, NS_AVATAR_METADATA, NS_PEP_VCARD_CONVERSION, NS_VCARD
from jabberd.pubsub.events import payloadOf
from jabberd.sm.avatar import InvalidAvatar, readData, readMetadata
from jabberd.sm.pep import PUBLIC_NODE
from jabberd.sm.vcardphoto import Photo, PhotoTooBig, photoOf, setPhoto
from jabberd.storage.records import NodeNotFound, randomId

__all__ = ["AvatarConversion"]


class AvatarConversion(Handler):
    """
    Keeps the XEP-0084 avatar and the vCard photo of every account alike.

    @ivar own: (account bare JID, node, item id) of what this handler
        published and PEP has not announced yet.
    """

    log = Logger()
    handlerName = "avatarconversion"
    requires = ("pep", "vcard")

    def __init__(self):
        self.own = set()

    @property
    def _maxBytes(self):
        return self.host.handler("vcard").maxPhotoBytes

    def _run(self, coroutine, what, jid):
        d = defer.ensureDeferred(coroutine)
        d.addErrback(lambda f: self.log.failure(what, f, jid=jid))
        return d

    def discoFeatures(self, target, node):
        """Section 2: advertised on the account."""
        return [] if node or target.user is None else [NS_PEP_VCARD_CONVERSION]

    # --- from PEP to vCard (section 3.1) ---

    def pepPublished(self, service, node, items):
        """A client's metadata becomes the vCard photo."""
        if node != NS_AVATAR_METADATA:
            return []
        work = []
        for item in items:
            key = (service, node, item.id)
            if key in self.own:
                self.own.discard(key)
                continue
            work.append(self._run(self.toVCard(service, item), "converting the avatar of {jid}",
                                  service))
        return work

    def pepRetracted(self, service, node, ids):
        """
        Metadata retracted, purged or deleted: the avatar the vCard shows
        is the newest metadata left, and with none left it is disabled
        (XEP-0084 section 4.5), so the photo goes.
        """
        if node != NS_AVATAR_METADATA:
            return []
        return [self._run(self.afterRetraction(service), "converting the avatar of {jid}",
                          service)]

    async def afterRetraction(self, service):
        """Make the vCard photo follow the metadata node's newest item, or remove it."""
        left = await self._items(service, NS_AVATAR_METADATA, maxItems=1)
        if left:
            await self.toVCard(service, left[0])
        else:
            await self._storePhoto(service, None)

    async def toVCard(self, service, item):
        """Store the image of the metadata C{item} as the vCard photo of C{service}."""
        metadata = payloadOf(item)
        if metadata is None:
            return
        infos = readMetadata(metadata)
        if not infos:
            await self._storePhoto(service, None)
            return
        local = [info for info in infos if not info.url]
        if not local:
            return  # only images at URLs: nothing to put in the vCard
        info = local[0]
        found = await self._items(service, NS_AVATAR_DATA, ids=[info.id])
        data = payloadOf(found[0]) if found else None
        if data is None:
            self.log.info("{jid}: avatar {id} is not in the data node", jid=service, id=info.id)
            return
        try:
            photo = readData(data, info.id, self._maxBytes)
        except (InvalidAvatar, PhotoTooBig):
            self.log.info("{jid}: avatar {id} does not match its data", jid=service, id=info.id)
            return
        await self._storePhoto(service, Photo(photo.data, info.type))

    async def _storePhoto(self, service, photo):
        vcards = self.host.handler("vcard")
        vcard = await vcards.stored(service)
        if vcard is None:
            if photo is None:
                return
            # Only a vCard4 (XEP-0292), or nothing: the photo joins what it says.
            vcard = await self.host.offer("vcardMissing", service, JID(service)) \
                or domish.Element((NS_VCARD, "vCard"))
        if _photoHash(vcard, self._maxBytes) == (photo.hash if photo else None):
            return  # already so
        await vcards.store(service, setPhoto(vcard, photo))

    # --- from vCard to PEP (section 3.2) ---

    def vcardChanged(self, jid, vcard, fromClient):
        """A client's vCard photo becomes the XEP-0084 avatar."""
        if not fromClient:
            return []
        return [self._run(self.toPEP(jid, photoOf(vcard, self._maxBytes)),
                          "converting the vCard photo of {jid}", jid)]

    async def toPEP(self, service, photo):
        """Publish C{photo} (or its absence) as the avatar of C{service}, if it changed."""
        last = await self._items(service, NS_AVATAR_METADATA, maxItems=1)
        current = _publishedHash(last[0] if last else None)
        if photo is None:
            if current:
                await self._publish(service, NS_AVATAR_METADATA,
                                    domish.Element((NS_AVATAR_METADATA, "metadata")), None)
            return
        if current == photo.hash:
            return
        data = domish.Element((NS_AVATAR_DATA, "data"))
        data.addContent(photo.base64)
        await self._publish(service, NS_AVATAR_DATA, data, photo.hash)
        metadata = domish.Element((NS_AVATAR_METADATA, "metadata"))
        info = metadata.addElement("info")
        info["bytes"], info["id"] = str(len(photo.data)), photo.hash
        info["type"] = photo.type or "image/png"
        await self._publish(service, NS_AVATAR_METADATA, metadata, photo.hash)

    async def _items(self, service, node, **which):
        """Items of C{node} (by C{ids} or C{maxItems}), none when it does not exist."""
        try:
            return await self.host.storage.pubsub.getItems(service, node, **which)
        except NodeNotFound:
            return []

    async def _publish(self, service, node, payload, itemId):
        itemId = itemId or randomId()
        key = (service, node, itemId)
        self.own.add(key)
        try:
            await self.host.handler("pep").publishAs(service, node, payload, itemId, PUBLIC_NODE)
        except Exception:
            self.own.discard(key)
            raise


def _photoHash(vcard, maxBytes):
    """The hash of C{vcard}'s photo, None without one, "" for an unreadable one."""
    try:
        photo = photoOf(vcard, maxBytes)
    except StanzaError:
        return ""
    return photo.hash if photo is not None else None


def _publishedHash(item):
    """The id of the local image of metadata C{item}; "" when disabled or unreadable."""
    metadata = payloadOf(item) if item is not None else None
    if metadata is None:
        return ""
    try:
        infos = readMetadata(metadata)
    except InvalidAvatar:
        return ""
    local = [info.id for info in infos if not info.url]
    return local[0] if local else ""
