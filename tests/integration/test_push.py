"""
Push Notifications (XEP-0357) end to end: real jabberd on SQLite and
PostgreSQL, a test app server (an XEP-0114 component made with slixmpp's
C{ComponentXMPP}) that records the PubSub publishes it gets and answers
some with an error, and slixmpp clients sending the enable and disable
requests raw (slixmpp has no XEP-0357 plugin).
"""

import asyncio
import xml.etree.ElementTree as ET

import pytest
import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from tests.integration.clients import TIMEOUT, Client, run
from tests.integration.harness import ServerProcess

NS_PUSH = "urn:xmpp:push:0"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_DATA = "jabber:x:data"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"
SUMMARY = "urn:xmpp:push:summary"
APPS = [f"push{i}.localhost" for i in range(1, 7)]
EXTRA = "".join(f"\n[component:{app}]\nsecret = push-secret\n" for app in APPS)


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    """A started jabberd with the app servers' component sections and the usual accounts."""
    proc = ServerProcess(tmp_path_factory.mktemp("jabberd"), database=backend, extra=EXTRA)
    proc.start()
    for name in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "henry"):
        proc.adduser(name, name + "pw")
    yield proc
    proc.stop()


class AppServer(slixmpp.ComponentXMPP):
    """
    A push service: records each publish as (from, node, summary fields,
    publish-options fields) and answers it, with item-not-found for the
    nodes in C{failing}.
    """

    def __init__(self, domain, port, failing=()):
        super().__init__(domain, "push-secret", "127.0.0.1", port)
        self.failing = set(failing)
        self.publishes = asyncio.Queue()
        self.register_handler(Callback(
            "publishes", MatchXPath(f"{{{self.default_ns}}}iq/{{{NS_PUBSUB}}}pubsub"),
            self.onPublish))

    def onPublish(self, iq):
        pubsub = iq.xml.find(f"{{{NS_PUBSUB}}}pubsub")
        publish = pubsub.find(f"{{{NS_PUBSUB}}}publish")
        node = publish.get("node")
        summary = publish.find(f"{{{NS_PUBSUB}}}item/{{{NS_PUSH}}}notification/{{{NS_DATA}}}x")
        options = pubsub.find(f"{{{NS_PUBSUB}}}publish-options/{{{NS_DATA}}}x")
        self.publishes.put_nowait((iq["from"].full, node, fields(summary),
                                   fields(options) if options is not None else None))
        reply = iq.reply(clear=True)
        if node in self.failing:
            reply["error"]["type"] = "cancel"
            reply["error"]["condition"] = "item-not-found"
            reply["type"] = "error"
        reply.send()

    async def start(self):
        started = self.loop.create_future()
        self.add_event_handler("session_start", lambda _: started.done() or started.set_result(1),
                               disposable=True)
        self.connect()
        await asyncio.wait_for(started, TIMEOUT)
        return self

    async def next(self):
        return await asyncio.wait_for(self.publishes.get(), TIMEOUT)

    async def close(self):
        done = self.loop.create_future()
        self.add_event_handler("disconnected", lambda *_: done.done() or done.set_result(1),
                               disposable=True)
        self.disconnect()
        await asyncio.wait_for(done, TIMEOUT)


def fields(form):
    return {f.get("var"): f.findtext(f"{{{NS_DATA}}}value")
            for f in form.findall(f"{{{NS_DATA}}}field")}


def form(formType, **values):
    inner = "".join(f"<field var='{k}'><value>{v}</value></field>" for k, v in values.items())
    return (f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'>"
            f"<value>{formType}</value></field>{inner}</x>")


def rawSet(client, xml):
    iq = client.make_iq_set()
    iq.append(ET.fromstring(xml))
    return iq.send(timeout=TIMEOUT)


async def enable(client, app, node, forms=""):
    await rawSet(client, f"<enable xmlns='{NS_PUSH}' jid='{app}' node='{node}'>{forms}</enable>")


async def away(server, user):
    """C{user} logged in without presence (so messages to them are undeliverable)."""
    client = Client(f"{user}@localhost/phone", user + "pw")
    assert await client.login(server.ports["c2s"], presence=False)
    return client


async def sender(server):
    bob = Client("bob@localhost/desk", "bobpw")
    assert await bob.login(server.ports["c2s"])
    return bob


def test_notificationWithoutBodyAndMessageStillStored(server):
    """An offline chat is notified (count, sender, options, no body) and delivered at login."""
    async def body():
        app = await AppServer(APPS[0], server.ports["components"]).start()
        alice = await away(server, "alice")
        info = await alice["xep_0030"].get_info(jid="alice@localhost", timeout=TIMEOUT)
        assert NS_PUSH in info["disco_info"]["features"]
        await enable(alice, APPS[0], "a1", form(PUBLISH_OPTIONS, secret="s3cret"))
        await alice.close()
        bob = await sender(server)
        bob.send_message("alice@localhost", "secret words", mtype="chat")
        publisher, node, summary, options = await app.next()
        assert (publisher, node) == ("alice@localhost", "a1")
        assert summary == {"FORM_TYPE": SUMMARY, "message-count": "1",
                           "last-message-sender": "bob@localhost/desk"}
        assert options == {"FORM_TYPE": PUBLISH_OPTIONS, "secret": "s3cret"}
        bob.send_message("alice@localhost", "more words", mtype="chat")
        assert (await app.next())[2]["message-count"] == "2"

        alice = Client("alice@localhost/phone", "alicepw")
        assert await alice.login(server.ports["c2s"])
        got = [(await alice.nextMessage(lambda m: m["body"]))["body"] for _ in range(2)]
        assert got == ["secret words", "more words"]
        await alice.close()
        await bob.close()
        await app.close()

    run(body())


def test_bodyWhenAsked(server):
    """A registration whose enable asked for last-message-body gets the body."""
    async def body():
        app = await AppServer(APPS[1], server.ports["components"]).start()
        carol = await away(server, "carol")
        await enable(carol, APPS[1], "c1", form(SUMMARY, **{"last-message-body": "1"}))
        bob = await sender(server)
        bob.send_message("carol@localhost", "wherefore art thou", mtype="chat")
        _, node, summary, options = await app.next()
        assert node == "c1" and options is None
        assert summary["last-message-body"] == "wherefore art thou"
        for client in (carol, bob, app):
            await client.close()

    run(body())


def test_disableStopsNotifications(server):
    """Disabling one node stops its notifications; disabling the service stops them all."""
    async def body():
        app = await AppServer(APPS[2], server.ports["components"]).start()
        dave = await away(server, "dave")
        for node in ("d1", "d2"):
            await enable(dave, APPS[2], node)
        await rawSet(dave, f"<disable xmlns='{NS_PUSH}' jid='{APPS[2]}' node='d1'/>")
        bob = await sender(server)
        bob.send_message("dave@localhost", "one", mtype="chat")
        assert (await app.next())[1] == "d2"
        await rawSet(dave, f"<disable xmlns='{NS_PUSH}' jid='{APPS[2]}'/>")
        bob.send_message("dave@localhost", "two", mtype="chat")
        # A registered user's message after it, on the same stream: the barrier.
        grace = await away(server, "grace")
        await enable(grace, APPS[2], "g-barrier")
        bob.send_message("grace@localhost", "barrier", mtype="chat")
        publisher, node, _, _ = await app.next()
        assert (publisher, node) == ("grace@localhost", "g-barrier")
        assert app.publishes.empty()
        for client in (dave, grace, bob, app):
            await client.close()

    run(body())


def test_errorDisablesRegistration(server):
    """An error from the app server disables that registration; the others go on."""
    async def body():
        app = await AppServer(APPS[3], server.ports["components"], failing={"broken"}).start()
        erin = await away(server, "erin")
        for node in ("broken", "good"):
            await enable(erin, APPS[3], node)
        bob = await sender(server)
        bob.send_message("erin@localhost", "one", mtype="chat")
        first = {(await app.next())[1] for _ in range(2)}
        assert first == {"broken", "good"}
        bob.send_message("erin@localhost", "two", mtype="chat")
        _, node, summary, _ = await app.next()
        assert (node, summary["message-count"]) == ("good", "2")
        bob.send_message("erin@localhost", "three", mtype="chat")
        _, node, summary, _ = await app.next()
        assert (node, summary["message-count"]) == ("good", "3")
        assert app.publishes.empty()
        assert "failed (item-not-found): disabled" in server.logText(limit=None)
        for client in (erin, bob, app):
            await client.close()

    run(body())


def test_registrationSurvivesRestart(server):
    """A registration made before a restart is notified after it."""
    async def before():
        frank = await away(server, "frank")
        await enable(frank, APPS[4], "f1")
        await frank.close()

    async def after():
        app = await AppServer(APPS[4], server.ports["components"]).start()
        bob = await sender(server)
        bob.send_message("frank@localhost", "after restart", mtype="chat")
        publisher, node, summary, _ = await app.next()
        assert (publisher, node, summary["message-count"]) == ("frank@localhost", "f1", "1")
        await bob.close()
        await app.close()

    run(before())
    server.stop()
    server.start()
    run(after())


def test_detachedSessionIsNotified(server):
    """A phone whose connection dropped (XEP-0198 session detached, still available) is
    notified of a message sent meanwhile, and gets the message itself when it resumes."""
    from tests.integration.test_streammanagement import cut, reconnect

    async def body():
        app = await AppServer(APPS[5], server.ports["components"]).start()
        henry = Client("henry@localhost/phone", "henrypw", plugins=["xep_0198"])
        assert await henry.login(server.ports["c2s"])
        await enable(henry, APPS[5], "g1")
        await cut(henry)
        bob = await sender(server)
        bob.send_message("henry@localhost", "are you there", mtype="chat")
        publisher, node, summary, _ = await app.next()
        assert (publisher, node) == ("henry@localhost", "g1")
        assert summary["message-count"] == "1" and "last-message-body" not in summary
        assert await reconnect(henry, server.ports["c2s"])
        await henry.nextMessage(lambda m: m["body"] == "are you there")
        await henry.close()
        await bob.close()
        await app.close()
    run(body())
