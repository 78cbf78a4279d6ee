"""
Converse.js pages for the browser tests: L{ConverseDriver} runs
C{converse.mjs} (playwright-core and headless Chromium) in a child process
and sends it one command at a time from the test's asyncio loop, so slixmpp
clients and browser pages take turns in one test body.  L{ConversePage} is
one page, logged in over WebSocket (RFC 7395).

The frame helpers read what a page sent and got on its WebSocket (one XML
element per frame, RFC 7395 section 3.3.3): they tell whether history came
from a MAM query (XEP-0313) or from a room's join history (XEP-0045
section 7.2.15), and whether a message came as a carbon (XEP-0280).
"""

import asyncio
import itertools
import json
import os
from xml.etree import ElementTree

from tests.integration.harness import ROOT

DRIVER = os.path.join(ROOT, "tests", "browser", "converse.mjs")
# One reply line from the driver may carry every frame a page saw (a room's MAM pages).
REPLY_LIMIT = 64 * 1024 * 1024
DIST = os.path.join(ROOT, "node_modules", "converse.js", "dist")
COMMAND_TIMEOUT = 60

NS_CLIENT = "jabber:client"
NS_MAM = "urn:xmpp:mam:2"
NS_CARBONS = "urn:xmpp:carbons:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DATA = "jabber:x:data"
NS_DELAY = "urn:xmpp:delay"
NS_MUC = "http://jabber.org/protocol/muc"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"


class ConverseError(AssertionError):
    """A driver command failed; the message has the driver's log tail."""


class ConverseDriver:
    """
    One C{node converse.mjs} process and its browser.

    @ivar logPath: where the driver's progress (stderr) goes.
    """

    def __init__(self, server, logPath):
        self.server = server
        self.logPath = logPath
        self.process = None
        self.pages = []
        self._ids = itertools.count(1)

    async def start(self):
        self._log = open(self.logPath, "ab")
        self.process = await asyncio.create_subprocess_exec(
            "node", DRIVER, cwd=ROOT, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=self._log,
            limit=REPLY_LIMIT)
        return self

    async def call(self, cmd, page=None, **args):
        """Run one command; its value, or L{ConverseError}."""
        ident = next(self._ids)
        line = json.dumps({"id": ident, "cmd": cmd, "page": page, "args": args})
        self.process.stdin.write(line.encode("utf-8") + b"\n")
        await self.process.stdin.drain()
        while True:
            raw = await asyncio.wait_for(self.process.stdout.readline(), COMMAND_TIMEOUT)
            if not raw:
                raise ConverseError(f"the driver ended during {cmd}:\n" + self.logTail())
            text = raw.decode("utf-8", "replace")
            if not text.startswith("REPLY "):
                continue
            reply = json.loads(text[len("REPLY "):])
            if reply.get("id") != ident:
                continue
            if "error" in reply:
                raise ConverseError(f"{page} {cmd} {args}: {reply['error']}\n" + self.logTail())
            return reply["value"]

    def page(self, name):
        page = ConversePage(self, name)
        self.pages.append(page)
        return page

    async def saveRecords(self, directory):
        """
        Write each open page's frames, notes and errors to C{directory}
        (C{converse-NAME.frames.txt}, C{.notes.txt}, C{.errors.txt}): the
        record of what the page sent and got, for a reader of the test run.
        """
        for page in self.pages:
            try:
                records = [("frames", await page.frames()), ("notes", await page.notes()),
                           ("errors", await page.errors())]
            except ConverseError:
                continue  # closed, or never opened
            for kind, lines in records:
                path = os.path.join(directory, f"converse-{page.name}.{kind}.txt")
                with open(path, "w") as f:
                    f.write("\n".join(lines) + "\n")

    def logTail(self, limit=3000):
        with open(self.logPath, errors="replace") as f:
            return f.read()[-limit:]

    async def close(self):
        """Close the browser and wait for the driver to end."""
        if self.process is None:
            return
        try:
            if self.process.returncode is None:
                await self.call("quit")
                self.process.stdin.close()
                await asyncio.wait_for(self.process.wait(), 15)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            self._log.close()
            self.process = None


class ConversePage:
    """One Converse.js page in its own browser context."""

    def __init__(self, driver, name):
        self.driver = driver
        self.name = name

    def _call(self, cmd, **args):
        return self.driver.call(cmd, self.name, **args)

    def open(self, jid, password, legacyOmemo=False, **settings):
        """
        Log in as the full JID C{jid} over WebSocket (a client of OMEMO 0.3
        only if C{legacyOmemo}, other Converse settings in C{settings}); the
        bound JID.
        """
        server = self.driver.server
        service = f"ws://127.0.0.1:{server.ports['http']}/xmpp-websocket"
        return self._call("open", base=server.base, service=service, jid=jid,
                          password=password, dist=DIST, settings=settings,
                          legacyOmemo=legacyOmemo)

    def leave(self):
        return self._call("leave")

    def reload(self):
        return self._call("reload")

    def openChat(self, jid):
        return self._call("openChat", jid=jid)

    def joinRoom(self, jid, nick):
        return self._call("joinRoom", jid=jid, nick=nick)

    def bookmark(self, jid, name, nick, autojoin=True):
        return self._call("bookmark", jid=jid, name=name, nick=nick, autojoin=autojoin)

    def bookmarks(self):
        return self._call("bookmarks")

    def send(self, jid, text):
        return self._call("send", jid=jid, text=text)

    def waitText(self, jid, text):
        return self._call("waitText", jid=jid, text=text)

    def texts(self, jid):
        return self._call("texts", jid=jid)

    async def frames(self, sinceReload=False):
        """The frames so far (only those after the last reload if asked)."""
        frames = await self._call("frames")
        if sinceReload and "RELOAD" in frames:
            frames = frames[len(frames) - frames[::-1].index("RELOAD"):]
        return frames

    def waitFrame(self, pattern):
        return self._call("waitFrame", pattern=pattern)

    def omemoReady(self):
        """Wait until the page's OMEMO device is published; its device id."""
        return self._call("omemoReady")

    def encryptChat(self, jid):
        """Switch the open chat with C{jid} to OMEMO once Converse found the contact's devices."""
        return self._call("encryptChat", jid=jid)

    def errors(self):
        return self._call("errors")

    def notes(self):
        return self._call("notes")

    def screenshot(self, path):
        return self._call("screenshot", path=path)

    def close(self):
        return self._call("close")

    async def carbonsEnabled(self):
        """Wait until the server has answered this page's carbons <enable/>."""
        request = parse(await self.waitFrame(r'^OUT <iq [^>]*><enable xmlns="urn:xmpp:carbons:2"'))
        ident = request.get("id")
        answer = parse(await self.waitFrame(r"^IN <iq .*id='" + ident.replace(".", r"\.") + "'"))
        assert answer.get("type") == "result", ElementTree.tostring(answer)


def parse(frame):
    """The element of an "IN " / "OUT " frame, or None for anything else."""
    direction, _, text = frame.partition(" ")
    if direction not in ("IN", "OUT"):
        return None
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None


def elements(frames, direction):
    """The parsed elements of C{frames} that went in C{direction} (IN or OUT)."""
    found = (parse(f) for f in frames if f.startswith(direction + " "))
    return [element for element in found if element is not None]


def _formField(query, var):
    for field in query.iter(f"{{{NS_DATA}}}field"):
        if field.get("var") == var:
            value = field.find(f"{{{NS_DATA}}}value")
            return value.text if value is not None else None
    return None


def mamQueries(frames):
    """
    The MAM queries a page sent (XEP-0313 section 4), as dicts of C{to}
    (None: the user's own archive) and the C{with} form field.
    """
    queries = []
    for iq in elements(frames, "OUT"):
        query = iq.find(f"{{{NS_MAM}}}query")
        if iq.tag == f"{{{NS_CLIENT}}}iq" and iq.get("type") == "set" and query is not None:
            queries.append({"to": iq.get("to"), "with": _formField(query, "with")})
    return queries


def mamResultBodies(frames, archive):
    """
    The bodies of the archived messages a page got in MAM results from the
    archive of C{archive}, a bare JID (XEP-0313 section 4.2: results come
    from the archive's JID; for the user's own archive the server may leave
    C{from} out, RFC 6120 section 8.1.2.1).
    """
    bodies = []
    for message in elements(frames, "IN"):
        result = message.find(f"{{{NS_MAM}}}result")
        if result is None or message.get("from") not in (archive, None):
            continue
        body = result.find(f"{{{NS_FORWARD}}}forwarded/{{{NS_CLIENT}}}message/{{{NS_CLIENT}}}body")
        if body is not None:
            bodies.append(body.text)
    return bodies


def carbonBodies(frames, direction):
    """The bodies of the C{received} or C{sent} carbons a page got (XEP-0280 section 7)."""
    bodies = []
    for message in elements(frames, "IN"):
        body = message.find(f"{{{NS_CARBONS}}}{direction}/{{{NS_FORWARD}}}forwarded/"
                            f"{{{NS_CLIENT}}}message/{{{NS_CLIENT}}}body")
        if body is not None:
            bodies.append(body.text)
    return bodies


def joinHistory(frames, room):
    """
    How a page asked to join C{room} and what came as its discussion history
    (XEP-0045 section 7.2.15): (maxstanzas asked or None, bodies of delayed
    groupchat messages from the room's occupants).
    """
    asked = None
    for presence in elements(frames, "OUT"):
        history = presence.find(f"{{{NS_MUC}}}x/{{{NS_MUC}}}history")
        if presence.get("to", "").startswith(room + "/") and history is not None:
            asked = history.get("maxstanzas")
    bodies = []
    for message in elements(frames, "IN"):
        body = message.find(f"{{{NS_CLIENT}}}body")
        if (message.get("type") == "groupchat" and message.get("from", "").startswith(room + "/")
                and message.find(f"{{{NS_DELAY}}}delay") is not None and body is not None):
            bodies.append(body.text)
    return asked, bodies


def advertises(frames, entity, feature):
    """Whether a disco#info result from C{entity} the page got lists C{feature}."""
    for iq in elements(frames, "IN"):
        query = iq.find(f"{{{NS_DISCO_INFO}}}query")
        if iq.get("from") == entity and iq.get("type") == "result" and query is not None:
            if any(f.get("var") == feature for f in query.findall(f"{{{NS_DISCO_INFO}}}feature")):
                return True
    return False
