"""
Converse.js (the npm package, test-only) in headless Chromium against a real
jabberd over WebSocket (RFC 7395), with slixmpp clients on TCP as the other
parties:

 - a chat's history comes back from the user's archive (XEP-0313) after the
   page is loaded again with nothing cached;
 - two pages of one account get each other's messages as carbons
   (XEP-0280), and a contact's messages show on both;
 - a room's history shows when the page joins, and again after a reload,
   whether Converse got it from the room's archive (when the room
   advertises C{urn:xmpp:mam:2}) or as the join history (XEP-0045 section
   7.2.15).

Every reload empties the page's storage first, so what a page shows after
one came from the server.  The assertions read both the DOM and the
WebSocket frames the page sent and got.
"""

import os
from collections import Counter

from tests.browser.conversepage import (
    NS_MAM, ConverseDriver, advertises, carbonBodies, joinHistory, mamQueries, mamResultBodies)
from tests.integration.clients import Client, run

DOMAIN = "localhost"


async def slixmppUser(server, name, resource, plugins=()):
    """A logged-in slixmpp client for C{name} (password name + 'pw')."""
    client = Client(f"{name}@{DOMAIN}/{resource}", name + "pw", plugins=plugins)
    assert await client.login(server.ports["c2s"])
    return client


async def subscribeBoth(server, one, otherName):
    """C{one} and C{otherName} subscribe to each other (slixmpp authorises and subscribes back)."""
    other = await slixmppUser(server, otherName, "setup")
    one.send_presence_subscription(pto=other.boundjid.bare)
    await other.nextPresence(lambda p: p["from"].bare == one.boundjid.bare and p["type"] == "available")
    await one.nextPresence(lambda p: p["from"].bare == other.boundjid.bare and p["type"] == "available")
    await other.close()


async def driven(server, artifacts, name, body):
    """Run C{body(driver)} with a Converse driver, closing it whatever happens."""
    driver = await ConverseDriver(server, os.path.join(artifacts, name + ".log")).start()
    try:
        return await body(driver)
    finally:
        try:
            await driver.saveRecords(artifacts)
        finally:
            await driver.close()


def noPageErrors(problems):
    """Uncaught exceptions on a page (console errors are Converse's own reports of error replies)."""
    return [p for p in problems if " console: " not in p]


def test_chatHistoryFromArchiveAfterReload(browser, webServer, artifacts):
    """Messages from a contact, sent while the page was open and while it was gone, come back from MAM after a reload."""
    alice_jid, bob_jid = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
    open_text = "mam-check: sent while the page was open"
    closed_text = "mam-check: sent while the page was gone"

    async def body(driver):
        alice = await slixmppUser(webServer, "alice", "tcp")
        await subscribeBoth(webServer, alice, "bob")
        bob = driver.page("bob")
        assert await bob.open(bob_jid + "/converse", "bobpw") == bob_jid + "/converse"
        await alice.nextPresence(lambda p: p["from"] == bob_jid + "/converse" and p["type"] == "available")
        await bob.openChat(alice_jid)
        alice.send_message(bob_jid, open_text, mtype="chat")
        await bob.waitText(alice_jid, open_text)

        await bob.leave()
        await alice.nextPresence(lambda p: p["from"] == bob_jid + "/converse" and p["type"] == "unavailable")
        alice.send_message(bob_jid, closed_text, mtype="chat")
        # The page remembers nothing: what it shows now came from the server.
        assert await bob.reload() == bob_jid + "/converse"
        await bob.openChat(alice_jid)
        await bob.waitText(alice_jid, open_text)
        await bob.waitText(alice_jid, closed_text)
        shown = Counter(await bob.texts(alice_jid))
        frames = await bob.frames(sinceReload=True)
        await bob.screenshot(os.path.join(artifacts, "converse-mam-after-reload.png"))
        problems = await bob.problems()
        await alice.close()
        return shown, frames, problems

    shown, frames, problems = run(driven(webServer, artifacts, "converse-mam", body))
    assert shown[open_text] == 1 and shown[closed_text] == 1, shown
    assert {"to": None, "with": alice_jid} in mamQueries(frames), mamQueries(frames)
    archived = mamResultBodies(frames, bob_jid)
    # Delivered live before the reload, so not in offline storage: only the archive has it.
    assert archived.count(open_text) == 1, archived
    # Archived when it arrived, not again when the offline store delivered it.
    assert archived.count(closed_text) <= 1, archived
    print("after the reload, from the archive:", archived)
    assert not noPageErrors(problems), problems


def test_carbonsBetweenTwoPages(browser, webServer, artifacts):
    """Two pages of one account show what the other sent (sent carbons) and what a contact sent to either (received carbons)."""
    alice_jid, carol_jid = f"alice@{DOMAIN}", f"carol@{DOMAIN}"
    from_first = "carbons-check: typed in the first page"
    to_first = "carbons-check: to the first page's full JID"
    to_bare = "carbons-check: to the bare JID"

    async def body(driver):
        alice = await slixmppUser(webServer, "alice", "carbons")
        first, second = driver.page("carol-1"), driver.page("carol-2")
        await first.open(carol_jid + "/converse-1", "carolpw")
        await second.open(carol_jid + "/converse-2", "carolpw")
        for page in (first, second):
            await page.carbonsEnabled()
            await page.openChat(alice_jid)

        await first.send(alice_jid, from_first)
        message = await alice.nextMessage(lambda m: m["body"] == from_first)
        assert message["from"] == carol_jid + "/converse-1"
        await second.waitText(alice_jid, from_first)

        alice.send_message(carol_jid + "/converse-1", to_first, mtype="chat")
        alice.send_message(carol_jid, to_bare, mtype="chat")
        for page in (first, second):
            await page.waitText(alice_jid, to_first)
            await page.waitText(alice_jid, to_bare)
        shown = [Counter(await page.texts(alice_jid)) for page in (first, second)]
        frames = await second.frames()
        for page in (first, second):
            await page.screenshot(os.path.join(artifacts, f"converse-carbons-{page.name}.png"))
        problems = await first.problems() + await second.problems()
        await alice.close()
        return shown, frames, problems

    shown, frames, problems = run(driven(webServer, artifacts, "converse-carbons", body))
    for counts in shown:
        assert [counts[t] for t in (from_first, to_first, to_bare)] == [1, 1, 1], counts
    assert from_first in carbonBodies(frames, "sent")
    assert to_first in carbonBodies(frames, "received")
    assert not noPageErrors(problems), problems


def test_roomHistoryAfterReload(browser, webServer, artifacts):
    """A room's earlier messages show when the page joins, and again after a reload; the frames say by which path."""
    room = f"history@conference.{DOMAIN}"
    posted = [f"room-history-check: message {n}" for n in (1, 2, 3)]

    async def body(driver):
        alice = await slixmppUser(webServer, "alice", "room", plugins=["xep_0045", "xep_0004"])
        await alice["xep_0045"].join_muc_wait(room, "Alice", timeout=10)
        form = await alice["xep_0045"].get_room_config(room)
        await alice["xep_0045"].set_room_config(room, form)
        for text in posted:
            alice.send_message(room, text, mtype="groupchat")
            await alice.nextMessage(lambda m: m["body"] == text)

        bob = driver.page("bob-room")
        # Converse asks for no join history (maxstanzas 0) unless told how much.
        await bob.open(f"bob@{DOMAIN}/converse-room", "bobpw", muc_history_max_stanzas=20)
        sessions = []
        for _session in ("first join", "after the reload"):
            await bob.joinRoom(room, "bob")
            for text in posted:
                await bob.waitText(room, text)
            sessions.append((Counter(await bob.texts(room)), await bob.frames(sinceReload=True)))
            await bob.screenshot(os.path.join(artifacts, f"converse-room-{len(sessions)}.png"))
            if len(sessions) == 1:
                await bob.reload()
        problems = await bob.problems()
        await alice.close()
        return sessions, problems

    sessions, problems = run(driven(webServer, artifacts, "converse-room", body))
    for shown, frames in sessions:
        assert [shown[t] for t in posted] == [1, 1, 1], shown
        asked, history = joinHistory(frames, room)
        if advertises(frames, room, NS_MAM):
            assert {"to": room, "with": None} in mamQueries(frames), mamQueries(frames)
            via = mamResultBodies(frames, room)
            print("room history through MAM:", via)
        else:
            assert asked == "20", asked
            via = history
            print(f"room history as join history (maxstanzas={asked}):", via)
        assert all(text in via for text in posted), (via, posted)
    assert not noPageErrors(problems), problems
