"""
OMEMO (XEP-0384, the C{eu.siacs.conversations.axolotl} namespace of
version 0.3) between two Converse.js pages in headless Chromium, against a
real jabberd over WebSocket (RFC 7395).

The server takes no part in the encryption; what OMEMO needs of it is PEP
(XEP-0163): each page publishes its device list and its bundle with
publish-options C{pubsub#access_model=open} (XEP-0060 section 7.1.5), the
other page reads them by an items request and hears of device list
changes through C{+notify} in its entity capabilities (XEP-0115).  Both
pages then build a session from the bundle and exchange messages that only
the other side can read: the frames show an C{<encrypted/>} element and no
plaintext on the wire, and the other page shows the plaintext.
"""

import os

import pytest

from tests.browser.conversepage import elements
from tests.browser.test_converse import driven, slixmppUser, subscribeBoth
from tests.integration.clients import run

DOMAIN = "localhost"
BODY_TIMEOUT = 180
# pytest's own timeout (setup.cfg) counts the module's server start as well;
# it stays above the body's, which says how long a loaded machine may take.
pytestmark = pytest.mark.timeout(BODY_TIMEOUT + 60)
NS_CLIENT = "jabber:client"
NS_AXOLOTL = "eu.siacs.conversations.axolotl"
NS_OMEMO2 = "urn:xmpp:omemo:2"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
DEVICELIST = NS_AXOLOTL + ".devicelist"


def encryptedMessages(frames, direction, namespace):
    """The chat messages a page sent or got (C{direction}) that carry an OMEMO <encrypted/> of C{namespace}."""
    return [m for m in elements(frames, direction)
            if m.tag == f"{{{NS_CLIENT}}}message"
            and m.find(f"{{{namespace}}}encrypted") is not None]


def published(frames, node):
    """The items a page published to C{node} of its own PEP service, as (iq id, access model)."""
    found = []
    for iq in elements(frames, "OUT"):
        publish = iq.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}publish")
        if publish is None or publish.get("node") != node:
            continue
        model = None
        for field in iq.iter("{jabber:x:data}field"):
            if field.get("var") == "pubsub#access_model":
                model = field.find("{jabber:x:data}value").text
        found.append((iq.get("id"), model))
    return found


def answered(frames, ident):
    """The type of the server's answer to the iq C{ident} a page sent."""
    for iq in elements(frames, "IN"):
        if iq.tag == f"{{{NS_CLIENT}}}iq" and iq.get("id") == ident:
            return iq.get("type")
    return None


def exchange(server, artifacts, names, legacy=False):
    """
    Pages for the two accounts C{names}, contacts of each other (the second
    an OMEMO 0.3 client if C{legacy}), publish their devices and send each
    other one encrypted message; each page's device id, frames and
    uncaught errors, and the texts sent.
    """
    for name in names:
        server.adduser(name, name + "pw")
    jids = [f"{name}@{DOMAIN}" for name in names]
    texts = {name: f"omemo-check: secret from {name}" for name in names}

    async def body(driver):
        first = await slixmppUser(server, names[0], "setup")
        await subscribeBoth(server, first, names[1])
        await first.close()
        pages = {name: driver.page(f"{name}-omemo") for name in names}
        for name, page in pages.items():
            await page.open(f"{name}@{DOMAIN}/converse", name + "pw",
                            legacyOmemo=legacy and name == names[1])
        devices = {name: await page.omemoReady() for name, page in pages.items()}
        peers = dict(zip(names, reversed(jids)))
        for name, page in pages.items():
            await page.openChat(peers[name])
        # The second page answers in the session the first one's key
        # exchange started: had both started one at once, each would have
        # to settle which to keep (a race of the clients, not the server's).
        for name, other in (names, reversed(names)):
            await pages[name].encryptChat(peers[name])
            await pages[name].send(peers[name], texts[name])
            await pages[other].waitText(peers[other], texts[name])
        for page in pages.values():
            await page.screenshot(os.path.join(artifacts, f"converse-{page.name}.png"))
        frames = {name: await page.frames() for name, page in pages.items()}
        errors = [e for page in pages.values() for e in await page.errors()]
        return devices, frames, errors

    devices, frames, errors = run(driven(server, artifacts, "converse-omemo-" + names[0], body),
                                  BODY_TIMEOUT)
    return devices, frames, errors, texts


def assertEncrypted(names, devices, frames, texts, namespace):
    """
    Each page's message went as an OMEMO <encrypted/> of C{namespace} from
    its device, with no plaintext in any message frame of either page.
    """
    for name, peer in (names, reversed(names)):
        text = texts[name]
        sent = encryptedMessages(frames[name], "OUT", namespace)
        got = encryptedMessages(frames[peer], "IN", namespace)
        assert sent and got, (name, namespace)
        for frame in frames[name] + frames[peer]:
            if frame.startswith(("OUT <message", "IN <message")):
                assert text not in frame, frame
        for message in sent + got:
            body = message.find(f"{{{NS_CLIENT}}}body")
            assert body is None or text not in (body.text or ""), body.text
            encrypted = message.find(f"{{{namespace}}}encrypted")
            assert encrypted.find(f"{{{namespace}}}header").get("sid") == str(devices[name])
            assert encrypted.find(f"{{{namespace}}}payload") is not None


def assertPublishedOpen(frames, nodes):
    """Each of C{nodes} got items from the page, published with access model open and accepted."""
    for node in nodes:
        publishes = published(frames, node)
        assert publishes and all(model == "open" for _, model in publishes), (node, publishes)
        assert all(answered(frames, ident) == "result" for ident, _ in publishes), node


def requested(frames, node, item=None):
    """Whether the page asked some service for the items of C{node} (the one with id C{item})."""
    for iq in elements(frames, "OUT"):
        items = iq.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}items")
        if iq.get("type") == "get" and items is not None and items.get("node") == node:
            ids = [i.get("id") for i in items.findall(f"{{{NS_PUBSUB}}}item")]
            if item is None or str(item) in ids:
                return True
    return False


def test_omemo2BetweenTwoPages(browser, webServer, artifacts):
    """Two Converse pages publish omemo:2 devices and bundles by PEP and exchange messages only the other decrypts."""
    names = ("frank", "grace")
    devices, frames, errors, texts = exchange(webServer, artifacts, names)
    for name in names:
        assertPublishedOpen(frames[name], (NS_OMEMO2 + ":devices", NS_OMEMO2 + ":bundles"))
    # omemo:2 bundles share one node, an item per device: the first page read
    # the other's by its id to start the session.
    assert requested(frames[names[0]], NS_OMEMO2 + ":bundles", devices[names[1]])
    assertEncrypted(names, devices, frames, texts, NS_OMEMO2)
    assert errors == []


def test_omemoLegacyBetweenTwoPages(browser, webServer, artifacts):
    """A Converse page and one of OMEMO 0.3 only exchange eu.siacs.conversations.axolotl messages each decrypts."""
    names = ("dave", "erin")
    devices, frames, errors, texts = exchange(webServer, artifacts, names, legacy=True)
    for name in names:
        assertPublishedOpen(frames[name], (DEVICELIST, f"{NS_AXOLOTL}.bundles:{devices[name]}"))
    # Version 0.3 keeps a bundle node per device: the first page read the
    # other's device list, then that device's bundle, to start the session.
    assert requested(frames[names[0]], DEVICELIST)
    assert requested(frames[names[0]], f"{NS_AXOLOTL}.bundles:{devices[names[1]]}")
    assertEncrypted(names, devices, frames, texts, NS_AXOLOTL)
    assert not any(NS_OMEMO2 + ":devices" in f for f in frames["erin"] if f.startswith("OUT "))
    assert errors == []
