"""
Hardening of authentication (issue 14, items 5 and 11) against the real
server: PBKDF2 off the reactor thread (many wrong PLAIN passwords at once
while an honest client's ping is answered within 2 s), failures throttled
per address and account across reconnects and logged for fail2ban, and
answers that do not tell existing accounts from missing ones (SCRAM
stand-in salts stable across restarts, XEP-0078 fields, roster errors).
"""

import base64
import os
import re
import time
import xml.etree.ElementTree as ET

import pytest
from slixmpp.exceptions import IqError

from tests.integration.clients import Client, RawStream, run
from tests.integration.watch import (NS_SASL, PING_LIMIT, STREAM, pingedThroughout, plainAuth,
                                     startServer, whilePinging)

LEGACY_STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>")


@pytest.fixture(scope="module")
def costly(tmp_path_factory):
    """A server with expensive PBKDF2 (300,000 iterations) and no throttling."""
    proc = startServer(tmp_path_factory, users=("alice", "bob"), c2s={"scram_iterations": 300000,
                                              "auth_fail_free": 100000})
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """A server that delays from the third failure on: 1 s, then 2 s, ..."""
    proc = startServer(tmp_path_factory, users=("alice", "bob", "carol"),
                       c2s={"auth_fail_free": 2, "auth_fail_delay": 1, "auth_fail_max_delay": 8})
    yield proc
    proc.stop()


def openForAuth(port):
    raw = RawStream(port, tls=True)
    raw.send(STREAM)
    raw.readUntil("</stream:features>")
    return raw


def guessAll(port, count, username):
    """Open C{count} streams, send a wrong PLAIN password on all at once, collect the answers."""
    streams = [openForAuth(port) for _ in range(count)]
    for raw in streams:
        raw.send(plainAuth(username, "guess"))
    answers = [raw.readUntil("</failure>") for raw in streams]
    for raw in streams:
        raw.close()
    return answers


def test_concurrentWrongPasswordsDoNotStallTheReactor(costly):
    """40 wrong PLAIN passwords at once (about 3 s of PBKDF2) are all refused while pings are answered within 2 s."""
    async def main():
        client = Client("bob@localhost/ping", "bobpw")
        assert await client.login(costly.ports["c2s"])
        answers, pings = await whilePinging(client, guessAll, costly.ports["c2s-tls"], 40, "alice")
        assert all("<not-authorized" in a for a in answers), answers[:3]
        assert pings and max(pings) < PING_LIMIT
        await client.close()
    run(main())


def attempt(server, username, password):
    """One PLAIN attempt on a new connection: (answer, seconds it took)."""
    raw = openForAuth(server.ports["c2s-tls"])
    started = time.monotonic()
    raw.send(plainAuth(username, password))
    answer = raw.readUntil("</failure>" if password != username + "pw" else "<success")
    took = time.monotonic() - started
    raw.close()
    return answer, took


def test_failuresAcrossReconnectsAreDelayedAndLogged(strict):
    """Reconnecting does not reset the count: the third failure waits 1 s, the fourth 2 s; each is logged with account and address; pings are answered meanwhile."""
    def guesses():
        return [attempt(strict, "carol", guess) for guess in ("one", "two", "three", "four")]
    answers = pingedThroughout(strict, guesses)
    assert all("<not-authorized" in answer for answer, _ in answers)
    assert answers[2][1] >= 0.9 and answers[3][1] >= 1.9
    log = strict.logText(limit=None)
    assert len(re.findall(r"authentication failure for account=carol ip=127\.0\.0\.1", log)) == 4
    time.sleep(2)  # the delay earned by the last failure
    answer, _ = attempt(strict, "carol", "carolpw")
    assert "<success" in answer


def scramSalt(port, username):
    """The salt of the server-first-message for C{username} (RFC 5802 section 5.1)."""
    raw = openForAuth(port)
    first = base64.b64encode(f"n,,n={username},r=clientnonce".encode()).decode()
    raw.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256'>{first}</auth>")
    challenge = re.search(r"<challenge[^>]*>([^<]+)</challenge>", raw.readUntil("</challenge>"))
    raw.close()
    fields = dict(part.split("=", 1) for part in base64.b64decode(challenge.group(1)).decode().split(","))
    return fields["s"], int(fields["i"])


def test_standInSaltsStableAcrossRestart(strict):
    """A missing account gets the same salt on every attempt and after a restart, like a real one."""
    port = strict.ports["c2s-tls"]
    salt, iterations = scramSalt(port, "nobody")
    assert scramSalt(port, "nobody") == (salt, iterations)
    assert scramSalt(port, "somebodyelse")[0] != salt
    realSalt, realIterations = scramSalt(port, "alice")
    assert len(base64.b64decode(salt)) == len(base64.b64decode(realSalt))
    assert iterations == realIterations
    assert os.path.exists(os.path.join(strict.datadir, "server-secret"))
    strict.stop()
    strict.start()
    assert scramSalt(strict.ports["c2s-tls"], "nobody") == (salt, iterations)
    assert scramSalt(strict.ports["c2s-tls"], "alice") == (realSalt, realIterations)


def legacyFields(port, username):
    raw = RawStream(port, tls=True)
    raw.send(LEGACY_STREAM)
    raw.readUntil("version" if False else "'>")
    raw.send(f"<iq type='get' id='a1'><query xmlns='jabber:iq:auth'><username>{username}"
             "</username></query></iq>")
    reply = raw.readUntil("</iq>")
    raw.close()
    query = re.search(r"<query.*</query>", reply).group()
    return query.replace(username, "NAME")


def test_legacyAuthFieldsSameForMissingAccount(strict):
    """XEP-0078 get: an existing and a missing account get the same fields."""
    port = strict.ports["c2s-tls"]
    fields = legacyFields(port, "alice")
    assert "<password" in fields and "<resource" in fields
    assert legacyFields(port, "nobody") == fields


def test_rosterOfOthersSameAnswerForMissingAccount(strict):
    """A roster get to another user's bare JID gets the error a missing account gets."""
    async def main():
        bob = Client("bob@localhost/r", "bobpw")
        assert await bob.login(strict.ports["c2s"])
        conditions = []
        for target in ("alice@localhost", "nobody@localhost"):
            iq = bob.make_iq_get(ito=target)
            iq.append(ET.fromstring("<query xmlns='jabber:iq:roster'/>"))
            with pytest.raises(IqError) as caught:
                await iq.send(timeout=10)
            conditions.append(caught.value.iq["error"]["condition"])
        assert conditions == ["service-unavailable", "service-unavailable"]
        await bob.close()
    run(main())


async def _condition(request):
    """The error condition an iq request gets, or 'result'."""
    try:
        await request
        return "result"
    except IqError as e:
        return e.iq["error"]["condition"]


def test_strangersLearnNothingOfAccounts(strict):
    """Last activity, ping, vCard, disco#info and browse to an existing and a missing account answer a stranger alike; pings stay fast."""
    async def main():
        bob = Client("bob@localhost/probe", "bobpw", plugins=("xep_0012", "xep_0054"))
        honest = Client("carol@localhost/ping", "carolpw")
        assert await bob.login(strict.ports["c2s"]) and await honest.login(strict.ports["c2s"])

        async def answers(target):
            browse = bob.make_iq_get(ito=target)
            browse.append(ET.fromstring("<query xmlns='jabber:iq:browse'/>"))
            return [await _condition(bob["xep_0012"].get_last_activity(target, timeout=10)),
                    await _condition(bob["xep_0199"].send_ping(target, timeout=10)),
                    await _condition(bob["xep_0054"].get_vcard(target, timeout=10)),
                    await _condition(bob["xep_0030"].get_info(jid=target, timeout=10)),
                    await _condition(browse.send(timeout=10))]
        existing = await answers("alice@localhost")
        missing = await answers("nobody@localhost")
        assert existing == missing == ["service-unavailable"] * 5
        started = time.monotonic()
        await honest["xep_0199"].ping(jid="localhost", timeout=10)
        assert time.monotonic() - started < PING_LIMIT
        await bob.close()
        await honest.close()
    run(main())
