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
   7.2.15);
 - a room bookmarked with autojoin in one page (XEP-0402, as the account
   advertises C{urn:xmpp:bookmarks:1#compat}) is joined by the account's
   next page, and an old client reads it from private XML (XEP-0048).

Every reload empties the page's storage first, so what a page shows after
one came from the server.  The assertions read both the DOM and the
WebSocket frames the page sent and got.
"""

import os
import re
from collections import Counter

import pytest

from tests.browser.conversepage import (
    NS_MAM, ConverseDriver, advertises, carbonBodies, joinHistory, mamQueries, mamResultBodies,
    parse)
from tests.integration.clients import Client, run

DOMAIN = "localhost"
# A bound on each test body: a browser on a loaded machine is slow to start.
BODY_TIMEOUT = 150
# pytest's own timeout (setup.cfg) counts the module's server start as well;
# it stays above the body's, which says how long a loaded machine may take.
pytestmark = pytest.mark.timeout(BODY_TIMEOUT + 60)


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


def test_chatHistoryFromArchiveAfterReload(browser, webServer, artifacts):
    """Messages from a contact, sent while the page was open and while it was gone, come back from MAM after a reload."""
    aliceJid, bobJid = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
    openText = "mam-check: sent while the page was open"
    closedText = "mam-check: sent while the page was gone"

    async def body(driver):
        alice = await slixmppUser(webServer, "alice", "tcp")
        await subscribeBoth(webServer, alice, "bob")
        bob = driver.page("bob")
        assert await bob.open(bobJid + "/converse", "bobpw") == bobJid + "/converse"
        await alice.nextPresence(lambda p: p["from"] == bobJid + "/converse" and p["type"] == "available")
        await bob.openChat(aliceJid)
        alice.send_message(bobJid, openText, mtype="chat")
        await bob.waitText(aliceJid, openText)

        await bob.leave()
        await alice.nextPresence(lambda p: p["from"] == bobJid + "/converse" and p["type"] == "unavailable")
        alice.send_message(bobJid, closedText, mtype="chat")
        # The page remembers nothing: what it shows now came from the server.
        assert await bob.reload() == bobJid + "/converse"
        await bob.openChat(aliceJid)
        await bob.waitText(aliceJid, openText)
        await bob.waitText(aliceJid, closedText)
        shown = await bob.texts(aliceJid)
        frames = await bob.frames(sinceReload=True)
        await bob.screenshot(os.path.join(artifacts, "converse-mam-after-reload.png"))
        errors = await bob.errors()
        await alice.close()
        return shown, frames, errors

    shown, frames, errors = run(driven(webServer, artifacts, "converse-mam", body), BODY_TIMEOUT)
    # Each once, and in the order sent: the live copy from offline storage and
    # the archived one are stamped to the millisecond alike.
    assert [t for t in shown if t in (openText, closedText)] == [openText, closedText], shown
    assert {"to": None, "with": aliceJid} in mamQueries(frames), mamQueries(frames)
    archived = mamResultBodies(frames, bobJid)
    # Delivered live before the reload, so not in offline storage: only the archive has it.
    assert archived.count(openText) == 1, archived
    # Archived when it arrived, not again when the offline store delivered it.
    assert archived.count(closedText) <= 1, archived
    print("after the reload, from the archive:", archived)
    assert errors == []


def test_carbonsBetweenTwoPages(browser, webServer, artifacts):
    """Two pages of one account show what the other sent (sent carbons) and what a contact sent to either (received carbons)."""
    aliceJid, carolJid = f"alice@{DOMAIN}", f"carol@{DOMAIN}"
    fromFirst = "carbons-check: typed in the first page"
    toFirst = "carbons-check: to the first page's full JID"
    toBare = "carbons-check: to the bare JID"

    async def body(driver):
        alice = await slixmppUser(webServer, "alice", "carbons")
        first, second = driver.page("carol-1"), driver.page("carol-2")
        await first.open(carolJid + "/converse-1", "carolpw")
        await second.open(carolJid + "/converse-2", "carolpw")
        for page in (first, second):
            await page.carbonsEnabled()
            await page.openChat(aliceJid)

        await first.send(aliceJid, fromFirst)
        message = await alice.nextMessage(lambda m: m["body"] == fromFirst)
        assert message["from"] == carolJid + "/converse-1"
        await second.waitText(aliceJid, fromFirst)

        alice.send_message(carolJid + "/converse-1", toFirst, mtype="chat")
        alice.send_message(carolJid, toBare, mtype="chat")
        for page in (first, second):
            await page.waitText(aliceJid, toFirst)
            await page.waitText(aliceJid, toBare)
        shown = [Counter(await page.texts(aliceJid)) for page in (first, second)]
        frames = await second.frames()
        for page in (first, second):
            await page.screenshot(os.path.join(artifacts, f"converse-carbons-{page.name}.png"))
        errors = await first.errors() + await second.errors()
        await alice.close()
        return shown, frames, errors

    shown, frames, errors = run(driven(webServer, artifacts, "converse-carbons", body), BODY_TIMEOUT)
    for counts in shown:
        assert [counts[t] for t in (fromFirst, toFirst, toBare)] == [1, 1, 1], counts
    assert fromFirst in carbonBodies(frames, "sent")
    assert toFirst in carbonBodies(frames, "received")
    assert errors == []


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
        for label in ("first join", "after the reload"):
            await bob.joinRoom(room, "bob")
            for text in posted:
                await bob.waitText(room, text)
            sessions.append((label, await bob.texts(room), await bob.frames(sinceReload=True)))
            await bob.screenshot(os.path.join(artifacts, f"converse-room-{len(sessions)}.png"))
            if len(sessions) == 1:
                await bob.reload()
        errors = await bob.errors()
        await alice.close()
        return sessions, errors

    sessions, errors = run(driven(webServer, artifacts, "converse-room", body), BODY_TIMEOUT)
    report = []
    for label, shown, frames in sessions:
        # each once, in the order posted
        assert [t for t in shown if t in posted] == posted, shown
        asked, history = joinHistory(frames, room)
        if advertises(frames, room, NS_MAM):
            assert {"to": room, "with": None} in mamQueries(frames), mamQueries(frames)
            path, via = "the room's archive (MAM query)", mamResultBodies(frames, room)
        else:
            assert asked == "20", asked
            path, via = f"join history (maxstanzas={asked})", history
        assert all(text in via for text in posted), (via, posted)
        report.append(f"{label}: {path}: {via}")
    # Which path Converse took, for the reader of the run.
    with open(os.path.join(artifacts, "converse-room-history.txt"), "w") as f:
        f.write("\n".join(report) + "\n")
    print("\n".join(report))
    assert errors == []


def test_bookmarkAutojoinsInAnotherSession(browser, webServer, artifacts):
    """A room bookmarked with autojoin in one page is joined by the account's next page; an old client reads it from private XML."""
    room = f"bookmarked@conference.{DOMAIN}"
    daveJid = f"dave@{DOMAIN}"
    webServer.adduser("dave", "davepw")

    def joined(presence, kind="available"):
        return presence["from"] == f"{room}/dave" and presence["type"] == kind

    async def body(driver):
        alice = await slixmppUser(webServer, "alice", "bookmarks", plugins=["xep_0045", "xep_0004"])
        await alice["xep_0045"].join_muc_wait(room, "Alice", timeout=10)
        form = await alice["xep_0045"].get_room_config(room)
        await alice["xep_0045"].set_room_config(room, form)

        first = driver.page("dave-1")
        await first.open(daveJid + "/converse-1", "davepw")
        await first.bookmark(room, "Bookmarked room", "dave")
        published = parse(await first.waitFrame(
            r'^OUT <iq [^>]*>[\s\S]*<publish node="urn:xmpp:bookmarks:1"'))
        answer = parse(await first.waitFrame(
            r"^IN <iq [^>]*id='" + re.escape(published.get("id")) + "'"))
        await alice.nextPresence(joined)  # the page that bookmarked it joins too
        old = await slixmppUser(webServer, "dave", "old", plugins=["xep_0045", "xep_0048"])
        stored = await old["xep_0048"].get_bookmarks(method="xep_0049", timeout=10)
        oldView = {str(c["jid"]): (c["autojoin"], c["nick"])
                   for c in stored["private"]["bookmarks"]["conferences"]}
        await old.close()
        await first.close()
        await alice.nextPresence(lambda p: joined(p, "unavailable"))

        second = driver.page("dave-2")
        await second.open(daveJid + "/converse-2", "davepw")
        escaped = re.escape(room + "/dave")
        join = parse(await second.waitFrame(r'^OUT <presence [^>]*to="' + escaped + '"'))
        entered = parse(await second.waitFrame(
            r"^IN <presence [^>]*from='" + escaped + r"'[\s\S]*<status code='110'/>"))
        await alice.nextPresence(joined)
        frames = await second.frames()
        bookmarked = await second.bookmarks()
        await second.screenshot(os.path.join(artifacts, "converse-bookmark-autojoin.png"))
        errors = await second.errors()
        await alice.close()
        return answer, oldView, (join, entered), frames, bookmarked, errors

    answer, oldView, (join, entered), frames, bookmarked, errors = run(
        driven(webServer, artifacts, "converse-bookmarks", body), BODY_TIMEOUT)
    assert answer.get("type") == "result"
    assert oldView == {room: (True, "dave")}
    assert bookmarked == [room]
    fetched = [f for f in frames
               if f.startswith("OUT ") and 'items node="urn:xmpp:bookmarks:1"' in f]
    assert fetched, "the second page read its bookmarks from the XEP-0402 node"
    # It joined by itself (it was never asked to), as the room's own occupant.
    assert join.find("{http://jabber.org/protocol/muc}x") is not None
    assert entered.get("to") == daveJid + "/converse-2" and entered.get("type") is None
    assert errors == []
