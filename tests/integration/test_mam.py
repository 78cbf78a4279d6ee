"""
Message Archive Management end to end (XEP-0313 with XEP-0359 stanza-ids
and XEP-0059 paging): real jabberd, slixmpp's xep_0313 and xep_0359
plugins, on SQLite and PostgreSQL; raw XML for the error cases; the
archive survives a restart, and a message in offline storage over a restart
is still archived once.
"""

import asyncio
import signal
import xml.etree.ElementTree as ET

import pytest
from slixmpp.exceptions import IqError

from tests.integration.clients import Client, run
from tests.integration.test_offline import countReaches

NS_MAM = "urn:xmpp:mam:2"
NS_SID = "urn:xmpp:sid:0"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_DATA = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
PLUGINS = ["xep_0059", "xep_0313", "xep_0359"]


async def login(server, jid):
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=PLUGINS)
    assert await client.login(server.ports["c2s"])
    return client


async def exchange(sender, recipient, texts):
    """Send C{texts} as chats; the stanza-ids (by the recipient) the recipient got."""
    ids = []
    for text in texts:
        sender.send_message(recipient.boundjid.bare, text, mtype="chat")
        message = await recipient.nextMessage(lambda m: m["body"] == text)
        # only the recipient's archive id: the sender's stays with the sender
        [sid] = message.xml.findall(f"{{{NS_SID}}}stanza-id")
        assert sid.get("by") == recipient.boundjid.bare
        assert message["stanza_id"]["by"] == recipient.boundjid.bare
        ids.append(sid.get("id"))
    return ids


async def retrieve(client, **kwargs):
    """The (archive id, body) of the results of one query, in the order received."""
    iq = await client["xep_0313"].retrieve(timeout=10, **kwargs)
    return [(m["mam_result"]["id"], m["mam_result"]["forwarded"]["stanza"]["body"])
            for m in iq["mam"]["results"]], iq


async def rawQuery(client, payload):
    """Send C{payload} (XML text) in an iq set; the error condition, or None on success."""
    iq = client.make_iq_set()
    iq.append(ET.fromstring(payload))
    try:
        await iq.send(timeout=10)
    except IqError as e:
        error = e.iq.xml.find("{jabber:client}error")
        return [c.tag.split("}")[1] for c in error if c.tag.startswith("{" + NS_STANZAS)][0]
    return None


def test_archiveQueryInOrderWithStanzaIds(server):
    """Exchanged chats come back from the archive in order, under the ids the recipient saw."""
    async def body():
        alice = await login(server, "alice@localhost/mam")
        bob = await login(server, "bob@localhost/mam")
        texts = [f"hello {n}" for n in range(4)]
        ids = await exchange(alice, bob, texts)
        results, iq = await retrieve(bob, with_jid=alice.boundjid.bare)
        assert results == list(zip(ids, texts))
        assert iq["mam_fin"]["complete"] == "true" or iq["mam_fin"]["complete"] is True
        sent, _ = await retrieve(alice, with_jid=bob.boundjid.bare)
        assert [text for _, text in sent] == texts
        await alice.close()
        await bob.close()
    run(body())


def test_pagingAndWithFilter(server):
    """max pages through the archive with after; with keeps one correspondent."""
    async def body():
        carol = await login(server, "carol@localhost/mam")
        dave = await login(server, "dave@localhost/mam")
        erin = await login(server, "erin@localhost/mam")
        await exchange(carol, dave, ["c1", "c2", "c3"])
        await exchange(erin, dave, ["e1"])
        first, iq = await retrieve(dave, rsm={"max": 2})
        assert [text for _, text in first] == ["c1", "c2"]
        last = iq["mam_fin"]["rsm"]["last"]
        rest, iq = await retrieve(dave, rsm={"max": 2, "after": last})
        assert [text for _, text in rest] == ["c3", "e1"]
        onlyErin, _ = await retrieve(dave, with_jid=erin.boundjid.bare)
        assert [text for _, text in onlyErin] == ["e1"]
        for client in (carol, dave, erin):
            await client.close()
    run(body())


def test_offlineMessageArchivedWithItsId(server):
    """A chat to a user who is offline is archived once, and arrives on login with that archive id."""
    async def body():
        alice = await login(server, "alice@localhost/away")
        alice.send_message("erin@localhost", "while you were out", mtype="chat")
        # Logged in only once the message is in offline storage (XEP-0013 count).
        watcher = Client("erin@localhost/count", "erinpw", plugins=["xep_0013"])
        assert await watcher.login(server.ports["c2s"], presence=False)
        await countReaches(watcher, 1)
        await watcher.close()
        erin = await login(server, "erin@localhost/back")
        message = await erin.nextMessage(lambda m: m["body"] == "while you were out")
        [sid] = message.xml.findall(f"{{{NS_SID}}}stanza-id")
        results, _ = await retrieve(erin, with_jid=alice.boundjid.bare)
        # the offline store's delivery is the same message, not a second one
        assert results == [(sid.get("id"), "while you were out")]
        assert sid.get("by") == "erin@localhost"
        await alice.close()
        await erin.close()
    run(body())


def test_errorsAndPreferences(server):
    """Bad values get bad-request, unknown fields feature-not-implemented, unknown ids
    item-not-found, another's archive forbidden; prefs are kept; the form is discoverable."""
    async def body():
        frank = await login(server, "frank@localhost/mam")
        form = (f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE' type='hidden'>"
                f"<value>{NS_MAM}</value></field><field var='start'><value>not a date</value>"
                "</field></x>")
        assert await rawQuery(frank, f"<query xmlns='{NS_MAM}'>{form}</query>") == "bad-request"
        unknown = form.replace("var='start'", "var='urn:example:unknown'")
        assert await rawQuery(frank, f"<query xmlns='{NS_MAM}'>{unknown}</query>") \
            == "feature-not-implemented"
        paging = f"<set xmlns='{NS_RSM}'><after>nosuchid</after></set>"
        assert await rawQuery(frank, f"<query xmlns='{NS_MAM}'>{paging}</query>") \
            == "item-not-found"
        other = frank.make_iq_set(ito="alice@localhost")
        other.append(ET.fromstring(f"<query xmlns='{NS_MAM}'/>"))
        try:
            await other.send(timeout=10)
            raise AssertionError("another user's archive was answered")
        except IqError as e:
            assert e.iq["error"]["condition"] == "forbidden"
        assert await rawQuery(frank, f"<prefs xmlns='{NS_MAM}' default='never'/>") is None
        prefs = frank.make_iq_get()
        prefs.append(ET.fromstring(f"<prefs xmlns='{NS_MAM}'/>"))
        answer = await prefs.send(timeout=10)
        assert answer.xml.find(f"{{{NS_MAM}}}prefs").get("default") == "never"
        fields = await frank["xep_0313"].get_fields(timeout=10)
        names = [f.get("var") for f in fields.xml.iter(f"{{{NS_DATA}}}field")]
        assert {"with", "start", "end", "before-id", "after-id", "ids"} <= set(names)
        await frank.close()
    run(body())


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["restart", "kill-9"])
def test_archiveSurvivesRestart(sqliteServer, stop):
    """What the archive answered with is still there, under the same ids, after the server
    restarts or is killed with SIGKILL."""
    proc = sqliteServer

    async def before():
        alice = await login(proc, "alice@localhost/mam")
        bob = await login(proc, "bob@localhost/mam")
        ids = await exchange(alice, bob, ["kept 1", "kept 2"])
        # the writes are not waited for by delivery: let them commit
        for _ in range(100):
            results, _ = await retrieve(bob)
            if len(results) == 2:
                break
            await asyncio.sleep(0.05)
        await alice.close()
        await bob.close()
        return ids
    ids = run(before())
    proc.stop(stop)
    proc.start()

    async def after():
        bob = await login(proc, "bob@localhost/mam")
        results, _ = await retrieve(bob)
        assert results == list(zip(ids, ["kept 1", "kept 2"]))
        await bob.close()
    run(after())


def test_offlineMessageArchivedOnceAcrossRestart(sqliteServer):
    """A chat kept in offline storage over a restart arrives with the id it was archived with, and is archived once."""
    proc = sqliteServer

    async def before():
        alice = await login(proc, "alice@localhost/mam")
        alice.send_message("bob@localhost", "kept over the restart", mtype="chat")
        watcher = Client("bob@localhost/count", "bobpw", plugins=["xep_0013"])
        assert await watcher.login(proc.ports["c2s"], presence=False)
        await countReaches(watcher, 1)
        await watcher.close()
        await alice.close()
    run(before())
    proc.stop()
    proc.start()

    async def after():
        bob = await login(proc, "bob@localhost/back")
        message = await bob.nextMessage(lambda m: m["body"] == "kept over the restart")
        [sid] = message.xml.findall(f"{{{NS_SID}}}stanza-id")
        results, _ = await retrieve(bob)
        assert results == [(sid.get("id"), "kept over the restart")]
        await bob.close()
    run(after())


def test_queuedArchiveWritesFinishBeforeShutdown(sqliteServer):
    """Every message delivered before a clean stop is in the archive after the restart, even
    those whose archive write was still queued behind others when the stop began."""
    proc = sqliteServer
    texts = [f"burst {n}" for n in range(1500)]

    async def before():
        alice = await login(proc, "alice@localhost/mam")
        bob = await login(proc, "bob@localhost/mam")
        for text in texts:
            alice.send_message(bob.boundjid.full, text, mtype="chat")
        await bob.nextMessage(lambda m: m["body"] == texts[-1])
    run(before())
    proc.stop()
    proc.start()

    async def after():
        bob = await login(proc, "bob@localhost/mam")
        iq = await bob["xep_0313"].retrieve(timeout=10, rsm={"max": "1"})
        assert int(iq["mam_fin"]["rsm"]["count"]) == len(texts)
        await bob.close()
    run(after())


def test_acknowledgedMessagesArchivedAcrossKill9(sqliteServer):
    """Messages the server acknowledged (XEP-0198 <a h/>) are in the archive after kill -9."""
    proc = sqliteServer
    texts = [f"acked {n}" for n in range(1000)]

    async def before():
        alice = Client("alice@localhost/mam", "alicepw", plugins=PLUGINS + ["xep_0198"])
        assert await alice.login(proc.ports["c2s"])
        for text in texts:
            alice.send_message("bob@localhost", text, mtype="chat")
        # every message on the wire (counted by the plugin) before asking for the ack
        await alice["xep_0199"].ping("localhost", timeout=10)
        sent = alice["xep_0198"].seq
        alice["xep_0198"].request_ack()
        for _ in range(400):
            if alice["xep_0198"].last_ack >= sent:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the server never acknowledged the messages")
    run(before())
    proc.stop(signal.SIGKILL)
    proc.start()

    async def after():
        alice = await login(proc, "alice@localhost/mam")
        iq = await alice["xep_0313"].retrieve(timeout=10, rsm={"max": "1"})
        assert int(iq["mam_fin"]["rsm"]["count"]) == len(texts)
        await alice.close()
    run(after())
