"""
Avatars and vCards end to end: XEP-0084 in PEP, the XEP-0398 conversion to
and from the vCard photo, the XEP-0153 hash the server adds to presence,
and vCard4 in PEP (XEP-0292), on a real jabberd (SQLite and PostgreSQL)
with slixmpp's own xep_0084, xep_0153, xep_0054, xep_0292 and xep_0060.
"""

import base64
import hashlib
import xml.etree.ElementTree as ET

from tests.integration.clients import Client, run
from tests.integration.harness import ServerProcess
from tests.integration.test_pep import (TIMEOUT, closeAll, failure, nextEvent, options,
                                        subscribeBoth)

NS_DATA = "urn:xmpp:avatar:data"
NS_METADATA = "urn:xmpp:avatar:metadata"
NS_VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0"
NODE_VCARD4 = "urn:xmpp:vcard4"
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
IMAGE_HASH = hashlib.sha1(IMAGE).hexdigest()
JPEG = b"\xff\xd8\xff\xe0" + b"old client photo" * 40
JPEG_HASH = hashlib.sha1(JPEG).hexdigest()


async def login(server, jid, plugins=(), interest=(), presence=True):
    """
    A client with C{plugins}, whose entity capabilities (XEP-0115) want
    C{NODE+notify} for each node of C{interest}, after initial presence.
    """
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=["xep_0060", "xep_0163", "xep_0115",
                                               *plugins])
    assert await client.login(server.ports["c2s"], presence=False)
    for node in interest:
        client["xep_0030"].add_feature(node + "+notify")
    await client["xep_0115"].update_caps(broadcast=False)
    if presence:
        client.send_presence()
        await client.nextPresence(lambda p: p["from"] == client.boundjid)
    return client


async def publishAvatar(client, image=IMAGE, **kwargs):
    """XEP-0084 section 3.1-3.2 with slixmpp's xep_0084: data, then metadata."""
    await client["xep_0084"].publish_avatar(image, timeout=TIMEOUT, **kwargs)
    await client["xep_0084"].publish_avatar_metadata(
        {"id": hashlib.sha1(image).hexdigest(), "type": "image/png", "bytes": str(len(image)),
         "width": "64", "height": "64"}, timeout=TIMEOUT, **kwargs)


async def photoOf(client, jid):
    """The image of C{jid}'s vCard photo, read with xep_0054 (b'' without one)."""
    result = await client["xep_0054"].get_vcard(jid, cached=False, timeout=TIMEOUT)
    return result["vcard_temp"]["PHOTO"]["BINVAL"]


async def presenceWithHash(client, sender, photoHash):
    """The next available presence from C{sender} (bare) whose XEP-0153 photo is C{photoHash} ("" for none)."""
    return await client.nextPresence(
        lambda p: p["from"].bare == sender and p["type"] in ("available", "away", "chat",
                                                              "dnd", "xa")
        and p.match("presence/vcard_temp_update")
        and (p["vcard_temp_update"]["photo"] or "") == photoHash)  # "": an empty <photo/>


async def metadataIds(client, jid):
    """The item ids of C{jid}'s avatar metadata node."""
    metadata = await client["xep_0060"].get_items(jid, NS_METADATA, timeout=TIMEOUT)
    return [i["id"] for i in metadata["pubsub"]["items"]]


def test_pepAvatarSeenEverywhere(server):
    """An avatar published once over PEP reaches a contact as metadata, as the photo hash in presence and as the vCard photo."""
    async def body():
        alice = await login(server, "alice@localhost/modern", ["xep_0084"])
        bob = await login(server, "bob@localhost/watcher", ["xep_0084", "xep_0054", "xep_0153"],
                          interest=[NS_METADATA])
        await subscribeBoth(alice, bob)
        await publishAvatar(alice)
        # Converted when the publish is answered (XEP-0398 section 3.1).
        assert await photoOf(bob, "alice@localhost") == IMAGE
        # The server tells contacts the new hash in presence (XEP-0398 section 4).
        await presenceWithHash(bob, "alice@localhost", IMAGE_HASH)
        # A resource coming online with +notify gets the metadata (XEP-0163 section 4.3).
        await bob.close()
        bob = await login(server, "bob@localhost/again", ["xep_0084", "xep_0054", "xep_0153"],
                          interest=[NS_METADATA])
        items = await nextEvent(bob, NS_METADATA)
        info = items.find(f".//{{{NS_METADATA}}}info")
        assert info.get("id") == IMAGE_HASH and info.get("type") == "image/png"
        data = await bob["xep_0084"].retrieve_avatar("alice@localhost", IMAGE_HASH,
                                                     timeout=TIMEOUT)
        item = data["pubsub"]["items"]["item"]
        assert base64.b64decode(item.xml.find(f"{{{NS_DATA}}}data").text) == IMAGE
        features = await bob["xep_0030"].get_info("alice@localhost", timeout=TIMEOUT)
        assert "urn:xmpp:pep-vcard-conversion:0" in features["disco_info"]["features"]
        await closeAll(alice, bob)
    run(body())


def test_oldClientPhotoBecomesMetadata(server):
    """An old client's vCard PHOTO (xep_0153 set_avatar) is published as XEP-0084 data and metadata that contacts hear of."""
    async def body():
        carol = await login(server, "carol@localhost/old", ["xep_0054", "xep_0153"])
        dave = await login(server, "dave@localhost/new", ["xep_0084"], interest=[NS_METADATA])
        await subscribeBoth(carol, dave)
        await carol["xep_0153"].set_avatar(avatar=JPEG, mtype="image/jpeg", timeout=TIMEOUT)
        await dave.close()
        dave = await login(server, "dave@localhost/again", ["xep_0084"], interest=[NS_METADATA])
        items = await nextEvent(dave, NS_METADATA)
        info = items.find(f".//{{{NS_METADATA}}}info")
        assert (info.get("id"), info.get("type"), info.get("bytes")) == \
            (JPEG_HASH, "image/jpeg", str(len(JPEG)))
        data = await dave["xep_0084"].retrieve_avatar("carol@localhost", JPEG_HASH,
                                                      timeout=TIMEOUT)
        payload = data["pubsub"]["items"]["item"].xml.find(f"{{{NS_DATA}}}data")
        assert base64.b64decode(payload.text) == JPEG
        await closeAll(carol, dave)
    run(body())


def test_disabledAvatarClearsPhoto(server):
    """Retracting the avatar metadata, and publishing empty metadata (XEP-0084 section 4.5), remove the vCard photo; a contact sees the empty XEP-0153 hash in presence."""
    async def body():
        erin = await login(server, "erin@localhost/modern", ["xep_0084"])
        frank = await login(server, "frank@localhost/watcher", ["xep_0054", "xep_0153"])
        await subscribeBoth(erin, frank)
        await publishAvatar(erin)
        assert await photoOf(frank, "erin@localhost") == IMAGE
        await presenceWithHash(frank, "erin@localhost", IMAGE_HASH)
        await erin["xep_0060"].retract("erin@localhost", NS_METADATA, IMAGE_HASH,
                                       timeout=TIMEOUT)
        # Converted when the retraction is answered (XEP-0398 section 3.1).
        assert await photoOf(frank, "erin@localhost") == b""
        await presenceWithHash(frank, "erin@localhost", "")
        await publishAvatar(erin)
        assert await photoOf(frank, "erin@localhost") == IMAGE
        await presenceWithHash(frank, "erin@localhost", IMAGE_HASH)
        await erin["xep_0084"].stop(timeout=TIMEOUT)
        assert await photoOf(frank, "erin@localhost") == b""
        await presenceWithHash(frank, "erin@localhost", "")
        await closeAll(erin, frank)
    run(body())


def rawIq(client, iqType, xml, to=None):
    iq = client.make_iq_set() if iqType == "set" else client.make_iq_get()
    if to:
        iq["to"] = to
    iq.append(ET.fromstring(xml))
    return iq.send(timeout=TIMEOUT)


def test_badInputRefusedNothingLost(backend, tmp_path):
    """An avatar over [avatars] max_bytes, malformed metadata, a wrong id and a PHOTO that is not base64 are refused; the avatar before stays."""
    # (A vCard photo over the limit is tests/sm/test_vcard.py's: slixmpp does not
    # match the policy-violation answer that echoes a large vCard to its request.)
    proc = ServerProcess(tmp_path, database=backend, extra="\n[avatars]\nmax_bytes = 5000\n")
    proc.start()
    try:
        proc.adduser("ivy", "ivypw")

        async def body():
            ivy = await login(proc, "ivy@localhost/bad", ["xep_0084", "xep_0054"])
            await publishAvatar(ivy)
            assert await failure(ivy["xep_0084"].publish_avatar(b"x" * 5001,
                                                                 timeout=TIMEOUT)) == \
                ("not-acceptable", "payload-too-big")
            wrongId = ivy["xep_0060"].publish(
                "ivy@localhost", NS_DATA, id="0" * 40,
                payload=ET.fromstring(f"<data xmlns='{NS_DATA}'>"
                                      f"{base64.b64encode(b'img').decode()}</data>"),
                timeout=TIMEOUT)
            assert await failure(wrongId) == ("bad-request", "invalid-payload")
            malformed = ivy["xep_0060"].publish(
                "ivy@localhost", NS_METADATA, id=IMAGE_HASH,
                payload=ET.fromstring(f"<metadata xmlns='{NS_METADATA}'><info id='nothex'/>"
                                      f"</metadata>"), timeout=TIMEOUT)
            assert await failure(malformed) == ("bad-request", "invalid-payload")
            notBase64 = rawIq(ivy, "set", "<vCard xmlns='vcard-temp'><FN>Erin</FN><PHOTO>"
                                           "<TYPE>image/png</TYPE><BINVAL>*not base64*</BINVAL>"
                                           "</PHOTO></vCard>")
            assert (await failure(notBase64))[0] == "bad-request"
            assert await photoOf(ivy, "ivy@localhost") == IMAGE
            metadata = await ivy["xep_0060"].get_items("ivy@localhost", NS_METADATA,
                                                        timeout=TIMEOUT)
            assert [i["id"] for i in metadata["pubsub"]["items"]] == [IMAGE_HASH]
            await ivy.close()
        run(body())
    finally:
        proc.stop()


def test_vcard4(server):
    """A vCard4 published with xep_0292 answers vcard-temp gets; a vcard-temp set updates the vCard4 node."""
    async def body():
        frank = await login(server, "frank@localhost/v4", ["xep_0292", "xep_0054"])
        alice = await login(server, "alice@localhost/v4", ["xep_0054"])
        await frank["xep_0292"].publish_vcard(full_name="Frank Zappa", nickname="fz",
                                              email="frank@example.org", node=NODE_VCARD4,
                                              options=options(access_model="open"),
                                              timeout=TIMEOUT)
        got = await alice["xep_0054"].get_vcard("frank@localhost", cached=False,
                                                timeout=TIMEOUT)
        assert got["vcard_temp"]["FN"] == "Frank Zappa"
        assert got["vcard_temp"]["NICKNAME"] in ("fz", ["fz"])
        vcard = frank["xep_0054"].make_vcard()
        vcard["FN"] = "Frank Vincent Zappa"
        await frank["xep_0054"].publish_vcard(vcard, timeout=TIMEOUT)

        async def fullName():
            item = await frank["xep_0060"].get_item("frank@localhost", NODE_VCARD4, "current",
                                                    timeout=TIMEOUT)
            return item["pubsub"]["items"]["item"].xml.find(
                f".//{{{NS_VCARD4}}}fn/{{{NS_VCARD4}}}text").text
        # The conversion is done when the vCard set is answered.
        assert await fullName() == "Frank Vincent Zappa"
        features = await frank["xep_0030"].get_info("frank@localhost", timeout=TIMEOUT)
        assert NS_VCARD4 in features["disco_info"]["features"]
        await closeAll(frank, alice)
    run(body())


def test_restartKeepsAvatars(backend, tmp_path):
    """Both conversions survive a restart: the vCard photo, the metadata, and the hash in presence after login."""
    proc = ServerProcess(tmp_path, database=backend)
    proc.start()
    try:
        for name in ("nina", "oscar"):
            proc.adduser(name, name + "pw")

        async def before():
            nina = await login(proc, "nina@localhost/a", ["xep_0084"])
            oscar = await login(proc, "oscar@localhost/a", ["xep_0054", "xep_0153"])
            await subscribeBoth(nina, oscar)
            await publishAvatar(nina)
            await oscar["xep_0153"].set_avatar(avatar=JPEG, mtype="image/jpeg",
                                               timeout=TIMEOUT)
            assert await metadataIds(oscar, "oscar@localhost") == [JPEG_HASH]
            await closeAll(nina, oscar)
        run(before())
        proc.stop()
        proc.start()

        async def after():
            oscar = await login(proc, "oscar@localhost/b", ["xep_0054", "xep_0084", "xep_0153"])
            assert await photoOf(oscar, "nina@localhost") == IMAGE
            assert await metadataIds(oscar, "oscar@localhost") == [JPEG_HASH]
            nina = await login(proc, "nina@localhost/b", ["xep_0084"])
            await presenceWithHash(oscar, "nina@localhost", IMAGE_HASH)
            await closeAll(nina, oscar)
        run(after())
    finally:
        proc.stop()
