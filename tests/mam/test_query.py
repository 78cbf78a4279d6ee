"""
Tests for L{jabberd.mam.query}: the search form, reading forms and XEP-0059
paging, running a query on a memory archive, results and C{<fin/>}.
"""

import pytest
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.mam import query as mamquery
from jabberd.ns import NS_DATA, NS_DELAY, NS_FORWARD, NS_MAM, NS_RSM
from jabberd.stanza import firstChild, parseElement
from jabberd.storage.memory.archive import MemoryArchiveStore
from jabberd.storage.records import ArchivedMessage
from tests.sm.helpers import result

ROOM = "room@conference.localhost"


def queryOf(xml):
    return parseElement(f"<query xmlns='{NS_MAM}'>{xml}</query>")


def form(**fields):
    inner = f"<field var='FORM_TYPE'><value>{NS_MAM}</value></field>"
    for var, value in fields.items():
        inner += f"<field var='{var}'><value>{value}</value></field>"
    return f"<x xmlns='{NS_DATA}' type='submit'>{inner}</x>"


def condition(failure):
    return failure.value.condition


def fill(store, count):
    ids = []
    for n in range(count):
        message = ArchivedMessage(peer=f"{ROOM}/n{n}", direction="in", type="groupchat",
                                  xml=f"<message type='groupchat'><body>{n}</body></message>",
                                  stamp=1000.0 + n)
        ids.append(result(store.append(ROOM, message)))
    return ids


def test_stampsRoundTrip():
    """A DateTime with an offset reads as UTC seconds and formats back in UTC."""
    assert mamquery.parseStamp("1970-01-01T01:00:01+01:00") == 1
    assert mamquery.formatStamp(1.5) == "1970-01-01T00:00:01.500Z"
    with pytest.raises(ValueError):
        mamquery.parseStamp("yesterday")


def test_queryFormListsTheFields():
    """The search form carries FORM_TYPE and the with, start, end, id fields."""
    element = mamquery.queryForm()
    x = firstChild(element, NS_DATA, "x")
    names = [f["var"] for f in x.elements(NS_DATA, "field")]
    assert names == ["FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"]


def test_readFormFilters():
    """with, start and after-id become the store's filters."""
    filters = mamquery.readForm(queryOf(form(**{"with": f"{ROOM}/nick",
                                                "start": "1970-01-01T00:00:10Z",
                                                "after-id": "abc"})))
    assert filters == {"with_": f"{ROOM}/nick", "start": 10, "afterId": "abc"}


def test_readFormRefusesUnknownFields():
    """An unknown field is feature-not-implemented; a bad time bad-request."""
    with pytest.raises(StanzaError) as e:
        mamquery.readForm(queryOf(form(colour="red")))
    assert e.value.condition == "feature-not-implemented"
    with pytest.raises(StanzaError) as e:
        mamquery.readForm(queryOf(form(start="soon")))
    assert e.value.condition == "bad-request"


def test_readRSMCapsThePage():
    """A max beyond the archive's page is lowered to it; before and after together are refused."""
    rsm = f"<set xmlns='{NS_RSM}'><max>500</max><before/></set>"
    assert mamquery.readRSM(queryOf(rsm), 20) == {"max": 20, "before": ""}
    both = f"<set xmlns='{NS_RSM}'><after>a</after><before>b</before></set>"
    with pytest.raises(StanzaError):
        mamquery.readRSM(queryOf(both), 20)


def test_runQueryPages():
    """Pages follow each other through RSM after, and the last one is complete."""
    store = MemoryArchiveStore()
    ids = fill(store, 5)
    first = result(mamquery.runQuery(store, ROOM, queryOf(""), 3))
    assert [m.id for m in first.items] == ids[:3] and not first.complete
    after = f"<set xmlns='{NS_RSM}'><after>{first.last}</after></set>"
    second = result(mamquery.runQuery(store, ROOM, queryOf(after), 3))
    assert [m.id for m in second.items] == ids[3:] and second.complete


def test_runQueryUnknownIdIsItemNotFound():
    """Paging from an id the archive does not hold is item-not-found."""
    store = MemoryArchiveStore()
    fill(store, 1)
    after = f"<set xmlns='{NS_RSM}'><after>nosuchid</after></set>"
    d = mamquery.runQuery(store, ROOM, queryOf(after), 10)
    failures = []
    d.addErrback(failures.append)
    assert failures and condition(failures[0]) == "item-not-found"


def test_resultMessageForwardsWithDelay():
    """A result is from the archive's JID, carries the id, the archive time and the message."""
    message = ArchivedMessage(peer=f"{ROOM}/nick", direction="in", type="groupchat",
                              xml=f"<message from='{ROOM}/nick' type='groupchat'>"
                                  "<body>hello</body></message>", stamp=60.0, id="id1")
    element = mamquery.resultMessage("alice@localhost/r", ROOM, "q", message)
    assert (element["from"], element["to"]) == (ROOM, "alice@localhost/r")
    res = firstChild(element, NS_MAM, "result")
    assert (res["id"], res["queryid"]) == ("id1", "q")
    forwarded = firstChild(res, NS_FORWARD, "forwarded")
    assert firstChild(forwarded, NS_DELAY, "delay")["stamp"] == "1970-01-01T00:01:00.000Z"
    inner = [e for e in forwarded.elements() if e.name == "message"][0]
    assert inner["from"] == f"{ROOM}/nick"


def test_finOfAnEmptyPage():
    """An empty page's fin has a count and no first or last."""
    store = MemoryArchiveStore()
    page = result(mamquery.runQuery(store, ROOM, queryOf(""), 10))
    element = mamquery.fin(page, None)
    assert element.getAttribute("complete") == "true"
    rsm = firstChild(element, NS_RSM, "set")
    assert [c.name for c in rsm.elements()] == ["count"]
    assert isinstance(element, domish.Element)
