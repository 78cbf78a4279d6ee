"""Tests for L{jabberd.sm.avatar}: the XEP-0084 payload rules at the PEP nodes."""

import base64
import hashlib

from jabberd.ns import NS_AVATAR_DATA, NS_AVATAR_METADATA, NS_PUBSUB, NS_PUBSUB_ERRORS
from jabberd.sm.avatar import AvatarInfo, InvalidAvatar, readMetadata
from tests.sm.helpers import errorCondition, parse, result
from tests.sm.profilehelpers import ALICE, IMAGE, IMAGE_HASH, ProfileHarness, publishOptions

import pytest


def pubsubCondition(reply):
    """The pubsub#errors condition of an error reply, or None."""
    error = next(reply.elements(None, "error"))
    found = [c.name for c in error.elements() if c.uri == NS_PUBSUB_ERRORS]
    return found[0] if found else None


def dataXML(image):
    return f"<data xmlns='{NS_AVATAR_DATA}'>{base64.b64encode(image).decode()}</data>"


def metadataXML(info):
    return f"<metadata xmlns='{NS_AVATAR_METADATA}'>{info}</metadata>"


def test_avatarPublishedAndFetchedById():
    """Data and metadata are accepted and a contact fetches the data by the id in the metadata."""
    h = ProfileHarness()
    h.friends()
    alice, bob = h.login("alice"), h.login("bob")
    dataReply, metaReply = h.publishAvatar(alice)
    assert dataReply["type"] == metaReply["type"] == "result"
    reply = h.iq(bob, f"<iq type='get' to='{ALICE}'><pubsub xmlns='{NS_PUBSUB}'>"
                      f"<items node='{NS_AVATAR_DATA}'><item id='{IMAGE_HASH}'/></items>"
                      f"</pubsub></iq>")
    [item] = list(next(next(reply.elements(NS_PUBSUB, "pubsub")).elements()).elements())
    assert item["id"] == IMAGE_HASH
    assert base64.b64decode(str(next(item.elements(NS_AVATAR_DATA, "data")))) == IMAGE


def test_accessModelFromPublishOptions():
    """An avatar published with access_model open is read by a stranger; the default one is not."""
    h = ProfileHarness()
    alice, dave = h.login("alice"), h.login("dave")
    h.publishAvatar(alice, options=publishOptions(access_model="open"))
    ask = (f"<iq type='get' to='{ALICE}'><pubsub xmlns='{NS_PUBSUB}'>"
           f"<items node='{NS_AVATAR_METADATA}'/></pubsub></iq>")
    assert h.iq(dave, ask)["type"] == "result"
    h2 = ProfileHarness()
    alice2, dave2 = h2.login("alice"), h2.login("dave")
    h2.publishAvatar(alice2)
    refused = h2.iq(dave2, ask)
    assert errorCondition(refused) == "not-authorized"
    assert pubsubCondition(refused) == "presence-subscription-required"


def test_dataIdMustBeTheSHA1():
    """Data whose item id is not the SHA-1 of the image is bad-request + invalid-payload, and not kept."""
    h = ProfileHarness()
    alice = h.login("alice")
    reply = h.publish(alice, NS_AVATAR_DATA, "0" * 40, dataXML(IMAGE))
    assert errorCondition(reply) == "bad-request" and pubsubCondition(reply) == "invalid-payload"
    assert errorCondition(h.publish(alice, NS_AVATAR_DATA, None, dataXML(IMAGE))) == "bad-request"
    assert result(h.storage.pubsub.getNode(ALICE, NS_AVATAR_DATA)) is None


def test_dataNotBase64():
    """Data that is not base64 is bad-request + invalid-payload."""
    h = ProfileHarness()
    alice = h.login("alice")
    reply = h.publish(alice, NS_AVATAR_DATA, IMAGE_HASH,
                      f"<data xmlns='{NS_AVATAR_DATA}'>%%% not base64 %%%</data>")
    assert errorCondition(reply) == "bad-request" and pubsubCondition(reply) == "invalid-payload"


def test_dataOverTheLimit():
    """An image over [avatars] max_bytes is not-acceptable + payload-too-big."""
    h = ProfileHarness(maxBytes=100)
    alice = h.login("alice")
    image = b"q" * 101
    reply = h.publish(alice, NS_AVATAR_DATA, hashlib.sha1(image).hexdigest(), dataXML(image))
    assert errorCondition(reply) == "not-acceptable"
    assert pubsubCondition(reply) == "payload-too-big"


@pytest.mark.parametrize("info", [
    "<info id='%s' type='image/png'/>" % IMAGE_HASH,                   # no bytes
    "<info bytes='12' id='nothex' type='image/png'/>",                 # id not a SHA-1
    "<info bytes='twelve' id='%s' type='image/png'/>" % IMAGE_HASH,    # bytes not a number
    "<info bytes='12' id='%s' type='image/png'>text</info>" % IMAGE_HASH,  # not empty
    "<picture/>",                                                      # unknown child
    "<pointer><x xmlns='urn:example'/></pointer>",                     # pointer alone
    "<stop/><info bytes='1' id='%s' type='image/png'/>" % IMAGE_HASH,  # stop and info
])
def test_malformedMetadataRefused(info):
    """Metadata section 4.2 does not allow is bad-request + invalid-payload, and not kept."""
    h = ProfileHarness()
    alice = h.login("alice")
    reply = h.publish(alice, NS_AVATAR_METADATA, IMAGE_HASH, metadataXML(info))
    assert errorCondition(reply) == "bad-request" and pubsubCondition(reply) == "invalid-payload"


def test_metadataElementRequired():
    """Another element at the metadata node is refused."""
    h = ProfileHarness()
    alice = h.login("alice")
    reply = h.publish(alice, NS_AVATAR_METADATA, "x", f"<data xmlns='{NS_AVATAR_DATA}'>AA==</data>")
    assert errorCondition(reply) == "bad-request"


def test_readMetadata():
    """Infos are read with their attributes; stop and empty metadata mean no avatar."""
    infos = readMetadata(parse(metadataXML(
        f"<info bytes='12' id='{IMAGE_HASH.upper()}' type='image/png'/>"
        f"<info bytes='40' id='{IMAGE_HASH}' type='image/gif' url='https://x/a.gif'/>"
        f"<pointer><x xmlns='urn:example'/></pointer>")))
    assert infos == [AvatarInfo(IMAGE_HASH, "image/png", 12),
                     AvatarInfo(IMAGE_HASH, "image/gif", 40, "https://x/a.gif")]
    assert readMetadata(parse(metadataXML("<stop/>"))) == []
    assert readMetadata(parse(metadataXML(""))) == []
    with pytest.raises(InvalidAvatar):
        readMetadata(parse(metadataXML("<stop foo='1'/>")))
