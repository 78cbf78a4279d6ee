"""
PEP (XEP-0163) and entity capabilities (XEP-0115) against clients that
misbehave, on a real jabberd with small limits: publishing to another
account's service, an item past C{[server] max_stanza_size}, thousands of
nodes past C{[pep] max_nodes}, malformed publish-options and configuration
forms, caps whose hash is wrong, and clients that never answer the
server's disco#info.  Each gets a clear error (stanza or stream), the
server's memory stays bounded, and an honest client's ping is answered
within 2 s meanwhile (tests.integration.watch).
"""

import asyncio
import base64
import hashlib
import re
import socket
import time

import pytest

from tests.integration.clients import Client, run
from tests.integration.harness import ServerProcess
from tests.integration.test_caps import capsClient
from tests.integration.test_pep import failure, options, payload, rawIq, subscribeBoth
from tests.integration.watch import PING_LIMIT, rawLogin, rssKB, whilePinging

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_OWNER = NS_PUBSUB + "#owner"
NS_EVENT = NS_PUBSUB + "#event"
NS_CAPS = "http://jabber.org/protocol/caps"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DATA = "jabber:x:data"
MAX_NODES = 50
MAX_QUERIES = 3
CAPS_TIMEOUT = 2
TIMEOUT = 10
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A jabberd with 50 nodes an account, caps queries given up after 2 s and 3 at once."""
    proc = ServerProcess(tmp_path_factory.mktemp("jabberd-pep-abuse"), extra=(
        f"\n[pep]\nmax_nodes = {MAX_NODES}\nmax_item_size = 8192\n"
        f"\n[caps]\ntimeout = {CAPS_TIMEOUT}\nmax_queries = {MAX_QUERIES}\n"))
    proc.start()
    for name in USERS:
        proc.adduser(name, name + "pw")
    yield proc
    proc.stop()


async def login(server, jid, presence=True, plugins=("xep_0060", "xep_0199")):
    name = jid.split("@")[0]
    client = Client(jid, name + "pw", plugins=list(plugins))
    assert await client.login(server.ports["c2s"], presence=presence)
    return client


def rawUser(server, name, resource):
    """A raw direct-TLS stream logged in as C{name}, with a short read timeout."""
    raw = rawLogin(server.ports["c2s-tls"], name, name + "pw", resource)
    raw.sock.settimeout(0.02)
    return raw


def readFor(raw, seconds):
    """Whatever C{raw} gets within C{seconds} (less if the server closes it)."""
    data, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = raw.sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")


def readCount(raw, pattern, count, seconds=60):
    """Read until C{pattern} occurs C{count} times (or C{seconds} pass); all text read."""
    data, deadline = "", time.monotonic() + seconds
    while len(re.findall(pattern, data)) < count and time.monotonic() < deadline:
        data += readFor(raw, 0.5)
    return data


def verString(features):
    """The XEP-0115 section 5.1 verification string of a client identity and C{features}."""
    text = "client/pc//<" + "".join(f + "<" for f in sorted(features))
    return base64.b64encode(hashlib.sha1(text.encode()).digest()).decode()


def capsPresence(node, ver):
    return (f"<presence><c xmlns='{NS_CAPS}' hash='sha-1' node='{node}' ver='{ver}'/>"
            "</presence>")


def assertPingsQuick(times):
    assert times and max(times) < PING_LIMIT, times


def test_publishToAnotherServiceForbidden(server):
    """Publishing, creating, configuring, purging or deleting in another account's PEP service is forbidden and changes nothing."""
    async def body():
        alice = await login(server, "alice@localhost/own")
        bob = await login(server, "bob@localhost/forger")
        await alice["xep_0060"].publish("alice@localhost", "urn:test:mine", id="a1",
                                        payload=payload("mine"), timeout=TIMEOUT)
        forged = [
            ("set", f"<pubsub xmlns='{NS_PUBSUB}'><publish node='urn:test:mine'>"
                    "<item id='a1'><entry xmlns='urn:test:pep'>forged</entry></item>"
                    "</publish></pubsub>"),
            ("set", f"<pubsub xmlns='{NS_PUBSUB}'><create node='urn:test:forged'/></pubsub>"),
            ("set", f"<pubsub xmlns='{NS_PUBSUB}'><retract node='urn:test:mine'>"
                    "<item id='a1'/></retract></pubsub>"),
            ("get", f"<pubsub xmlns='{NS_OWNER}'><configure node='urn:test:mine'/></pubsub>"),
            ("set", f"<pubsub xmlns='{NS_OWNER}'><purge node='urn:test:mine'/></pubsub>"),
            ("set", f"<pubsub xmlns='{NS_OWNER}'><delete node='urn:test:mine'/></pubsub>"),
        ]
        for iqType, xml in forged:
            condition, _ = await failure(rawIq(bob, iqType, xml, to="alice@localhost"))
            assert condition == "forbidden", (xml, condition)
        kept = await alice["xep_0060"].get_item("alice@localhost", "urn:test:mine", "a1",
                                                timeout=TIMEOUT)
        entry = kept.xml.find(f".//{{{NS_PUBSUB}}}item/{{urn:test:pep}}entry")
        assert entry.text == "mine"
        assert await failure(alice["xep_0060"].get_items(
            "alice@localhost", "urn:test:forged", timeout=TIMEOUT)) == ("item-not-found", None)
        await alice.close()
        await bob.close()
    run(body())


def test_giantItemIsAStreamError(server):
    """An item past max_stanza_size ends the sender's stream with policy-violation; nothing is stored and others are served within 2 s."""
    def attack():
        raw = rawUser(server, "carol", "giant")
        before = rssKB(server.process.pid)
        raw.send(f"<iq type='set' id='giant'><pubsub xmlns='{NS_PUBSUB}'>"
                 "<publish node='urn:test:giant'><item id='g'><entry xmlns='urn:test:pep'>")
        try:
            for _ in range(64):  # 4 MB, far past the 64 KB limit
                raw.send("x" * 65536)
        except OSError:
            pass  # the server closed the stream
        answer = readFor(raw, 5)
        raw.close()
        return answer, rssKB(server.process.pid) - before

    async def body():
        alice = await login(server, "alice@localhost/honest")
        (answer, grown), times = await whilePinging(alice, attack)
        carol = await login(server, "carol@localhost/after")
        assert await failure(carol["xep_0060"].get_items(
            "carol@localhost", "urn:test:giant", timeout=TIMEOUT)) == ("item-not-found", None)
        await alice.close()
        await carol.close()
        return answer, grown, times

    answer, grown, times = run(body())
    assert "<policy-violation" in answer, answer[-500:]
    assert "</stream:stream>" in answer
    assert grown < 16 * 1024, grown  # KB: the 4 MB were never buffered
    assertPingsQuick(times)


def test_thousandsOfNodesBounded(server):
    """Two thousand node creations pipelined: max_nodes succeed, the rest get not-allowed/max-nodes-exceeded, pings answered within 2 s."""
    count = 2000

    def attack():
        raw = rawUser(server, "dave", "nodes")
        before = rssKB(server.process.pid)
        batch = "".join(
            f"<iq type='set' id='n{n}'><pubsub xmlns='{NS_PUBSUB}'><publish node='urn:test:n{n}'>"
            f"<item id='i'><entry xmlns='urn:test:pep'>{n}</entry></item></publish></pubsub></iq>"
            for n in range(count))
        raw.send(batch)
        text = readCount(raw, r"<iq [^>]*id=.n\d+", count, seconds=120)
        raw.close()
        return text, rssKB(server.process.pid) - before

    async def body():
        alice = await login(server, "alice@localhost/honest")
        (text, grown), times = await whilePinging(alice, attack)
        dave = await login(server, "dave@localhost/after", plugins=("xep_0060", "xep_0030"))
        listed = await dave["xep_0030"].get_items(jid="dave@localhost", timeout=TIMEOUT)
        nodes = [node for _jid, node, _name in listed["disco_items"]["items"] if node]
        await alice.close()
        await dave.close()
        return text, grown, times, len(nodes)

    text, grown, times, listed = run(body(), timeout=240)
    answers = re.findall(r"<iq [^>]*>.*?</iq>|<iq [^>]*/>", text, re.S)
    results = [a for a in answers if re.search(r"type=.result", a)]
    refused = [a for a in answers if "max-nodes-exceeded" in a and "<not-allowed" in a]
    assert len(results) == MAX_NODES, len(results)
    assert len(refused) == count - MAX_NODES, (len(refused), len(answers))
    assert listed == MAX_NODES
    assert grown < 32 * 1024, grown
    assertPingsQuick(times)


def test_malformedFormsAreBadRequest(server):
    """Publish-options and configuration forms that are not a submitted form of their FORM_TYPE get bad-request; bad values not-acceptable."""
    def form(formType="submit", kind=NS_PUBSUB + "#publish-options", fields=""):
        hidden = (f"<field var='FORM_TYPE' type='hidden'><value>{kind}</value></field>"
                  if kind else "")
        return f"<x xmlns='{NS_DATA}' type='{formType}'>{hidden}{fields}</x>"

    def publish(options):
        return (f"<pubsub xmlns='{NS_PUBSUB}'><publish node='urn:test:forms'><item id='f'>"
                "<entry xmlns='urn:test:pep'/></item></publish>"
                f"<publish-options>{options}</publish-options></pubsub>")

    def configure(body):
        return f"<pubsub xmlns='{NS_OWNER}'><configure node='urn:test:forms'>{body}</configure></pubsub>"

    access = "<field var='pubsub#access_model'><value>{}</value></field>"
    config = NS_PUBSUB + "#node_config"
    cases = [
        (publish(form(formType="form")), ("bad-request", "invalid-options")),
        (publish(form(kind=config)), ("bad-request", "invalid-options")),
        (publish(form(kind=None, fields=access.format("open"))),
         ("bad-request", "invalid-options")),
        (publish("<x xmlns='urn:not:a:form'/>"), ("bad-request", "invalid-options")),
        (publish(form(fields=access.format("bogus"))), ("conflict", "precondition-not-met")),
        (configure(""), ("bad-request", None)),
        (configure(form(formType="form", kind=config)), ("bad-request", "invalid-options")),
        (configure(form(kind=NS_PUBSUB + "#publish-options")), ("bad-request", "invalid-options")),
        (configure(form(kind=config, fields="<field var='pubsub#max_items'><value>many</value>"
                                            "</field>")), ("not-acceptable", "invalid-options")),
        (configure(form(kind=config, fields="<field var='pubsub#persist_items'><value>1</value>"
                                            "<value>0</value></field>")),
         ("not-acceptable", "invalid-options")),
    ]

    async def body():
        erin = await login(server, "erin@localhost/forms")
        await erin["xep_0060"].publish("erin@localhost", "urn:test:forms", id="f",
                                       payload=payload("first"),
                                       options=options(access_model="presence"), timeout=TIMEOUT)
        found = []
        for xml, _ in cases:
            try:
                found.append(await failure(rawIq(erin, "set", xml)))
            except pytest.fail.Exception:  # answered with a result
                found.append(("accepted", xml))
        form = (await erin["xep_0060"].get_node_config("erin@localhost", "urn:test:forms",
                                                       timeout=TIMEOUT))["pubsub_owner"]
        await erin.close()
        return found, form["configure"]["form"].get_values()

    found, values = run(body())
    assert found == [expected for _, expected in cases]
    assert values["pubsub#access_model"] == "presence"  # nothing was changed


def test_wrongCapsHashBringsNoNotifications(server):
    """A contact whose disco#info does not hash to its caps ver gets no notification for the +notify it claimed; an honest contact does."""
    node = "urn:test:liar-bait"
    feature = node + "+notify"

    async def body():
        frank = await login(server, "frank@localhost/publisher")
        grace = await login(server, "grace@localhost/setup")
        bob = await login(server, "bob@localhost/setup")
        await subscribeBoth(frank, grace)
        await subscribeBoth(frank, bob)
        await grace.close()
        await bob.close()
        honest = await login(server, "bob@localhost/honest",
                             plugins=("xep_0060", "xep_0115"), presence=False)
        honest["xep_0030"].add_feature(feature)
        await honest["xep_0115"].update_caps(broadcast=False)
        honest.send_presence()
        await honest.nextPresence(lambda p: p["from"] == honest.boundjid)

        liar = rawUser(server, "grace", "liar")
        features = [NS_DISCO_INFO, feature]
        ver = verString([NS_DISCO_INFO])  # the hash of other features than it answers
        liar.send(capsPresence("urn:test:liar", ver))
        text = readCount(liar, f"urn:test:liar#{re.escape(ver)}", 1, seconds=TIMEOUT)
        ident = re.search(r"<iq [^>]*id=.([^'\"]+)[^>]*type=.get|<iq [^>]*type=.get[^>]*id=.([^'\"]+)",
                          text)
        ident = ident.group(1) or ident.group(2)
        liar.send(f"<iq type='result' id='{ident}' to='localhost'>"
                  f"<query xmlns='{NS_DISCO_INFO}' node='urn:test:liar#{ver}'>"
                  "<identity category='client' type='pc'/>"
                  + "".join(f"<feature var='{f}'/>" for f in features) + "</query></iq>")
        await asyncio.sleep(0.5)
        await frank["xep_0060"].publish("frank@localhost", node, id="bait",
                                        payload=payload("bait"), timeout=TIMEOUT)
        message = await honest.nextMessage(
            lambda m: m.xml.find(f"{{{NS_EVENT}}}event/{{{NS_EVENT}}}items[@node='{node}']")
            is not None)
        # The notifications of one publish go out together: once the honest
        # contact has its own and the liar's ping is answered, the liar's
        # would have come before that answer.
        liar.send("<iq type='get' id='after' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        seen = readCount(liar, "id=.after", 1, seconds=TIMEOUT)
        liar.close()
        await frank.close()
        await honest.close()
        return message, seen

    message, seen = run(body())
    assert message["from"] == "frank@localhost"
    assert "id='after'" in seen or 'id="after"' in seen
    assert NS_EVENT not in seen and "bait" not in seen, seen
    assert "not trusted" in server.logText(400000)


def test_silentClientsBounded(server):
    """Clients that never answer disco#info: at most max_queries asked at once and as many waiting, each given up after the timeout, none beyond asked; then an honest ver is asked at once and pings stay under 2 s."""
    silentCount = 8

    def attack():
        before = rssKB(server.process.pid)
        streams = [rawUser(server, "alice", f"silent{n}") for n in range(silentCount)]
        started = time.monotonic()
        for n, raw in enumerate(streams):
            raw.send(capsPresence("urn:test:silent", verString([f"urn:test:silent:{n}"])))
        # When each stream was asked, polled until two timeouts have passed.
        asked = {}
        while time.monotonic() - started < 2 * CAPS_TIMEOUT + 1.5:
            for n, raw in enumerate(streams):
                if "urn:test:silent#" in readFor(raw, 0.01):
                    asked.setdefault(n, []).append(time.monotonic() - started)
        return streams, asked, rssKB(server.process.pid) - before

    async def body():
        alice = await login(server, "alice@localhost/honest", plugins=("xep_0199",))
        (streams, asked, grown), times = await whilePinging(alice, attack)
        # Every slot is free again: a new ver is asked at once (before the
        # client's own presence comes back to it).
        honest = await capsClient(server, "erin@localhost/after", "urn:test:after-silence+notify")
        for raw in streams:
            raw.close()
        await alice.close()
        await honest.close()
        return asked, grown, times, honest.capsQueries

    asked, grown, times, honestQueries = run(body(), timeout=120)
    # Each stream asked once at most; max_queries at first and as many
    # more when those timed out; the rest never.
    assert all(len(when) == 1 for when in asked.values()), asked
    moments = sorted(when[0] for when in asked.values())
    assert len(moments) == 2 * MAX_QUERIES, asked
    assert moments[MAX_QUERIES] - moments[MAX_QUERIES - 1] > CAPS_TIMEOUT / 2, moments
    assert "max_queries" in server.logText(400000)  # those beyond were refused, logged
    assert len(honestQueries) == 1, honestQueries
    assert grown < 16 * 1024, grown
    assertPingsQuick(times)
