# -*- test-case-name: tests.sm.test_private -*-
"""
Private XML Storage (XEP-0049, jabber:iq:private): a user keeps arbitrary
namespaced XML on the server (bookmarks of XEP-0048, client preferences).

 - Only the account itself may get or set its data (section 2.3): any other
   target, the server included, gets C{forbidden}.
 - Each child of C{<query/>} is stored under its qualified name
   C{{namespace}name}; a set may carry several and replaces each one.
 - A query without a child, a child without its own namespace, or one in a
   reserved namespace (C{jabber:*}, C{http://jabber.org/*}, C{vcard-temp})
   gets C{not-acceptable}, as the XEP describes.
 - A get returns the stored element, or the empty element asked for.
 - Other handlers may act on an element before it is stored (the
   C{privateStoring} hook: a refusal stores nothing) and may answer a get
   of it (C{privateReading}): XEP-0402 section 5.3 keeps XEP-0048
   bookmarks in step with PEP this way (L{jabberd.sm.bookmarks}).
"""

from twisted.internet import defer
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.ns import NS_PRIVATE
from jabberd.sm.target import iqTarget
from jabberd.stanza import firstChild, parseElement, serializeElement

__all__ = ["PrivateHandler", "storageKey"]

_RESERVED = ("jabber:", "http://jabber.org/", "vcard-temp")


def storageKey(element):
    """The key an element is stored under: C{{namespace}name}."""
    return "{%s}%s" % (element.uri, element.name)


class PrivateHandler(IQHandler):
    """
    Store and return private XML.

    @ivar maxSize: the largest serialised element accepted, in bytes.
    """

    handlerName = "private"

    def __init__(self, maxSize=65536):
        self.maxSize = maxSize

    @iqGet(NS_PRIVATE)
    async def onGet(self, iq):
        """Each requested element as stored, or empty if nothing is."""
        target, children = self._request(iq)
        result = domish.Element((NS_PRIVATE, "query"))
        for child in children:
            answer = await self.host.offer("privateReading", target.jid.userhost(), child)
            if not answer:
                stored = await self.host.storage.private.get(target.username, storageKey(child))
                answer = self._load(stored, child)
            result.addChild(answer)
        return result

    @iqSet(NS_PRIVATE)
    async def onSet(self, iq):
        """Store each child, replacing what was stored under its name."""
        target, children = self._request(iq)
        texts = [(storageKey(child), serializeElement(child)) for child in children]
        for _key, text in texts:
            if len(text.encode("utf-8")) > self.maxSize:
                raise StanzaError("policy-violation",
                                  text=f"private XML is limited to {self.maxSize} bytes")
        for child in children:
            await defer.gatherResults(
                self.host.collect("privateStoring", target.jid.userhost(), child),
                consumeErrors=True).addErrback(_firstError)
        for key, text in texts:
            await self.host.storage.private.set(target.username, key, text)
        return None

    def _request(self, iq):
        """The target (the account itself) and the checked child elements of a request."""
        target = iqTarget(self.host, iq)
        if not target.isSelf:
            raise StanzaError("forbidden")
        children = list(firstChild(iq).elements())
        if not children:
            raise StanzaError("not-acceptable", text="no element to store or retrieve")
        for child in children:
            if not child.uri or child.uri.startswith(_RESERVED):
                raise StanzaError("not-acceptable", text="reserved or missing namespace")
        return target, children

    def _load(self, stored, asked):
        if stored is None:
            return domish.Element((asked.uri, asked.name))
        try:
            return parseElement(stored)
        except ValueError:
            self.log.error("unreadable private XML {key}", key=storageKey(asked))
            raise StanzaError("internal-server-error") from None

    def discoFeatures(self, target, node):
        return [NS_PRIVATE] if target.user is None and not node else []


def _firstError(failure):
    """The failure of the first refusing hook, not the gathering's own."""
    failure.trap(defer.FirstError)
    return failure.value.subFailure
