"""
Watching a real jabberd under attack: its memory (VmRSS) and CPU time from
/proc, an honest client's ping round trips while an attack runs in a
thread, and servers started with a few configuration keys changed.
"""

import asyncio
import base64
import os
import re
import socket
import ssl
import time

from jabberd.tls.records import ProtectedChannel
from tests.integration.clients import RawStream, insecureContext
from tests.integration.harness import ServerProcess

STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
PING_LIMIT = 2.0
"""Seconds an honest client's ping may take while the server is attacked (issue 14)."""


def rssKB(pid):
    """The resident set of process C{pid}, in KB."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))


def serverRSS(server):
    """The resident memory of the running L{ServerProcess} C{server}, in bytes."""
    return rssKB(server.process.pid) * 1024


def serverCPU(server):
    """The CPU seconds the running L{ServerProcess} C{server} has used so far."""
    return cpuSeconds(server.process.pid)


def cpuSeconds(pid):
    """User plus system CPU time of process C{pid} (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rewriteConfig(proc, replacements):
    """Replace text in C{proc}'s configuration file before it starts; each old text must be there."""
    with open(proc.configPath) as f:
        text = f.read()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    with open(proc.configPath, "w") as f:
        f.write(text)


async def pingWithin(client, bound=PING_LIMIT):
    """The server answers C{client}'s ping within C{bound} seconds (else C{asyncio.TimeoutError})."""
    await asyncio.wait_for(client["xep_0199"].send_ping("localhost", timeout=bound), bound)


def startServer(tmp_path_factory, users=("alice", "bob"), **sections):
    """
    A started jabberd whose configuration has, in each section named by a
    keyword (C{c2s}, C{http}, C{server}), the given keys set.
    """
    proc = ServerProcess(tmp_path_factory.mktemp("jabberd"))
    with open(proc.configPath) as f:
        text = f.read()
    for section, values in sections.items():
        lines = "".join(f"{key} = {value}\n" for key, value in values.items())
        for key in values:
            text = re.sub(rf"(?m)^{key} = .*\n", "", text)
        text = text.replace(f"[{section}]\n", f"[{section}]\n{lines}", 1)
    with open(proc.configPath, "w") as f:
        f.write(text)
    proc.start()
    for name in users:
        proc.adduser(name, name + "pw")
    return proc


async def whilePinging(client, attack, *args):
    """
    Run C{attack(*args)} in a thread while C{client} pings the server
    back to back; return (the attack's result, the round trips in seconds,
    the one in flight when the attack ended counted to that moment).
    """
    times = []
    started = [None]

    async def pinger():
        while True:
            started[0] = time.monotonic()
            await client["xep_0199"].ping(jid="localhost", timeout=30)
            times.append(time.monotonic() - started[0])
            started[0] = None
            await asyncio.sleep(0.05)

    task = asyncio.ensure_future(pinger())
    try:
        result = await asyncio.to_thread(attack, *args)
    finally:
        inFlight = started[0]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if inFlight is not None:
        times.append(time.monotonic() - inFlight)
    return result, times


def pingedThroughout(server, attack, *args, user="bob"):
    """
    Log C{user} in on C{server}'s c2s port, run C{attack(*args)} in a thread
    while it pings, assert every ping was answered within L{PING_LIMIT};
    return what the attack returned.
    """
    from tests.integration.clients import Client, run

    async def main():
        honest = Client(f"{user}@localhost/honest", user + "pw")
        assert await honest.login(server.ports["c2s"])
        try:
            return await whilePinging(honest, attack, *args)
        finally:
            await honest.close()

    result, pings = run(main())
    assert pings and max(pings) < PING_LIMIT, pings
    return result


def plainAuth(username, password):
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    return f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{token}</auth>"


def rawLogin(port, username, password, resource="raw"):
    """A raw direct-TLS stream, authenticated with PLAIN and bound; returns it."""
    raw = RawStream(port, tls=True)
    raw.send(STREAM)
    raw.readUntil("</stream:features>")
    raw.send(plainAuth(username, password))
    assert "<success" in raw.readUntil("success")
    raw.send(STREAM)
    raw.readUntil("</stream:features>")
    raw.send("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             f"<resource>{resource}</resource></bind></iq>")
    assert "</jid>" in raw.readUntil("</iq>")
    return raw


def tls13Connection(port, keylog):
    """
    A TLS 1.3 connection to C{port} whose records the test writes itself:
    (the socket after the handshake, a L{ProtectedChannel} holding the
    client's write keys and the server's read keys, from C{keylog}).
    """
    context = ssl.create_default_context()
    insecureContext(context)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.keylog_filename = keylog
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(outgoing.read())
            incoming.write(sock.recv(65536))
    sock.sendall(outgoing.read())
    with open(keylog) as f:
        secrets = dict(re.findall(r"^(\w+_TRAFFIC_SECRET_0) \w+ (\w+)$", f.read(), re.M))
    channel = ProtectedChannel(tls.cipher()[0], bytes.fromhex(secrets["SERVER_TRAFFIC_SECRET_0"]),
                               bytes.fromhex(secrets["CLIENT_TRAFFIC_SECRET_0"]))
    return sock, channel
