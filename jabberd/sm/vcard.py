# -*- test-case-name: tests.sm.test_vcard -*-
"""
vcard-temp (XEP-0054): users' vCards, stored by the server.

 - Get of one's own vCard (no C{to}, or one's bare JID; section 3.1): the
   stored vCard, or an empty C{<vCard/>} when there is none.
 - Set (section 3.2): only on one's own account, else C{forbidden}; the
   whole vCard is replaced.  One larger than L{VCardHandler.maxSize} bytes
   besides its photo is refused with C{policy-violation} (legacy code
   406), and so is a photo (C{<PHOTO><BINVAL/>}) of more than
   L{VCardHandler.maxPhotoBytes} bytes; a C{<BINVAL/>} that is not base64
   is C{bad-request}.  Nothing is stored then.
 - Get of another account's vCard (section 3.3): vCards are public, so the
   stored vCard; with none, or no such account, C{service-unavailable}
   (the same answer for both, so nothing about the account leaks).
 - With no stored vCard, the C{vcardMissing} hooks may answer one built
   from elsewhere (XEP-0292's vCard4, L{jabberd.sm.vcard4}).
 - Every stored vCard is announced to the C{vcardChanged} hooks (avatar
   conversion, XEP-0398; the photo hash of XEP-0153; vCard4), a client's
   set as such, a server's write (L{VCardHandler.store}) as not; the set
   is answered once what they started is done.

The server has no vCard of its own: a get to the domain gets
C{service-unavailable} too.
"""

from twisted.internet import defer
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.ns import NS_VCARD
from jabberd.sm.target import UNKNOWN_ACCOUNT, iqTarget
from jabberd.sm.vcardphoto import DEFAULT_MAX_BYTES, photoOf, photoTextLength
from jabberd.stanza import firstChild, parseElement, serializeElement

__all__ = ["VCardHandler"]


class VCardHandler(IQHandler):
    """
    Store and serve vCards.

    @ivar maxSize: the largest serialised vCard accepted, in bytes, not
        counting the text of its photo's C{<BINVAL/>}.
    @ivar maxPhotoBytes: the largest photo accepted, in bytes of the image
        (the C{[avatars] max_bytes} that bounds XEP-0084 avatars too).
    """

    handlerName = "vcard"

    def __init__(self, maxSize=65536, maxPhotoBytes=DEFAULT_MAX_BYTES):
        self.maxSize = maxSize
        self.maxPhotoBytes = maxPhotoBytes

    @classmethod
    def fromConfig(cls, config):
        """The handler with the C{[vcard]} and C{[avatars]} limits of C{config}."""
        return cls(config.vcard.maxSize, config.avatars.maxBytes)

    @iqGet(NS_VCARD)
    async def onGet(self, iq):
        """The requested vCard (see the module docstring for the cases)."""
        target = _vcardTarget(self.host, iq)
        if target.isServer:
            raise StanzaError("service-unavailable")
        stored = await self.host.storage.vcards.get(target.username)
        if stored is not None:
            return self._load(stored, target)
        built = await self.host.offer("vcardMissing", target.jid.userhost(), target.requester)
        if built:
            return built
        if target.isSelf:
            return domish.Element((NS_VCARD, "vCard"))
        raise StanzaError(UNKNOWN_ACCOUNT)

    @iqSet(NS_VCARD)
    async def onSet(self, iq):
        """Replace the sender's own vCard."""
        target = _vcardTarget(self.host, iq)
        if not target.isSelf:
            raise StanzaError("forbidden")
        vcard = firstChild(iq)
        text = serializeElement(vcard)
        if len(text.encode("utf-8")) - photoTextLength(vcard) > self.maxSize:
            raise StanzaError("policy-violation",
                              text=f"vCards are limited to {self.maxSize} bytes")
        photoOf(vcard, self.maxPhotoBytes)  # a bad photo is refused before anything is kept
        await self._write(target.jid.userhost(), vcard, text, True)
        return None

    async def store(self, jid, vcard):
        """Store C{vcard} for the account C{jid} (bare) on the server's behalf."""
        await self._write(jid, vcard, serializeElement(vcard), False)

    async def _write(self, jid, vcard, text, fromClient):
        await self.host.storage.vcards.set(_username(jid), text)
        after = self.host.collect("vcardChanged", jid, vcard, fromClient)
        if after:
            # The conversions (XEP-0398, XEP-0292) are done when the set is answered;
            # their failures are theirs to log.
            await defer.DeferredList(after, consumeErrors=True)

    def _load(self, stored, target):
        try:
            return parseElement(stored)
        except ValueError:
            self.log.error("unreadable stored vCard of {user}", user=target.username)
            raise StanzaError("internal-server-error") from None

    async def stored(self, jid):
        """The stored vCard of the account C{jid} (bare), or None (also if unreadable)."""
        text = await self.host.storage.vcards.get(_username(jid))
        if text is None:
            return None
        try:
            return parseElement(text)
        except ValueError:
            self.log.error("unreadable stored vCard of {user}", user=jid)
            return None

    def discoFeatures(self, target, node):
        return [] if node else [NS_VCARD]


def _username(jid):
    return jid.partition("@")[0]


def _vcardTarget(host, iq):
    """The iq's target, once its payload is checked to be a C{<vCard/>}."""
    if firstChild(iq).name != "vCard":
        raise StanzaError("bad-request", text="expected <vCard xmlns='vcard-temp'/>")
    return iqTarget(host, iq)
