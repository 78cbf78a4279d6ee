"""
The web transports and the web chat page in a real browser (headless
Chromium): Strophe.js over BOSH (XEP-0206) and over WebSocket (RFC 7395)
chatting with a TCP client, and two users of the server's own web chat
page chatting privately and in a room.
"""

import asyncio
import json
import os
import subprocess

from tests.integration.clients import Client, run
from tests.integration.harness import ROOT

STROPHE = os.path.join(ROOT, "node_modules", "strophe.js", "dist", "strophe.umd.min.js")


def _result(output):
    """The driver's RESULT line, decoded."""
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, "the browser driver printed no result:\n" + output
    return json.loads(lines[-1][len("RESULT "):])


async def _drive(command, scenario, args):
    process = await asyncio.create_subprocess_exec(
        *command, scenario, json.dumps(args), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return _result(output.decode("utf-8", "replace"))


def _stropheChat(browser, server, service, artifacts, name):
    """Strophe logs in as alice through C{service} and chats with bob on TCP."""
    async def body():
        bob = Client("bob@localhost/tcp", "bobpw")
        assert await bob.login(server.ports["c2s"])

        async def answer():
            while True:  # the browser takes a few seconds to start
                message = await asyncio.wait_for(bob.messages.get(), 60)
                if message["body"] == "hello from strophe":
                    bob.send_message(message["from"], "hello back over TCP", mtype="chat")
                    return message

        answering = asyncio.ensure_future(answer())
        result = await _drive(browser, "strophe", {
            "base": server.base, "page": "/http-bind", "service": service, "jid": "alice@localhost/" + name,
            "password": "alicepw", "peer": "bob@localhost/tcp", "strophe": STROPHE,
            "screenshot": os.path.join(artifacts, name + ".png")})
        received = answering.result() if answering.done() else None
        answering.cancel()
        await bob.close()
        return result, received

    result, received = run(body())
    assert "error" not in result and "failed" not in result, result
    assert received is not None, result
    assert result["jid"] == "alice@localhost/" + name
    assert received["from"] == "alice@localhost/" + name
    assert {"from": "bob@localhost/tcp", "body": "hello back over TCP"} in result["received"]
    assert not result["problems"], result["problems"]


def test_stropheOverBOSH(browser, webServer, artifacts):
    """Strophe.js logs in over BOSH, sends a chat to a TCP client and gets its answer."""
    _stropheChat(browser, webServer, webServer.base + "/http-bind", artifacts, "strophe-bosh")


def test_stropheOverWebSocket(browser, webServer, artifacts):
    """Strophe.js logs in over WebSocket, sends a chat to a TCP client and gets its answer."""
    service = f"ws://127.0.0.1:{webServer.ports['http']}/xmpp-websocket"
    _stropheChat(browser, webServer, service, artifacts, "strophe-websocket")


def test_webchatPrivateAndRoom(browser, webServer, artifacts):
    """Two web chat users (WebSocket; BOSH after registering) chat privately and in a room."""
    args = {"base": webServer.base, "domain": "localhost",
            "userA": {"username": "carol", "password": "carolpw"},
            "userB": {"username": "webnewbie", "password": "newbie-secret"},
            "room": "lobby", "screenshots": artifacts}
    completed = subprocess.run(browser + ["webchat", json.dumps(args)], cwd=ROOT,
                               capture_output=True, text=True, timeout=90)
    result = _result(completed.stdout + completed.stderr)
    for path in result.get("screenshots", []):
        print("screenshot:", path)
    assert "error" not in result, result
    assert result["steps"][-1] == "both logged out", result["steps"]
    assert (result["transportA"], result["transportB"]) == ("WebSocket", "BOSH")
    assert not result["problems"], result["problems"]
    assert all(os.path.getsize(path) > 10000 for path in result["screenshots"])
