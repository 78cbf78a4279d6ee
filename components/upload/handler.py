# -*- test-case-name: tests.components.upload.test_upload_handler -*-
"""
HTTP File Upload (XEP-0363), the XMPP side: answers slot requests
(section 4) with a PUT and a GET URL, turns refusals into the errors of
section 5, and describes the service for disco (section 3): the
C{store/file} identity, the C{urn:xmpp:http:upload:0} feature and, as a
XEP-0128 extension form, the C{max-file-size}.

Only accounts of the server's own domains get slots: the service stores
files for its users, not for the federation.
"""

from twisted.words.xish import domish
from wokkel import data_form

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_UPLOAD
from components.upload.slots import FileTooLarge, QuotaExceeded, SlotError
from jabberd.stanza import firstChild

__all__ = ["UploadHandler", "toStanzaError"]


def toStanzaError(error):
    """The stanza error (section 5) for a L{SlotError}."""
    if isinstance(error, FileTooLarge):
        tooLarge = domish.Element((NS_UPLOAD, "file-too-large"))
        tooLarge.addElement("max-file-size", content=str(error.maxFileSize))
        return StanzaError("not-acceptable", "modify", str(error), appCondition=tooLarge)
    if isinstance(error, QuotaExceeded):
        return StanzaError("resource-constraint", "wait", str(error))
    return StanzaError("bad-request", "modify", str(error))


class UploadHandler(IQHandler):
    """
    Grant upload slots to local users.

    @ivar slots: the L{components.upload.slots.SlotManager}.
    @ivar urls: gives a slot's URL: C{urlFor(token, filename)}, None while
        the HTTP side has none (the L{UploadResource}).
    @ivar localDomains: domains whose users may upload.
    """

    def __init__(self, slots, urls, localDomains, name="HTTP File Upload"):
        self.slots = slots
        self.urls = urls
        self.localDomains = {d.lower() for d in localDomains}
        self.name = name

    @iqGet(NS_UPLOAD)
    def onRequest(self, iq):
        """Grant a slot and answer its URLs, or refuse with a section 5 error."""
        requester = parseJID(iq.getAttribute("from", ""))
        if requester is None or requester.user is None \
                or requester.host not in self.localDomains:
            raise StanzaError("forbidden", "cancel", "Only local users may upload files")
        request = firstChild(iq, NS_UPLOAD, "request")
        if request is None:
            raise StanzaError("bad-request", "modify", "Expected a <request/>")
        try:
            slot = self.slots.request(requester.userhost(), request.getAttribute("filename"),
                                      request.getAttribute("size"),
                                      request.getAttribute("content-type"))
        except SlotError as e:
            raise toStanzaError(e)
        url = self.urls.urlFor(slot.token, slot.filename)
        if url is None:
            self.slots.cancel(slot.token)
            raise StanzaError("service-unavailable", "wait", "The upload service has no URL yet")
        return _slotElement(url)

    def discoIdentities(self, target, node):
        return [] if node else [("store", "file", self.name)]

    def discoFeatures(self, target, node):
        return [] if node else [NS_UPLOAD]

    def discoExtensions(self, target, node):
        """XEP-0128 forms: the size limit, so clients need not ask to learn it."""
        if node:
            return []
        form = data_form.Form("result", formNamespace=NS_UPLOAD, fields=[
            data_form.Field(var="max-file-size", value=str(self.slots.maxFileSize)),
        ])
        return [form.toElement()]


def _slotElement(url):
    # The token in the URL is the slot's only credential: no extra headers.
    slot = domish.Element((NS_UPLOAD, "slot"))
    slot.addElement("put")["url"] = url
    slot.addElement("get")["url"] = url
    return slot
