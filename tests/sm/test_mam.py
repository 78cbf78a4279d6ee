"""
Tests for L{jabberd.sm.mam}: archiving on both directions with XEP-0359
stanza-ids, preferences, queries with forms and RSM, retention; on the
session manager harness with MemoryStorage.
"""

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from jabberd.config import parse as parseConfig
from jabberd.handler import Handler, Stage
from jabberd.ns import NS_DATA, NS_DISCO_INFO, NS_FORWARD, NS_MAM, NS_RSM, NS_SID
from jabberd.sm.disco import DiscoHandler
from jabberd.sm.archiveids import ArchiveIds
from jabberd.sm.mam import ArchiveHandler, SentIdFilter, formatStamp, parseStamp
from jabberd.storage.memory import MemoryStorage
from jabberd.storage.records import ArchivePreferences
from jabberd.stanza import firstChild
from tests.sm.helpers import ALICE, BOB, Harness, assertNoFailures, errorCondition, result


def makeHarness(storage=None, prefs=None, **kwargs):
    """C{prefs}: owner -> L{ArchivePreferences} stored by an earlier run."""
    h = Harness(storage=storage)
    for owner, stored in (prefs or {}).items():
        result(h.storage.archive.setPreferences(owner, stored))
    h.mam = h.sm.addHandler(ArchiveHandler(**kwargs))
    h.sm.addHandler(SentIdFilter())
    h.sm.addHandler(DiscoHandler())
    return h


def archived(h, owner):
    page = result(h.storage.archive.query(owner))
    return page.items


def stanzaIds(stanza):
    return [(e.getAttribute("by"), e.getAttribute("id")) for e in stanza.elements(NS_SID,
                                                                                   "stanza-id")]


def chat(h, session, to=BOB, body="hi", kind="chat", extra=""):
    h.send(session, f"<message to='{to}' type='{kind}' id='m1'><body>{body}</body>{extra}"
                    "</message>")


def iq(h, session, payload, kind="set", to=None):
    target = f" to='{to}'" if to else ""
    h.take(session)  # forget what came before (bounces to a user without sessions)
    h.send(session, f"<iq type='{kind}' id='q1'{target}>{payload}</iq>")
    return h.take(session)


def query(h, session, form="", rsm="", extra="", queryid="qid"):
    received = iq(h, session, f"<query xmlns='{NS_MAM}' queryid='{queryid}'>{form}{rsm}{extra}"
                              "</query>")
    *messages, answer = received
    return messages, answer


def formOf(**fields):
    inner = f"<field var='FORM_TYPE' type='hidden'><value>{NS_MAM}</value></field>"
    for var, value in fields.items():
        values = value if isinstance(value, list) else [value]
        inner += f"<field var='{var.rstrip('_').replace('_', '-')}'>" + "".join(
            f"<value>{v}</value>" for v in values) + "</field>"
    return f"<x xmlns='{NS_DATA}' type='submit'>{inner}</x>"


def bodies(messages):
    out = []
    for m in messages:
        forwarded = firstChild(firstChild(m, NS_MAM, "result"), NS_FORWARD, "forwarded")
        inner = [e for e in forwarded.elements() if e.name == "message"][0]
        out.append(str(firstChild(inner, None, "body")))
    return out


def resultIds(messages):
    return [firstChild(m, NS_MAM, "result")["id"] for m in messages]


def test_chatArchivedForBothWithStanzaId():
    """A chat between local users is archived once for each; bob's copy carries his id."""
    h = makeHarness()
    alice, bob = h.login("alice"), h.login("bob")
    chat(h, alice)
    [delivered] = h.take(bob)
    [(by, sid)] = stanzaIds(delivered)  # alice's archive id is not bob's business
    [inBob] = archived(h, BOB)
    [inAlice] = archived(h, ALICE)
    assert by == BOB and inBob.id == sid
    assert inBob.direction == "in" and inBob.peer == "alice@localhost/res"
    assert inAlice.direction == "out" and inAlice.peer == BOB and inAlice.messageId == "m1"


class CopyWatcher(Handler):
    """A copies-stage handler recording the stanza-ids a sent message has when it sees it."""

    stage = Stage.COPIES

    def __init__(self):
        self.seen = []

    def onOutbound(self, session, stanza):
        if stanza.name == "message":
            self.seen.append(stanzaIds(stanza))
        return False


def test_sentIdForCopiesOnlyNotForTheContact():
    """A sent message has the sender's id at the copies stage, but leaves without it."""
    h = makeHarness()
    watcher = h.sm.addHandler(CopyWatcher())
    alice = h.login("alice")
    chat(h, alice, to="carol@remote.example")
    [routed] = h.routed()
    assert watcher.seen == [[(ALICE, archived(h, ALICE)[0].id)]]
    assert stanzaIds(routed) == []


def test_forgedStanzaIdRemoved():
    """A stanza-id claiming the recipient's archive from outside is removed; others stay."""
    h = makeHarness()
    bob = h.login("bob")
    h.inbound(f"<message from='carol@remote.example/x' to='{BOB}' type='chat'><body>x</body>"
              f"<stanza-id xmlns='{NS_SID}' by='{BOB}' id='forged'/>"
              f"<stanza-id xmlns='{NS_SID}' by='remote.example' id='theirs'/></message>")
    [delivered] = h.take(bob)
    ids = stanzaIds(delivered)
    assert ("remote.example", "theirs") in ids
    assert [s for s in ids if s[0] == BOB] == [(BOB, archived(h, BOB)[0].id)]


def test_forgedStanzaIdFromOwnClientRemoved():
    """A client cannot claim its own archive's ids: its stanza-id by itself is dropped."""
    h = makeHarness()
    alice, bob = h.login("alice"), h.login("bob")
    chat(h, alice, extra=f"<stanza-id xmlns='{NS_SID}' by='{ALICE}' id='forged'/>")
    [delivered] = h.take(bob)
    assert (ALICE, "forged") not in stanzaIds(delivered)


def test_notArchivedKinds():
    """Headlines, groupchat, errors and body-less chats (chat states) are not archived."""
    h = makeHarness()
    alice = h.login("alice")
    h.login("bob")
    for kind in ("headline", "groupchat", "error"):
        chat(h, alice, kind=kind)
    h.send(alice, f"<message to='{BOB}' type='chat'><active xmlns='http://jabber.org/protocol"
                  "/chatstates'/></message>")
    assert archived(h, ALICE) == [] and archived(h, BOB) == []


def test_normalWithBodyArchived():
    """A message without a type (normal) with a body is archived."""
    h = makeHarness()
    alice = h.login("alice")
    h.send(alice, f"<message to='{BOB}'><body>plain</body></message>")
    assert len(archived(h, ALICE)) == 1 and len(archived(h, BOB)) == 1


def test_offlineRecipientArchived():
    """A message to a user with no session is archived in the recipient's archive too."""
    h = makeHarness()
    alice = h.login("alice")
    chat(h, alice, body="while away")
    assert [m.direction for m in archived(h, BOB)] == ["in"]


def test_unknownAccountNotArchived():
    """A message to an account that does not exist creates no archive."""
    h = makeHarness()
    alice = h.login("alice")
    chat(h, alice, to="nobody@localhost")
    assert archived(h, "nobody@localhost") == []
    assert len(archived(h, ALICE)) == 1


def test_messageToSelfArchivedOnce():
    """A message to one's own bare JID is archived once, and keeps its stanza-id."""
    h = makeHarness()
    alice = h.login("alice")
    chat(h, alice, to=ALICE)
    [stored] = archived(h, ALICE)
    [delivered] = h.take(alice)
    assert stanzaIds(delivered) == [(ALICE, stored.id)]


def test_preferencesNever():
    """With default never, nothing is archived; an always JID still is."""
    h = makeHarness(prefs={BOB: ArchivePreferences(default="never",
                                                   always=["carol@remote.example"])})
    bob = h.login("bob")
    h.inbound(f"<message from='dave@remote.example/x' to='{BOB}' type='chat'><body>a</body>"
              "</message>")
    h.inbound(f"<message from='carol@remote.example/x' to='{BOB}' type='chat'><body>b</body>"
              "</message>")
    assert [m.peer for m in archived(h, BOB)] == ["carol@remote.example/x"]
    assert [stanzaIds(m) for m in h.take(bob)][0] == []


def test_preferencesRoster():
    """With default roster, only contacts in the roster are archived; never wins over it."""
    h = makeHarness(default="roster", prefs={
        BOB: ArchivePreferences(default="roster", never=["erin@remote.example"])})
    h.setItem("bob", "carol@remote.example", "both")
    h.setItem("bob", "erin@remote.example", "both")
    h.login("bob")
    for sender in ("dave", "carol", "erin"):
        h.inbound(f"<message from='{sender}@remote.example/x' to='{BOB}' type='chat'>"
                  "<body>a</body></message>")
    assert [m.peer for m in archived(h, BOB)] == ["carol@remote.example/x"]


def test_configDefaultNever():
    """The server default applies to users without preferences."""
    h = makeHarness(default="never")
    alice = h.login("alice")
    chat(h, alice)
    assert archived(h, ALICE) == [] and archived(h, BOB) == []


class SlowPrefsStorage(MemoryStorage):
    """Preferences reads answer only on L{flush} (only users who set some are read)."""

    def __init__(self):
        MemoryStorage.__init__(self)
        self.queue = []
        real = self.archive.getPreferences

        def getPreferences(owner):
            d = defer.Deferred()
            self.queue.append((d, result(real(owner))))
            return d
        self.archive.getPreferences = getPreferences

    def flush(self):
        while self.queue:
            d, value = self.queue.pop(0)
            d.callback(value)


def test_heldUntilPreferencesKnownInOrder():
    """Messages for an owner whose preferences are being read wait, then arrive in order."""
    storage = SlowPrefsStorage()
    h = makeHarness(storage=storage, prefs={BOB: ArchivePreferences(default="always")})
    bob = h.login("bob")
    storage.flush()
    h.sm.unbindSession(bob)
    bob = h.login("bob")  # preferences being read again
    for body in ("one", "two", "three"):
        h.inbound(f"<message from='carol@remote.example/x' to='{BOB}' type='chat'>"
                  f"<body>{body}</body></message>")
    assert h.take(bob) == []
    storage.flush()
    delivered = h.take(bob)
    assert [str(firstChild(m, None, "body")) for m in delivered] == ["one", "two", "three"]
    assert [s[0][1] for s in map(stanzaIds, delivered)] == [m.id for m in archived(h, BOB)]


def test_longHeldQueueResumesWithoutRecursion():
    """Thousands of messages held for one owner all resume, in order, once decided."""
    storage = SlowPrefsStorage()
    h = makeHarness(storage=storage, prefs={BOB: ArchivePreferences(default="always")})
    bob = h.login("bob")
    for n in range(3000):
        h.inbound(f"<message from='carol@remote.example/x' to='{BOB}' type='chat'>"
                  f"<body>{n}</body></message>")
    storage.flush()
    delivered = h.take(bob)
    assert [str(firstChild(m, None, "body")) for m in delivered] == [str(n) for n in range(3000)]
    assert h.mam._waiting == {}


class SlowAppendStorage(MemoryStorage):
    """Archive writes finish only on L{flush}; L{batches} has the size of each write."""

    def __init__(self):
        MemoryStorage.__init__(self)
        self.queue = []
        self.batches = []
        real = self.archive.appendMany

        def appendMany(entries):
            self.batches.append(len(entries))
            d = defer.Deferred()
            self.queue.append((d, lambda: result(real(entries))))
            return d
        self.archive.appendMany = appendMany

    def flush(self):
        while self.queue:
            d, write = self.queue.pop(0)
            d.callback(write())


def test_deliveryDoesNotWaitForTheWriteButQueriesDo():
    """The message is delivered before its write finishes; a query waits for that write."""
    storage = SlowAppendStorage()
    h = makeHarness(storage=storage)
    alice, bob = h.login("alice"), h.login("bob")
    chat(h, alice, body="fast")
    [delivered] = h.take(bob)
    [(_, sid)] = stanzaIds(delivered)
    h.send(bob, f"<iq type='set' id='q1'><query xmlns='{NS_MAM}'/></iq>")
    assert h.take(bob) == []
    storage.flush()
    *messages, answer = h.take(bob)
    assert resultIds(messages) == [sid] and answer["type"] == "result"
    assert h.mam._writer._writing is None and h.mam._writer._pending is None


def test_groupCommit():
    """One write is under way at a time; what is archived meanwhile goes in the next, in order."""
    storage = SlowAppendStorage()
    h = makeHarness(storage=storage)
    alice = h.login("alice")
    h.login("bob")
    chat(h, alice, body="one")
    chat(h, alice, body="two")
    assert storage.batches == [1]  # alice's "one"; the rest waits for it
    storage.flush()
    assert storage.batches == [1, 3]
    assert [("one" in m.xml, "two" in m.xml) for m in archived(h, BOB)] == [(True, False),
                                                                          (False, True)]
    assert h.mam._writer._writing is None and h.mam._writer._pending is None


def test_failedWriteLoggedAndNextGoesOn():
    """A failed archive write is logged; delivery, later writes and queries go on."""
    h = makeHarness()
    alice, bob = h.login("alice"), h.login("bob")
    real = h.storage.archive.appendMany
    h.storage.archive.appendMany = lambda entries: defer.fail(RuntimeError("disk full"))
    chat(h, alice, body="lost")
    with pytest.raises(RuntimeError):
        assertNoFailures()
    h.storage.archive.appendMany = real
    chat(h, alice, body="kept")
    assert [str(firstChild(m, None, "body")) for m in h.take(bob)] == ["lost", "kept"]
    messages, answer = query(h, bob)
    assert bodies(messages) == ["kept"] and answer["type"] == "result"


def test_queryAllInOrder():
    """A query returns the archived messages, oldest first, with ids, then a complete fin."""
    h = makeHarness()
    alice = h.login("alice")
    for body in ("one", "two", "three"):
        chat(h, alice, body=body)
    messages, answer = query(h, alice)
    assert bodies(messages) == ["one", "two", "three"]
    assert resultIds(messages) == [m.id for m in archived(h, ALICE)]
    assert all(firstChild(m, NS_MAM, "result")["queryid"] == "qid" for m in messages)
    assert all(m["from"] == ALICE and m["to"] == "alice@localhost/res" for m in messages)
    fin = firstChild(answer, NS_MAM, "fin")
    assert answer["type"] == "result" and fin["complete"] == "true"
    rsm = firstChild(fin, NS_RSM, "set")
    assert str(firstChild(rsm, NS_RSM, "count")) == "3"


def test_pagingWithMax():
    """max pages forwards with after; the last page is complete."""
    h = makeHarness()
    alice = h.login("alice")
    for n in range(5):
        chat(h, alice, body=f"m{n}")
    messages, answer = query(h, alice, rsm=f"<set xmlns='{NS_RSM}'><max>2</max></set>")
    assert bodies(messages) == ["m0", "m1"]
    fin = firstChild(answer, NS_MAM, "fin")
    assert fin.getAttribute("complete") is None
    last = str(firstChild(firstChild(fin, NS_RSM, "set"), NS_RSM, "last"))
    messages, answer = query(h, alice, rsm=f"<set xmlns='{NS_RSM}'><max>3</max>"
                                           f"<after>{last}</after></set>")
    assert bodies(messages) == ["m2", "m3", "m4"]
    assert firstChild(answer, NS_MAM, "fin")["complete"] == "true"


def test_lastPageAndFlip():
    """An empty before gives the last page; flip-page reverses it."""
    h = makeHarness()
    alice = h.login("alice")
    for n in range(4):
        chat(h, alice, body=f"m{n}")
    rsm = f"<set xmlns='{NS_RSM}'><max>2</max><before/></set>"
    messages, _ = query(h, alice, rsm=rsm)
    assert bodies(messages) == ["m2", "m3"]
    messages, _ = query(h, alice, rsm=rsm, extra="<flip-page/>")
    assert bodies(messages) == ["m3", "m2"]


def test_maxCappedByConfig():
    """A max above [archive] max_page gets max_page messages."""
    h = makeHarness(maxPage=2)
    alice = h.login("alice")
    for n in range(4):
        chat(h, alice, body=f"m{n}")
    messages, _ = query(h, alice, rsm=f"<set xmlns='{NS_RSM}'><max>50</max></set>")
    assert len(messages) == 2
    messages, _ = query(h, alice)
    assert len(messages) == 2


def test_withFilterAndIds():
    """The with field keeps one peer's messages; ids keeps the named ones."""
    h = makeHarness(maxPage=10)
    h.storage.accounts.create("carol", {})
    alice = h.login("alice")
    chat(h, alice, body="to bob")
    chat(h, alice, to="carol@localhost", body="to carol")
    chat(h, alice, body="bob again")
    messages, _ = query(h, alice, form=formOf(with_=BOB))
    assert bodies(messages) == ["to bob", "bob again"]
    wanted = archived(h, ALICE)[1].id
    messages, _ = query(h, alice, form=formOf(ids=[wanted]))
    assert bodies(messages) == ["to carol"]
    first = archived(h, ALICE)[0].id
    messages, _ = query(h, alice, form=formOf(after_id=first))
    assert bodies(messages) == ["to carol", "bob again"]


def test_startEndFilter():
    """start and end (XEP-0082) bound the messages by their archive time."""
    h = makeHarness()
    alice = h.login("alice")
    chat(h, alice, body="kept")
    stamp = archived(h, ALICE)[0].stamp
    messages, _ = query(h, alice, form=formOf(start=formatStamp(stamp - 10),
                                              end=formatStamp(stamp + 10)))
    assert bodies(messages) == ["kept"]
    messages, _ = query(h, alice, form=formOf(start=formatStamp(stamp + 10)))
    assert messages == []


@pytest.mark.parametrize("inner, condition", [
    (formOf(start="yesterday"), "bad-request"),
    (formOf(with_="@@bad"), "bad-request"),
    (formOf(unknown="x"), "feature-not-implemented"),
    (formOf(ids=["x"] * 11), "policy-violation"),
    (formOf(ids=["nosuchid"]), "item-not-found"),
    (f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'><value>urn:other</value>"
     "</field></x>", "bad-request"),
    (f"<set xmlns='{NS_RSM}'><max>lots</max></set>", "bad-request"),
    (f"<set xmlns='{NS_RSM}'><after>a</after><before>b</before></set>", "bad-request"),
    (f"<set xmlns='{NS_RSM}'><index>3</index></set>", "feature-not-implemented"),
    (f"<set xmlns='{NS_RSM}'><after>nosuchid</after></set>", "item-not-found"),
    (formOf(before_id="nosuchid"), "item-not-found"),
])
def test_badQueries(inner, condition):
    """Bad values get bad-request, unknown fields and index are unimplemented, unknown ids not found."""
    h = makeHarness(maxPage=10)
    alice = h.login("alice")
    chat(h, alice)
    [answer] = iq(h, alice, f"<query xmlns='{NS_MAM}'>{inner}</query>")
    assert answer["type"] == "error" and errorCondition(answer) == condition


def test_otherUsersArchiveForbidden():
    """Querying someone else's archive, or the server's, is forbidden."""
    h = makeHarness()
    alice = h.login("alice")
    for to in (BOB, "localhost"):
        [answer] = iq(h, alice, f"<query xmlns='{NS_MAM}'/>", to=to)
        assert errorCondition(answer) == "forbidden"


def test_formDiscovery():
    """An iq get of the query returns the search form with its fields."""
    h = makeHarness()
    alice = h.login("alice")
    [answer] = iq(h, alice, f"<query xmlns='{NS_MAM}'/>", kind="get")
    form = firstChild(firstChild(answer, NS_MAM, "query"), NS_DATA, "x")
    fields = {f["var"]: f for f in form.elements(NS_DATA, "field")}
    assert list(fields) == ["FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"]
    assert fields["ids"]["type"] == "list-multi"
    validate = firstChild(fields["ids"], "http://jabber.org/protocol/xdata-validate", "validate")
    assert firstChild(validate, None, "open") is not None


def test_metadata():
    """Archive metadata names the first and last message; an empty archive has neither."""
    h = makeHarness()
    alice = h.login("alice")
    [answer] = iq(h, alice, f"<metadata xmlns='{NS_MAM}'/>", kind="get")
    assert list(firstChild(answer, NS_MAM, "metadata").elements()) == []
    chat(h, alice, body="one")
    chat(h, alice, body="two")
    [answer] = iq(h, alice, f"<metadata xmlns='{NS_MAM}'/>", kind="get")
    metadata = firstChild(answer, NS_MAM, "metadata")
    first, last = archived(h, ALICE)
    start, end = firstChild(metadata, NS_MAM, "start"), firstChild(metadata, NS_MAM, "end")
    assert (start["id"], end["id"]) == (first.id, last.id)
    assert parseStamp(start["timestamp"]) == pytest.approx(first.stamp, abs=0.001)


def test_preferencesGetAndSet():
    """Preferences are the server default until set; a set is stored and answered."""
    h = makeHarness(default="roster")
    alice = h.login("alice")
    [answer] = iq(h, alice, f"<prefs xmlns='{NS_MAM}'/>", kind="get")
    assert firstChild(answer, NS_MAM, "prefs")["default"] == "roster"
    [answer] = iq(h, alice, f"<prefs xmlns='{NS_MAM}' default='never'><always><jid>"
                            f"{BOB}/phone</jid></always><never/></prefs>")
    prefs = firstChild(answer, NS_MAM, "prefs")
    assert prefs["default"] == "never"
    assert [str(j) for j in firstChild(prefs, NS_MAM, "always").elements()] == [BOB]
    stored = result(h.storage.archive.getPreferences(ALICE))
    assert stored.default == "never" and stored.always == [BOB]
    h.setItem("alice", "carol@remote.example", "both")
    h.inbound(f"<message from='carol@remote.example/x' to='{ALICE}' type='chat'><body>x"
              "</body></message>")
    assert archived(h, ALICE) == []  # the new preferences apply at once


def test_badPreferences():
    """A default other than always, never or roster gets bad-request."""
    h = makeHarness()
    alice = h.login("alice")
    [answer] = iq(h, alice, f"<prefs xmlns='{NS_MAM}' default='sometimes'/>")
    assert errorCondition(answer) == "bad-request"


def test_expireAfter():
    """The sweep deletes messages older than expire_after."""
    clock = Clock()
    h = makeHarness(expireAfter=60, sweepInterval=30, clock=clock)
    alice = h.login("alice")
    chat(h, alice)
    for owner in (ALICE, BOB):
        for message in h.storage.archive.archives[owner]:
            message.stamp -= 120
    clock.advance(30)
    assert archived(h, ALICE) == [] and archived(h, BOB) == []


def test_maxPerUser():
    """The sweep keeps only the newest max_per_user messages of each owner."""
    clock = Clock()
    h = makeHarness(maxPerUser=2, sweepInterval=30, clock=clock)
    alice = h.login("alice")
    for n in range(5):
        chat(h, alice, body=f"m{n}")
    clock.advance(30)
    assert [m.xml.count("m3") + m.xml.count("m4") for m in archived(h, ALICE)] == [1, 1]
    assert len(archived(h, BOB)) == 2


def test_userDeletedRemovesArchive():
    """Deleting an account removes its archive and preferences."""
    h = makeHarness()
    alice = h.login("alice")
    chat(h, alice)
    result(h.storage.archive.setPreferences(ALICE, ArchivePreferences(default="never")))
    h.sm.userDeleted("alice")
    assert archived(h, ALICE) == []
    assert result(h.storage.archive.getPreferences(ALICE)) is None
    assert len(archived(h, BOB)) == 1


def test_discoFeatures():
    """The account's disco#info lists MAM, its extended features and stanza-ids."""
    h = makeHarness()
    alice = h.login("alice")
    [answer] = iq(h, alice, f"<query xmlns='{NS_DISCO_INFO}'/>",
                  kind="get", to=ALICE)
    features = [f["var"] for f in firstChild(answer).elements(NS_DISCO_INFO, "feature")]
    assert {NS_MAM, NS_MAM + "#extended", NS_SID} <= set(features)


def test_stamps():
    """XEP-0082 DateTimes parse with zones and fractions, and format back."""
    assert parseStamp("1970-01-01T00:01:00Z") == 60
    assert parseStamp("1970-01-01T01:01:00+01:00") == 60
    assert parseStamp("1970-01-01T00:00:30.5-00:00") == 30.5
    assert formatStamp(60.25) == "1970-01-01T00:01:00.250Z"
    for bad in ("1970-13-01T00:00:00Z", "tomorrow", "1970-01-01"):
        with pytest.raises(ValueError):
            parseStamp(bad)


def test_fromConfig():
    """The [archive] section sets the handler's defaults and limits."""
    config = parseConfig("[archive]\ndefault = roster\nmax_page = 7\nexpire_after = 2d\n"
                         "max_per_user = 9\n")
    handler = ArchiveHandler.fromConfig(config, clock=Clock())
    assert (handler.default, handler.maxPage, handler.expireAfter, handler.maxPerUser) == \
        ("roster", 7, 172800, 9)


@pytest.mark.parametrize("line", ["default = sometimes", "expire_after = soon",
                                  "max_page = -1", "max_per_user = lots"])
def test_badConfigRefused(line):
    """A bad [archive] value is a ConfigError at start-up."""
    from jabberd.config import ConfigError
    with pytest.raises(ConfigError):
        parseConfig(f"[archive]\n{line}\n")


def redelivered(archivedId, sender="alice@localhost/res", messageId="m1", marker=True):
    """A stored message as the offline store delivers it later (XEP-0160, XEP-0203)."""
    delay = ("<delay xmlns='urn:xmpp:delay' from='localhost' stamp='2026-01-01T00:00:00.000Z'>"
             "Offline Storage</delay>") if marker else ""
    return (f"<message from='{sender}' to='{BOB}/res' type='chat' id='{messageId}'>"
            f"<body>while away</body><stanza-id xmlns='{NS_SID}' by='{BOB}' id='{archivedId}'/>"
            f"{delay}</message>")


def test_offlineRedeliveryNotArchivedAgain():
    """A message the offline store delivers later keeps the id it was archived with, and is not archived twice."""
    h = makeHarness()
    alice = h.login("alice")
    chat(h, alice, body="while away")
    [stored] = archived(h, BOB)
    bob = h.login("bob")
    h.inbound(redelivered(stored.id))
    [delivered] = h.take(bob)
    assert stanzaIds(delivered) == [(BOB, stored.id)]
    assert [m.id for m in archived(h, BOB)] == [stored.id]


@pytest.mark.parametrize("claim", [
    {"archivedId": "not-in-the-archive"},
    {"sender": "carol@remote.example/x"},
    {"messageId": "another"},
    {"marker": False},
])
def test_redeliveryClaimsChecked(claim):
    """A claimed archive id that is unknown, or names another sender's or another message, or lacks the server's delay marker, is removed and the message archived as new."""
    h = makeHarness()
    alice = h.login("alice")
    chat(h, alice, body="while away")
    [stored] = archived(h, BOB)
    bob = h.login("bob")
    h.inbound(redelivered(**{"archivedId": stored.id, **claim}))
    [delivered] = h.take(bob)
    [again] = [m for m in archived(h, BOB) if m.id != stored.id]
    assert stanzaIds(delivered) == [(BOB, again.id)]



def test_redeliveryFromBeforeANewKeyArchivedAgain():
    """An id made under another key (a data directory lost) proves nothing: removed, and the message archived as new."""
    h = makeHarness()
    alice = h.login("alice")
    chat(h, alice, body="while away")
    [stored] = archived(h, BOB)
    h.mam.ids = ArchiveIds()
    bob = h.login("bob")
    h.inbound(redelivered(stored.id))
    [delivered] = h.take(bob)
    [again] = [m for m in archived(h, BOB) if m.id != stored.id]
    assert stanzaIds(delivered) == [(BOB, again.id)]
