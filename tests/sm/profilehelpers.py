"""
A session manager with PEP and the profile handlers as L{jabberd.sm.modules}
attaches them: vcard-temp, avatars (XEP-0084, XEP-0398, XEP-0153) and
vCard4 (XEP-0292), over L{MemoryStorage}, with a fake caps handler.
"""

import base64
import hashlib

from jabberd.ns import (NS_AVATAR_DATA, NS_AVATAR_METADATA, NS_PUBSUB, NS_PUBSUB_EVENT,
                        NS_VCARD, NS_VCARD_UPDATE)
from jabberd.sm.avatar import AvatarHandler
from jabberd.sm.avatarconversion import AvatarConversion
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.manager import SessionManager
from jabberd.sm.message import MessageHandler
from jabberd.sm.pep import PEPHandler
from jabberd.sm.presence import PresenceHandler
from jabberd.sm.roster import RosterHandler
from jabberd.sm.vcard import VCardHandler
from jabberd.sm.vcard4 import VCard4Handler
from jabberd.sm.vcardupdate import VCardUpdateHandler
from jabberd.stanza import firstChild, parseElement
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import ALICE, BOB, Harness, StubRouter
from tests.sm.test_pep import FakeCaps

__all__ = ["ProfileHarness", "IMAGE", "IMAGE_HASH", "publishOptions", "photoHashIn", "ALICE", "BOB",
           "eventPayloads"]

#: A small image and its SHA-1.
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
IMAGE_HASH = hashlib.sha1(IMAGE).hexdigest()


def publishOptions(**fields):
    """A <publish-options/> element's XML with the given pubsub# fields."""
    values = "".join(f"<field var='pubsub#{k}'><value>{v}</value></field>"
                     for k, v in fields.items())
    return (f"<publish-options><x xmlns='jabber:x:data' type='submit'>"
            f"<field var='FORM_TYPE' type='hidden'><value>{NS_PUBSUB}#publish-options</value>"
            f"</field>{values}</x></publish-options>")


def photoHashIn(presence):
    """The <photo/> text of a presence's vcard-temp:x:update, or None without one."""
    x = firstChild(presence, NS_VCARD_UPDATE, "x")
    photo = firstChild(x, NS_VCARD_UPDATE, "photo") if x is not None else None
    return str(photo) if photo is not None else None


def eventPayloads(elements, node):
    """The payload elements of the PEP event items about C{node} among C{elements}."""
    found = []
    for e in elements:
        for event in (e.elements(NS_PUBSUB_EVENT, "event") if e.name == "message" else ()):
            for items in event.elements(NS_PUBSUB_EVENT, "items"):
                if items.getAttribute("node") == node:
                    for item in items.elements(NS_PUBSUB_EVENT, "item"):
                        found += [c for c in item.elements()]
    return found


class ProfileHarness(Harness):
    """The harness with PEP, vcard-temp, avatars and vCard4 handlers attached."""

    def __init__(self, maxBytes=4096, storage=None):
        from tests.sm import helpers
        helpers._failures.clear()
        self.storage = storage if storage is not None else MemoryStorage()
        for user in ("alice", "bob", "dave"):
            self.storage.accounts.create(user, {"password": "secret"})
        self.sm = SessionManager(["localhost"], self.storage)
        self.messages = self.sm.addHandler(MessageHandler())
        self.pep = self.sm.addHandler(PEPHandler())
        self.update = self.sm.addHandler(VCardUpdateHandler())
        self.presence = self.sm.addHandler(PresenceHandler())
        self.roster = self.sm.addHandler(RosterHandler())
        self.sm.addHandler(DiscoHandler())
        self.vcard = self.sm.addHandler(VCardHandler(maxPhotoBytes=maxBytes))
        self.avatar = self.sm.addHandler(AvatarHandler(maxBytes))
        self.conversion = self.sm.addHandler(AvatarConversion())
        self.vcard4 = self.sm.addHandler(VCard4Handler())
        self.caps = self.sm.addHandler(FakeCaps())
        self.sm.checkRequirements()
        self.router = StubRouter(self.sm)
        self.sm.output = self.router

    def friends(self, a="alice", b="bob"):
        """C{a} and C{b} share presence both ways."""
        self.setItem(a, f"{b}@localhost", "both")
        self.setItem(b, f"{a}@localhost", "both")

    def publish(self, session, node, itemId, payload, options=""):
        """Publish the payload XML to C{node}; the iq answer."""
        idAttr = f" id='{itemId}'" if itemId is not None else ""
        return self.iq(session, f"<iq type='set'><pubsub xmlns='{NS_PUBSUB}'>"
                                f"<publish node='{node}'><item{idAttr}>{payload}</item>"
                                f"</publish>{options}</pubsub></iq>")

    def publishAvatar(self, session, image=IMAGE, imageType="image/png", options=""):
        """Publish C{image} as data and then metadata (XEP-0084 section 3); both answers."""
        digest = hashlib.sha1(image).hexdigest()
        data = f"<data xmlns='{NS_AVATAR_DATA}'>{base64.b64encode(image).decode()}</data>"
        metadata = (f"<metadata xmlns='{NS_AVATAR_METADATA}'><info bytes='{len(image)}' "
                    f"id='{digest}' type='{imageType}' width='64' height='64'/></metadata>")
        return (self.publish(session, NS_AVATAR_DATA, digest, data, options),
                self.publish(session, NS_AVATAR_METADATA, digest, metadata, options))

    def setVCard(self, session, inner):
        """Set the vCard <vCard>C{inner}</vCard>; the answer."""
        return self.iq(session, f"<iq type='set'><vCard xmlns='{NS_VCARD}'>{inner}</vCard></iq>")

    def getVCard(self, session, to):
        """Get the vCard of C{to}; the answer."""
        return self.iq(session, f"<iq type='get' to='{to}'><vCard xmlns='{NS_VCARD}'/></iq>")

    def storedVCard(self, user):
        """The stored vcard-temp vCard of C{user} as an element, or None."""
        text = self.storage.vcards.data.get(user)
        return parseElement(text) if text is not None else None

    def items(self, service, node):
        """The stored items of C{node} at C{service}, newest first."""
        from tests.sm.helpers import result
        return result(self.storage.pubsub.getItems(service, node))


