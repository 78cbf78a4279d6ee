"""
Out-of-band data end to end: C{jabber:x:oob} in messages
(XEP-0066 section 3) and C{jabber:iq:oob} requests between users (section
4, with its error replies) pass through the server intact, also through
the offline store; and the upload scenario: a client gets a slot from the
upload component (XEP-0363), PUTs a file, sends the GET URL in
C{jabber:x:oob}, and the recipient downloads the same bytes.
"""

import asyncio
import os
import urllib.request
from xml.etree import ElementTree

from slixmpp.exceptions import IqError, XMPPError

from tests.integration.clients import Client, run
from tests.integration.harness import ServerProcess
from tests.integration.test_offline import countReaches
from tests.ports import freePort

PLUGINS = ["xep_0066", "xep_0013"]
NS_UPLOAD = "urn:xmpp:http:upload:0"


async def login(server, jid, presence=True):
    client = Client(jid, jid.split("@")[0] + "pw", plugins=PLUGINS)
    assert await client.login(server.ports["c2s"], presence=presence)
    return client


def oobMessage(client, to, url, desc, body):
    message = client.make_message(to, mbody=body, mtype="chat")
    message["oob"]["url"] = url
    message["oob"]["desc"] = desc
    return message


def test_xOobBetweenOnlineUsers(server):
    """A message with jabber:x:oob reaches the online recipient with URL and description intact."""
    async def body():
        alice = await login(server, "alice@localhost/oob")
        bob = await login(server, "bob@localhost/oob")
        oobMessage(alice, "bob@localhost/oob", "http://example.org/a b.png?x=1&y=2",
                   "a picture", "look").send()
        message = await bob.nextMessage(lambda m: m["body"] == "look")
        assert message["oob"]["url"] == "http://example.org/a b.png?x=1&y=2"
        assert message["oob"]["desc"] == "a picture"
        assert message["from"] == "alice@localhost/oob"
        await alice.close()
        await bob.close()
    run(body())


def test_xOobThroughOfflineStore(server):
    """A jabber:x:oob message to an offline user arrives intact, with delay, on login."""
    async def body():
        alice = await login(server, "alice@localhost/oob2")
        watcher = await login(server, "carol@localhost/watch", presence=False)
        oobMessage(alice, "carol@localhost", "http://example.org/doc.pdf", "the doc",
                   "stored link").send()
        await countReaches(watcher, 1)
        await watcher.close()
        carol = await login(server, "carol@localhost/back")
        message = await carol.nextMessage(lambda m: m["body"] == "stored link")
        assert message["oob"]["url"] == "http://example.org/doc.pdf"
        assert message["oob"]["desc"] == "the doc"
        assert message.xml.find("{urn:xmpp:delay}delay") is not None
        await carol.close()
        await alice.close()
    run(body())


def test_iqOobAcceptedAndRefused(server):
    """A jabber:iq:oob request reaches the recipient; its result and its error route back."""
    async def body():
        alice = await login(server, "alice@localhost/iqoob")
        dave = await login(server, "dave@localhost/iqoob")
        offered = []

        def handler(iq):
            offered.append((iq["from"].full, iq["oob_transfer"]["url"], iq["oob_transfer"]["desc"]))
            if "refuse" in iq["oob_transfer"]["url"]:
                raise XMPPError("not-acceptable", text="no thanks")

        dave["xep_0066"].register_url_handler(handler=handler)
        result = await alice["xep_0066"].send_oob("dave@localhost/iqoob",
                                                  "http://example.org/take.zip", "take it",
                                                  timeout=10)
        assert result["type"] == "result" and result["from"] == "dave@localhost/iqoob"
        try:
            await alice["xep_0066"].send_oob("dave@localhost/iqoob",
                                             "http://example.org/refuse.zip", timeout=10)
        except IqError as e:
            error = e.iq
        else:
            raise AssertionError("the refusal did not come back")
        assert error["from"] == "dave@localhost/iqoob"
        assert error["error"]["condition"] == "not-acceptable"
        assert error["error"]["text"] == "no thanks"
        assert offered == [("alice@localhost/iqoob", "http://example.org/take.zip", "take it"),
                           ("alice@localhost/iqoob", "http://example.org/refuse.zip", "")]
        await alice.close()
        await dave.close()
    run(body())


def test_iqOobToOfflineResourceBounces(server):
    """A jabber:iq:oob request to a resource that is not connected gets service-unavailable."""
    async def body():
        alice = await login(server, "alice@localhost/iqoob2")
        try:
            await alice["xep_0066"].send_oob("erin@localhost/nowhere", "http://example.org/x",
                                             timeout=10)
        except IqError as e:
            assert e.iq["error"]["condition"] == "service-unavailable"
        else:
            raise AssertionError("the request to a missing resource was answered")
        await alice.close()
    run(body())


async def requestSlot(client, filename, size, contentType):
    """Ask the upload component for a slot (XEP-0363 section 4); its (PUT, GET) URLs."""
    # slixmpp's xep_0363 plugin needs aiohttp; the request is one iq anyway.
    iq = client.make_iq_get(ito="upload.localhost")
    request = ElementTree.Element(f"{{{NS_UPLOAD}}}request",
                                  {"filename": filename, "size": str(size),
                                   "content-type": contentType})
    iq.append(request)
    result = await iq.send(timeout=10)
    slot = result.xml.find(f"{{{NS_UPLOAD}}}slot")
    return (slot.find(f"{{{NS_UPLOAD}}}put").get("url"),
            slot.find(f"{{{NS_UPLOAD}}}get").get("url"))


def _put(url, data, contentType):
    request = urllib.request.Request(url, data=data, method="PUT",
                                     headers={"Content-Type": contentType})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


async def uploadAndShare(server):
    """Alice uploads through a slot and sends the GET URL in jabber:x:oob; Bob gets the same bytes."""
    loop = asyncio.get_running_loop()
    alice = await login(server, "alice@localhost/upload")
    bob = await login(server, "bob@localhost/upload")
    data = os.urandom(4096) + "é€ done".encode("utf-8")
    putURL, getURL = await requestSlot(alice, "report é.bin", len(data),
                                       "application/octet-stream")
    status = await loop.run_in_executor(None, _put, putURL, data, "application/octet-stream")
    assert status == 201
    oobMessage(alice, "bob@localhost", getURL, "report", "here it is").send()
    message = await bob.nextMessage(lambda m: m["body"] == "here it is")
    assert message["oob"]["url"] == getURL
    downloaded = await loop.run_in_executor(None, _get, message["oob"]["url"])
    assert downloaded == data
    await alice.close()
    await bob.close()


def test_uploadAndShareByOob(server):
    """Alice uploads a file through a XEP-0363 slot, sends its URL in jabber:x:oob; Bob downloads it."""
    run(uploadAndShare(server))


UPLOAD_IN_PROCESS = "[component:upload.localhost]\nplugin = upload\n"
UPLOAD_OUT_OF_PROCESS = ("[component:upload.localhost]\nplugin = upload\nexternal = yes\n"
                         "secret = upload-secret\nhttp_listen = tcp:{port}:interface=127.0.0.1\n")


def test_uploadOutOfProcess(tmp_path):
    """The same upload scenario with the upload component in its own process: a config change only."""
    port = freePort()
    proc = ServerProcess(tmp_path)
    with open(proc.configPath) as f:
        text = f.read()
    assert UPLOAD_IN_PROCESS in text
    with open(proc.configPath, "w") as f:
        f.write(text.replace(UPLOAD_IN_PROCESS, UPLOAD_OUT_OF_PROCESS.format(port=port)))
    try:
        proc.start()
        proc.adduser("alice", "alicepw")
        proc.adduser("bob", "bobpw")
        proc.startComponent("upload.localhost")
        run(uploadAndShare(proc))
    finally:
        proc.stop()
