# -*- test-case-name: tests.sm.test_vcard4 -*-
"""
vCard4 Over XMPP (XEP-0292): one's vCard4 (RFC 6351) as the item
C{current} of the PEP node C{urn:xmpp:vcard4}, kept in step with the
vcard-temp vCard (XEP-0054) through the mapping of
L{jabberd.sm.vcard4mapping}.

 - Publishing (section 4.1): through PEP, with the access model the client
   asks for; a payload that is not C{<vcard
   xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>} is C{bad-request} +
   C{invalid-payload}.  Contacts hear of it as of any PEP node
   (C{urn:xmpp:vcard4+notify}, section 4.2).
 - A client's vCard4 updates the vcard-temp vCard: the mapped properties
   are replaced, the rest (the photo of XEP-0153/XEP-0398 among them)
   stays.
 - A vcard-temp set updates the vCard4 node the same way, on the
   account's behalf (nothing is converted back: no loops); a node it
   creates is open, as the vcard-temp vCard is public (XEP-0222's public
   storage, which section 4 builds on).
 - A vcard-temp get of an account with no vcard-temp vCard answers one
   converted from its vCard4, if the requester may read that node (its
   access model decides, XEP-0060 section 6.5.9); so does an iq get of
   C{<vcard/>} (section 4.1, as earlier versions of the XEP had it), with
   an empty C{<vcard/>} when there is none to read.
 - Discovery (section 7): C{urn:ietf:params:xml:ns:vcard-4.0} on every
   account.
"""

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.logs import Logger
from jabberd.ns import NODE_VCARD4, NS_VCARD4
from jabberd.pubsub.errors import pubsubError
from jabberd.pubsub.events import payloadOf
from jabberd.sm.pep import PUBLIC_NODE
from jabberd.sm.target import UNKNOWN_ACCOUNT, accountExists, iqTarget
from jabberd.sm.vcard4mapping import MAPPED_4, MAPPED_TEMP, merged, toVCard4, toVCardTemp

__all__ = ["VCard4Handler", "ITEM_ID"]

#: The id of the one item of the vCard4 node (section 4.1).
ITEM_ID = "current"

class VCard4Handler(IQHandler):
    """
    vCard4 in PEP, and its conversion to and from vcard-temp.

    @ivar own: (account bare JID, item id) of vCard4 items this handler
        published that PEP has not announced yet.
    """

    log = Logger()
    handlerName = "vcard4"
    requires = ("pep", "vcard")

    def __init__(self):
        self.own = set()

    @property
    def pep(self):
        return self.host.handler("pep")

    def _run(self, coroutine, what, jid):
        d = defer.ensureDeferred(coroutine)
        d.addErrback(lambda f: self.log.failure(what, f, jid=jid))
        return d

    def discoFeatures(self, target, node):
        """Section 7: advertised on the account."""
        return [] if node or target.user is None else [NS_VCARD4]

    def pepPublishCheck(self, service, node, itemId, payload):
        """Only a C{<vcard/>} goes in the vCard4 node."""
        if node == NODE_VCARD4 and (payload.uri, payload.name) != (NS_VCARD4, "vcard"):
            return [pubsubError("bad-request", "invalid-payload",
                                text=f"expected <vcard xmlns='{NS_VCARD4}'/>")]
        return []

    # --- reading ---

    async def readable(self, service, requester):
        """The vCard4 of C{service} if C{requester} may read it, else None."""
        if not self.pep.withNodes.mayHave(service):
            return None  # no PEP nodes at all: nothing to read
        standing = await self.pep.standing(service, requester)
        try:
            await self.pep.engine.readable(service, NODE_VCARD4, standing)
        except StanzaError:
            return None
        item = await self.pep.engine.lastItem(service, NODE_VCARD4)
        return payloadOf(item) if item is not None else None

    def vcardMissing(self, jid, requester):
        """A vcard-temp get with no vcard-temp vCard: the vCard4's, converted."""
        return defer.ensureDeferred(self._converted(jid, requester))

    async def _converted(self, jid, requester):
        vcard = await self.readable(jid, requester)
        return toVCardTemp(vcard) if vcard is not None else None

    @iqGet(NS_VCARD4)
    async def onGet(self, iq):
        """An iq get of C{<vcard/>}: the account's vCard4, or an empty one."""
        target = iqTarget(self.host, iq)
        if target.isServer:
            raise StanzaError("service-unavailable")
        if not await accountExists(self.host, target):
            raise StanzaError(UNKNOWN_ACCOUNT)
        found = await self.readable(target.jid.userhost(), target.requester)
        return found if found is not None else domish.Element((NS_VCARD4, "vcard"))

    # --- conversion ---

    def pepPublished(self, service, node, items):
        """A client's vCard4 updates the vcard-temp vCard."""
        if node != NODE_VCARD4:
            return []
        work = []
        for item in items:
            if (service, item.id) in self.own:
                self.own.discard((service, item.id))
                continue
            vcard = payloadOf(item)
            if vcard is not None:
                work.append(self._run(self._toVCardTemp(service, vcard),
                                      "converting the vCard4 of {jid}", service))
        return work

    async def _toVCardTemp(self, service, vcard):
        vcards = self.host.handler("vcard")
        previous = await vcards.stored(service)
        await vcards.store(service, merged(toVCardTemp(vcard, withPhoto=False), previous,
                                           MAPPED_TEMP))

    def vcardChanged(self, jid, vcard, fromClient):
        """A client's vcard-temp vCard updates the vCard4 node."""
        if not fromClient:
            return []
        return [self._run(self._toVCard4(jid, vcard), "converting the vCard of {jid}", jid)]

    async def _toVCard4(self, service, temp):
        previous = await self.readable(service, JID(service))
        self.own.add((service, ITEM_ID))
        try:
            await self.pep.publishAs(service, NODE_VCARD4,
                                     merged(toVCard4(temp), previous, MAPPED_4), ITEM_ID,
                                     PUBLIC_NODE)
        except Exception:
            self.own.discard((service, ITEM_ID))
            raise
