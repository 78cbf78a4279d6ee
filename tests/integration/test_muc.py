"""
The conference component end to end: slixmpp's MUC plugin as a
real client against a real jabberd, plus raw groupchat 1.0 and
jabber:iq:conference / jabber:iq:browse stanzas as old clients send them.
"""

from xml.etree import ElementTree

import pytest
from slixmpp.exceptions import IqError, PresenceError

from tests.integration.clients import Client, run

MUC = "conference.localhost"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"


async def login(server, name, resource="muc"):
    client = Client(f"{name}@localhost/{resource}", name + "pw",
                    plugins=["xep_0045", "xep_0004", "xep_0249"])
    assert await client.login(server.ports["c2s"])
    return client


def statusCodes(stanza):
    x = stanza.xml.find("{%s}x" % NS_MUC_USER)
    if x is None:
        return set()
    return {int(s.get("code")) for s in x.findall("{%s}status" % NS_MUC_USER)}


async def instantRoom(owner, room, nick):
    await owner["xep_0045"].join_muc_wait(room, nick, timeout=10)
    form = await owner["xep_0045"].get_room_config(room)
    await owner["xep_0045"].set_room_config(room, form)


def test_instantRoomFanOutHistoryAndSubject(server):
    """An owner creates an instant room; occupants get fan-out, history with delay, and the subject."""
    async def body():
        alice, bob, carol = [await login(server, n) for n in ("alice", "bob", "carol")]
        room = "lobby@" + MUC
        presence, _subject, _occupants, _history = await alice["xep_0045"].join_muc_wait(
            room, "Alice", timeout=10)
        codes = statusCodes(presence)
        assert 110 in codes and 201 in codes, codes
        form = await alice["xep_0045"].get_room_config(room)
        await alice["xep_0045"].set_room_config(room, form)
        alice.send_message(room, "before you came", mtype="groupchat")
        await alice.nextMessage(lambda m: m["body"] == "before you came")
        alice["xep_0045"].set_subject(room, "Welcome")
        await alice.nextMessage(lambda m: m["subject"] == "Welcome")

        _self, subject, _occupants, history = await bob["xep_0045"].join_muc_wait(
            room, "Bob", maxstanzas=5, timeout=10)
        history = [m for m in history if m["body"] == "before you came"]
        assert history and history[0].xml.find("{urn:xmpp:delay}delay") is not None
        assert "Welcome" in str(subject)
        await carol["xep_0045"].join_muc_wait(room, "Carol", timeout=10)

        carol.send_message(room, "hello all", mtype="groupchat")
        for client in (alice, bob, carol):
            message = await client.nextMessage(lambda m: m["body"] == "hello all")
            assert message["from"] == room + "/Carol"
        bob.send_message(room, "/me waves", mtype="groupchat")
        assert (await alice.nextMessage(lambda m: m["body"].startswith("/me")))["body"] == "/me waves"
        for client in (alice, bob, carol):
            await client.close()
    run(body())


def test_passwordRoomKickBanAndNick(server):
    """A password-protected room refuses a wrong password; kick, ban and nick change notify with 307, 301, 303."""
    async def body():
        dave, erin, frank = [await login(server, n) for n in ("dave", "erin", "frank")]
        room = "secret@" + MUC
        await dave["xep_0045"].join_muc_wait(room, "Dave", timeout=10)
        form = await dave["xep_0045"].get_room_config(room)
        fields = form.get_fields()
        fields["muc#roomconfig_passwordprotectedroom"]["value"] = True
        fields["muc#roomconfig_roomsecret"]["value"] = "sesame"
        await dave["xep_0045"].set_room_config(room, form)

        with pytest.raises(PresenceError) as wrong:
            await erin["xep_0045"].join_muc_wait(room, "Erin", password="nope", timeout=10)
        assert wrong.value.condition == "not-authorized"
        await erin["xep_0045"].join_muc_wait(room, "Erin", password="sesame", timeout=10)
        await frank["xep_0045"].join_muc_wait(room, "Frank", password="sesame", timeout=10)

        await erin["xep_0045"].set_self_nick(room, "Erin2")
        renamed = await dave.nextPresence(lambda p: 303 in statusCodes(p))
        assert renamed["from"] == room + "/Erin"

        await dave["xep_0045"].set_role(room, "Erin2", "none", reason="out")
        kicked = await erin.nextPresence(lambda p: p["type"] == "unavailable" and 307 in statusCodes(p))
        assert 110 in statusCodes(kicked)
        await dave["xep_0045"].set_affiliation(room, "outcast", jid="frank@localhost")
        banned = await frank.nextPresence(lambda p: p["type"] == "unavailable" and 301 in statusCodes(p))
        assert banned is not None
        with pytest.raises(PresenceError) as refused:
            await frank["xep_0045"].join_muc_wait(room, "Frank", password="sesame", timeout=10)
        assert refused.value.condition == "forbidden"
        for client in (dave, erin, frank):
            await client.close()
    run(body())


def test_invitationsPassThrough(server):
    """A mediated invitation arrives from the room; a direct invitation arrives from the inviter."""
    async def body():
        alice, bob = await login(server, "alice", "inv"), await login(server, "bob", "inv")
        room = "party@" + MUC
        await instantRoom(alice, room, "Alice")
        alice["xep_0045"].invite(room, "bob@localhost/inv", reason="join us")
        mediated = await bob.nextMessage(lambda m: m.xml.find("{%s}x" % NS_MUC_USER) is not None)
        assert mediated["from"].bare == room
        alice["xep_0249"].send_invitation("bob@localhost/inv", room, reason="direct")
        direct = await bob.nextMessage(lambda m: m.xml.find("{jabber:x:conference}x") is not None)
        assert direct["from"] == "alice@localhost/inv"
        await alice.close()
        await bob.close()
    run(body())


def test_groupchat10AndConferenceAndBrowse(server):
    """A groupchat 1.0 client and a MUC client share a room; iq:conference and iq:browse answer."""
    async def body():
        alice, carol = await login(server, "alice", "old"), await login(server, "carol", "old")
        room = "oldies@" + MUC
        with pytest.raises(IqError) as missing:
            await carol.make_iq_get("jabber:iq:browse", ito=room).send(timeout=10)
        assert missing.value.condition == "item-not-found"
        await instantRoom(alice, room, "Alice")

        # groupchat 1.0: plain presence without the muc x element.
        carol.send_presence(pto=room + "/Carol")
        await carol.nextPresence(lambda p: p["from"] == room + "/Carol")
        carol.send_message(room, "old school", mtype="groupchat")
        message = await alice.nextMessage(lambda m: m["body"] == "old school")
        assert message["from"] == room + "/Carol"

        browse = await alice.make_iq_get("jabber:iq:browse", ito=room).send(timeout=10)
        assert "Carol" in str(browse)
        service = await alice.make_iq_get("jabber:iq:browse", ito=MUC).send(timeout=10)
        assert room in str(service)
        conference = await carol.make_iq_get("jabber:iq:conference", ito=room).send(timeout=10)
        assert conference["type"] == "result"

        # jabber:iq:conference join (the jabberd 1.4 way): presence to the
        # bare room, then a set with the nick; the others see the newcomer.
        erin = await login(server, "erin", "old")
        erin.send_presence(pto=room)
        join = erin.make_iq_set(ito=room)
        join.xml.append(ElementTree.fromstring(
            "<query xmlns='jabber:iq:conference'><nick>Oldtimer</nick></query>"))
        answer = await join.send(timeout=10)
        assert room + "/Oldtimer" in str(answer)
        await alice.nextPresence(lambda p: p["from"] == room + "/Oldtimer")
        for client in (alice, carol, erin):
            await client.close()
    run(body())


def test_persistentRoomSurvivesRestart(server):
    """A persistent room with its ban list survives a server restart; a temporary one vanishes."""
    async def body():
        erin = await login(server, "erin", "p")
        room = "keeper@" + MUC
        await erin["xep_0045"].join_muc_wait(room, "Erin", timeout=10)
        form = await erin["xep_0045"].get_room_config(room)
        form.get_fields()["muc#roomconfig_persistentroom"]["value"] = True
        await erin["xep_0045"].set_room_config(room, form)
        await erin["xep_0045"].set_affiliation(room, "outcast", jid="frank@localhost")
        await instantRoom(erin, "fleeting@" + MUC, "Erin")
        await erin.close()

    run(body())
    server.stop()
    server.start()

    async def after():
        frank, erin = await login(server, "frank", "p"), await login(server, "erin", "p2")
        with pytest.raises(PresenceError) as refused:
            await frank["xep_0045"].join_muc_wait("keeper@" + MUC, "Frank", timeout=10)
        assert refused.value.condition == "forbidden"
        with pytest.raises(IqError) as gone:
            await erin.make_iq_get("jabber:iq:browse", ito="fleeting@" + MUC).send(timeout=10)
        assert gone.value.condition == "item-not-found"
        await frank.close()
        await erin.close()
    run(after())
