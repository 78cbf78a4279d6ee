"""Tests for L{jabberd.sm.avatarconversion}: XEP-0398, avatars between PEP and the vCard."""

import base64
import hashlib

from jabberd.ns import (NS_AVATAR_DATA, NS_AVATAR_METADATA, NS_DISCO_INFO,
                        NS_PEP_VCARD_CONVERSION, NS_VCARD)
from jabberd.sm.vcardphoto import Photo, photoOf
from tests.sm.profilehelpers import (ALICE, IMAGE, IMAGE_HASH, ProfileHarness,
                                     eventPayloads)


def photoXML(image, imageType="image/jpeg"):
    return (f"<PHOTO><TYPE>{imageType}</TYPE>"
            f"<BINVAL>{base64.b64encode(image).decode()}</BINVAL></PHOTO>")


def test_featureOnTheAccount():
    """The account's disco#info has urn:xmpp:pep-vcard-conversion:0 (section 2); the server's not."""
    h = ProfileHarness()
    alice = h.login("alice")
    def features(to):
        reply = h.iq(alice, f"<iq type='get' to='{to}'><query xmlns='{NS_DISCO_INFO}'/></iq>")
        return {f["var"] for f in next(reply.elements(NS_DISCO_INFO, "query")).elements(
            NS_DISCO_INFO, "feature")}
    assert NS_PEP_VCARD_CONVERSION in features(ALICE)
    assert NS_PEP_VCARD_CONVERSION not in features("localhost")


def test_pepAvatarBecomesVCardPhoto():
    """A published avatar is the vCard PHOTO (TYPE from the info, BINVAL), the rest kept."""
    h = ProfileHarness()
    alice, bob = h.login("alice"), h.login("bob")
    h.setVCard(alice, "<FN>Alice</FN>")
    h.publishAvatar(alice, imageType="image/png")
    stored = h.storedVCard("alice")
    assert photoOf(stored, 4096) == Photo(IMAGE, "image/png")
    assert [str(c) for c in stored.elements(NS_VCARD, "FN")] == ["Alice"]
    reply = h.getVCard(bob, ALICE)
    assert photoOf(next(reply.elements(NS_VCARD, "vCard")), 4096).hash == IMAGE_HASH


def test_disabledAvatarRemovesPhoto():
    """Metadata without an info (XEP-0084 section 3.5) removes the vCard photo."""
    h = ProfileHarness()
    alice = h.login("alice")
    h.publishAvatar(alice)
    assert photoOf(h.storedVCard("alice"), 4096) is not None
    h.publish(alice, NS_AVATAR_METADATA, "off", f"<metadata xmlns='{NS_AVATAR_METADATA}'/>")
    assert photoOf(h.storedVCard("alice"), 4096) is None


def test_urlOnlyMetadataLeavesVCard():
    """Metadata naming only an image at a URL changes nothing in the vCard."""
    h = ProfileHarness()
    alice = h.login("alice")
    h.setVCard(alice, "<FN>Alice</FN>")
    h.publish(alice, NS_AVATAR_METADATA, IMAGE_HASH,
              f"<metadata xmlns='{NS_AVATAR_METADATA}'><info bytes='9' id='{IMAGE_HASH}' "
              f"type='image/png' url='https://example.org/a.png'/></metadata>")
    assert photoOf(h.storedVCard("alice"), 4096) is None


def test_metadataWithoutDataLeavesVCard():
    """Metadata whose image is not in the data node changes nothing."""
    h = ProfileHarness()
    alice = h.login("alice")
    h.publish(alice, NS_AVATAR_METADATA, IMAGE_HASH,
              f"<metadata xmlns='{NS_AVATAR_METADATA}'><info bytes='9' id='{IMAGE_HASH}' "
              f"type='image/png'/></metadata>")
    assert h.storedVCard("alice") is None


def test_vcardPhotoPublishedAsAvatar():
    """An old client's vCard PHOTO is published as data (SHA-1 id) and metadata, and contacts are notified."""
    h = ProfileHarness()
    h.friends()
    alice, bob = h.login("alice"), h.login("bob")
    h.caps.features.add((bob.full, NS_AVATAR_METADATA + "+notify"))
    h.clear()
    assert h.setVCard(alice, "<FN>Alice</FN>" + photoXML(IMAGE))["type"] == "result"
    [data] = h.items(ALICE, NS_AVATAR_DATA)
    assert data.id == IMAGE_HASH
    [metadata] = h.items(ALICE, NS_AVATAR_METADATA)
    [info] = eventPayloads(h.take(bob), NS_AVATAR_METADATA)[0].elements()
    assert (info["id"], info["type"], info["bytes"]) == (IMAGE_HASH, "image/jpeg", str(len(IMAGE)))
    assert metadata.id == IMAGE_HASH


def test_noLoops():
    """A vCard set is published once, and not written back to the vCard; the same photo again publishes nothing."""
    h = ProfileHarness()
    alice = h.login("alice")
    writes = []
    original = h.storage.vcards.set
    h.storage.vcards.set = lambda user, xml: (writes.append(user), original(user, xml))[1]
    h.setVCard(alice, photoXML(IMAGE))
    h.setVCard(alice, "<FN>New name</FN>" + photoXML(IMAGE))
    assert writes == ["alice", "alice"]
    assert len(h.items(ALICE, NS_AVATAR_METADATA)) == 1
    assert len(h.items(ALICE, NS_AVATAR_DATA)) == 1
    h.publishAvatar(alice, image=b"another image")
    assert writes == ["alice", "alice", "alice"]  # PEP to vCard, once
    newHash = hashlib.sha1(b"another image").hexdigest()
    assert [item.id for item in h.items(ALICE, NS_AVATAR_METADATA)] == [newHash]
    assert photoOf(h.storedVCard("alice"), 4096).hash == newHash


def test_vcardWithoutPhotoDisablesAvatar():
    """A vCard set without PHOTO after one with publishes metadata disabling the avatar."""
    h = ProfileHarness()
    alice = h.login("alice")
    h.setVCard(alice, photoXML(IMAGE))
    h.setVCard(alice, "<FN>Alice</FN>")
    latest = h.items(ALICE, NS_AVATAR_METADATA)[0]
    assert latest.xml.startswith("<metadata") and "<info" not in latest.xml


def test_photoJoinsVCard4OnlyAccount():
    """An avatar for an account with only a vCard4 makes a vCard of both."""
    h = ProfileHarness()
    alice = h.login("alice")
    h.publish(alice, "urn:xmpp:vcard4", "current",
              "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Alice</text></fn></vcard>")
    h.storage.vcards.data.clear()  # a vCard4 from before the conversion existed
    h.publishAvatar(alice)
    stored = h.storedVCard("alice")
    assert [str(c) for c in stored.elements(NS_VCARD, "FN")] == ["Alice"]
    assert photoOf(stored, 4096).hash == IMAGE_HASH


def test_metadataNamingOtherImage():
    """Metadata whose id names no image of the data node stores no vCard."""
    h = ProfileHarness()
    alice = h.login("alice")
    other = hashlib.sha1(b"other").hexdigest()
    h.publish(alice, NS_AVATAR_METADATA, other,
              f"<metadata xmlns='{NS_AVATAR_METADATA}'><info bytes='5' id='{other}' "
              f"type='image/png'/></metadata>")
    assert h.storedVCard("alice") is None


def test_vcardSetAnsweredOnceConverted():
    """A vCard set is answered only once its photo is in PEP, with a store that answers later."""
    from tests.sm.helpers import SlowStorage
    storage = SlowStorage()
    h = ProfileHarness(storage=storage)
    alice = h.login("alice", roster=False)
    for store, name in ((storage.vcards, "set"), (storage.pubsub, "publish")):
        original = getattr(store, name)
        setattr(store, name, lambda *a, original=original: storage._later(original(*a)))

    def answers():
        return [e for e in alice.stream.sent if e.getAttribute("id") == "v1"]

    h.send(alice, f"<iq type='set' id='v1'><vCard xmlns='{NS_VCARD}'>{photoXML(IMAGE)}</vCard></iq>")
    later, value = storage.queue.pop(0)
    later.callback(value)  # the vCard is written; the avatar's data write waits
    assert answers() == [] and len(storage.queue) == 1
    storage.flush()
    [answer] = answers()
    assert answer["type"] == "result"
    assert [item.id for item in h.items(ALICE, NS_AVATAR_DATA)] == [IMAGE_HASH]
    assert [item.id for item in h.items(ALICE, NS_AVATAR_METADATA)] == [IMAGE_HASH]


def test_avatarNodesMadeFromVCardArePublic():
    """Avatar nodes the server creates from a vCard photo are open, as the vCard is."""
    from jabberd.ns import NS_PUBSUB
    h = ProfileHarness()
    alice, dave = h.login("alice"), h.login("dave")
    h.setVCard(alice, photoXML(IMAGE))
    reply = h.iq(dave, f"<iq type='get' to='{ALICE}'><pubsub xmlns='{NS_PUBSUB}'>"
                       f"<items node='{NS_AVATAR_METADATA}'/></pubsub></iq>")
    assert reply["type"] == "result"
