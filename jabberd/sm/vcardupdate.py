# -*- test-case-name: tests.sm.test_vcardupdate -*-
"""
vCard-Based Avatars (XEP-0153) for every client: the server adds the hash
of the account's vCard photo to the available presence its clients send,
as XEP-0398 section 4 asks, so that clients which show vCard avatars see
avatars published through XEP-0084 too.

 - An available presence (broadcast or directed, RFC 6121 sections 4.2,
   4.4 and 4.6) without C{<x xmlns='vcard-temp:x:update'/>} gets one with
   C{<photo>SHA-1</photo>}, or an empty C{<photo/>} when the account has
   no photo (XEP-0153 section 4.1); an C{<x/>} without a C{<photo/>} gets
   one.  A C{<photo/>} the client sent, empty or not, is left as it is.
 - The hash is kept per account in memory, so a presence costs no
   storage read: it is read once, when a session of an account with a
   stored vCard binds (accounts without one are known from a start-up read,
   L{jabberd.sm.userindex}), follows every stored vCard (the
   C{vcardChanged} hook), and is forgotten with the account's last session.
 - When the server changed the photo (a XEP-0084 avatar converted,
   L{jabberd.sm.avatarconversion}), each available resource whose presence
   carried the old hash has its presence broadcast again with the new one
   (section 4.4), as a XEP-0153 client would have done itself.  Directed
   presence is not sent again (XEP-0398 section 5).
"""

from twisted.internet import defer

from jabberd.error import StanzaError
from jabberd.handler import Handler
from jabberd.logs import Logger
from jabberd.ns import NS_VCARD_UPDATE
from jabberd.sm.userindex import UserIndex
from jabberd.sm.vcardphoto import photoOf
from jabberd.stanza import copyElement, firstChild

__all__ = ["VCardUpdateHandler", "photoHashOf"]


def photoHashOf(vcard, maxBytes):
    """The hash of C{vcard}'s photo, "" without one (or with an unreadable one)."""
    try:
        photo = photoOf(vcard, maxBytes) if vcard is not None else None
    except StanzaError:
        return ""
    return photo.hash if photo is not None else ""


def _photoElement(presence):
    x = firstChild(presence, NS_VCARD_UPDATE, "x")
    return x, (firstChild(x, NS_VCARD_UPDATE, "photo") if x is not None else None)


class VCardUpdateHandler(Handler):
    """
    Stamps outgoing available presence with the account's photo hash.

    @ivar hashes: username -> the hash of its vCard photo ("" for none),
        for accounts with a session.
    @ivar withVCard: the L{UserIndex} of accounts with a stored vCard.
    """

    log = Logger()
    handlerName = "vcardupdate"
    requires = ("vcard", "presence")

    def __init__(self):
        self.hashes = {}
        self.withVCard = UserIndex()
        self._loading = set()

    def setHost(self, host):
        super().setHost(host)
        self.withVCard.load(host.storage.vcards.users(), self.log, "vCards")

    @property
    def _maxBytes(self):
        return self.host.handler("vcard").maxPhotoBytes

    # --- the cache ---

    def sessionBound(self, session):
        """Read the account's photo hash, once, before its presence goes out."""
        username = session.username
        if username in self.hashes or username in self._loading:
            return
        if not self.withVCard.mayHave(username):
            self.hashes[username] = ""
            return
        self._loading.add(username)
        d = defer.ensureDeferred(self.host.handler("vcard").stored(session.bare))
        d.addCallback(self._loaded, session.bare)
        d.addErrback(lambda f: self.log.failure("reading the vCard of {user}", f, user=username))
        d.addBoth(lambda _: self._loading.discard(username))

    def _loaded(self, vcard, jid):
        """
        The hash was read; presence its resources sent meanwhile went
        without one, and goes again with it (a photo only).
        """
        username = jid.partition("@")[0]
        if username in self.hashes or jid not in self.host.sessions:
            return  # a vCard stored meanwhile came first, or the account left
        photoHash = self.hashes[username] = photoHashOf(vcard, self._maxBytes)
        if photoHash:
            self._rebroadcast(jid, None, photoHash)

    def sessionEnded(self, session):
        """The account's last session: its hash is read again at the next login."""
        if session.bare not in self.host.sessions:
            self.hashes.pop(session.username, None)

    def vcardChanged(self, jid, vcard, fromClient):
        """A stored vCard: the hash follows; a server's change is told to contacts."""
        username = jid.partition("@")[0]
        self.withVCard.add(username)
        old = self.hashes.get(username)
        new = photoHashOf(vcard, self._maxBytes)
        if username in self.hashes or username in self._loading:  # else read at login
            self.hashes[username] = new
            if not fromClient and old is not None and old != new:
                self._rebroadcast(jid, old, new)
        return []

    def _rebroadcast(self, jid, old, new):
        """
        Broadcast again the presence of each available resource of C{jid}
        that carries the hash C{old} (None: that carries no photo) with C{new}.
        """
        presence = self.host.handler("presence")
        for session in self.host.sessionsOf(jid):
            if not session.available or session.presence is None:
                continue
            _x, photo = _photoElement(session.presence)
            if (str(photo) == old) if photo is not None else old is None:
                update = copyElement(session.presence)
                self._stamp(update, new, replace=True)
                presence.broadcastAvailable(session, update)

    # --- presence ---

    def onOutbound(self, session, stanza):
        """Add the hash to an available presence; never consumes it."""
        if stanza.name != "presence" or stanza.getAttribute("type") is not None:
            return False
        photoHash = self.hashes.get(session.username)
        if photoHash is None:
            return False  # not read yet: left as the client sent it
        self._stamp(stanza, photoHash)
        return False

    def _stamp(self, presence, photoHash, replace=False):
        """Give C{presence} the photo C{photoHash}: unless it has one, or C{replace}."""
        x, photo = _photoElement(presence)
        if photo is not None and not replace:
            return
        if x is None:
            x = presence.addElement((NS_VCARD_UPDATE, "x"))
        if photo is None:
            photo = x.addElement("photo")
        photo.children = [photoHash] if photoHash else []
