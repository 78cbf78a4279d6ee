# -*- test-case-name: tests.sm.test_vcard -*-
"""
vcard-temp (XEP-0054): users' vCards, stored by the server.

 - Get of one's own vCard (no C{to}, or one's bare JID; section 3.1): the
   stored vCard, or an empty C{<vCard/>} when there is none.
 - Set (section 3.2): only on one's own account, else C{forbidden}; the
   whole vCard is replaced, and one larger than L{VCardHandler.maxSize}
   bytes is refused with C{policy-violation} (legacy code 406).
 - Get of another account's vCard (section 3.3): vCards are public, so the
   stored vCard; with none, or no such account, C{service-unavailable}
   (the same answer for both, so nothing about the account leaks).

The server has no vCard of its own: a get to the domain gets
C{service-unavailable} too.
"""

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.ns import NS_VCARD
from jabberd.sm.target import UNKNOWN_ACCOUNT, iqTarget
from jabberd.stanza import firstChild, parseElement, serializeElement

__all__ = ["VCardHandler"]


class VCardHandler(IQHandler):
    """
    Store and serve vCards.

    @ivar maxSize: the largest serialised vCard accepted, in bytes (avatars
        belong in XEP-0084; a PHOTO makes vCards big, so be generous).
    """

    handlerName = "vcard"

    def __init__(self, maxSize=65536):
        self.maxSize = maxSize

    @iqGet(NS_VCARD)
    async def onGet(self, iq):
        """The requested vCard (see the module docstring for the cases)."""
        target = _vcardTarget(self.host, iq)
        if target.isServer:
            raise StanzaError("service-unavailable")
        stored = await self.host.storage.vcards.get(target.username)
        if stored is not None:
            return self._load(stored, target)
        if target.isSelf:
            return domish.Element((NS_VCARD, "vCard"))
        raise StanzaError(UNKNOWN_ACCOUNT)

    @iqSet(NS_VCARD)
    async def onSet(self, iq):
        """Replace the sender's own vCard."""
        target = _vcardTarget(self.host, iq)
        if not target.isSelf:
            raise StanzaError("forbidden")
        text = serializeElement(firstChild(iq))
        if len(text.encode("utf-8")) > self.maxSize:
            raise StanzaError("policy-violation",
                              text=f"vCards are limited to {self.maxSize} bytes")
        await self.host.storage.vcards.set(target.username, text)
        return None

    def _load(self, stored, target):
        try:
            return parseElement(stored)
        except ValueError:
            self.log.error("unreadable stored vCard of {user}", user=target.username)
            raise StanzaError("internal-server-error") from None

    def discoFeatures(self, target, node):
        return [] if node else [NS_VCARD]


def _vcardTarget(host, iq):
    """The iq's target, once its payload is checked to be a C{<vCard/>}."""
    if firstChild(iq).name != "vCard":
        raise StanzaError("bad-request", text="expected <vCard xmlns='vcard-temp'/>")
    return iqTarget(host, iq)
