"""Tests for L{jabberd.sm.iqrequests}: iqs sent to components and their answers."""

from twisted.internet.task import Clock
from twisted.words.xish import domish

from jabberd.sm.iqrequests import IQRequests
from tests.sm.helpers import parse


class Late(Exception):
    """Raised for a request nobody answered."""


def request(requests, to="store.localhost"):
    iq = domish.Element((None, "iq"))
    iq["type"], iq["to"] = "set", to
    sent, outcome = [], []
    d = requests.send(sent.append, iq)
    d.addBoth(outcome.append)
    return sent[0], outcome


def test_answerFiresRequest():
    """A result from the domain asked fires the request with that stanza."""
    requests = IQRequests("t", 5, Late, Clock())
    iq, outcome = request(requests)
    answer = parse(f"<iq type='result' id='{iq['id']}' from='store.localhost'/>")
    assert requests.answer(answer) is True
    assert outcome == [answer] and len(requests) == 0


def test_answerFromAnotherDomainIgnored():
    """An answer with the right id from another entity is left alone."""
    requests = IQRequests("t", 5, Late, Clock())
    iq, outcome = request(requests)
    forged = parse(f"<iq type='result' id='{iq['id']}' from='alice@localhost/x'/>")
    assert requests.answer(forged) is False
    assert outcome == [] and iq["id"] in requests


def test_timeoutFailsRequest():
    """Without an answer before the deadline the request fails with timedOut's exception."""
    clock = Clock()
    requests = IQRequests("t", 5, Late, clock)
    iq, outcome = request(requests)
    clock.advance(5)
    assert outcome[0].check(Late) and len(requests) == 0
    late = parse(f"<iq type='result' id='{iq['id']}' from='store.localhost'/>")
    assert requests.answer(late) is False


def test_idsAreFreshPerInstance():
    """Two instances (two runs of the server) never hand out the same id."""
    first, _ = request(IQRequests("t", 5, Late, Clock()))
    second, _ = request(IQRequests("t", 5, Late, Clock()))
    assert first["id"] != second["id"]


def test_exactAnswerOnlyFromTheAddressAsked():
    """With exact matching, only the full JID asked (compared prepared) answers; its domain or another resource does not."""
    requests = IQRequests("t", 5, Late, Clock(), exact=True)
    iq, outcome = request(requests, to="alice@localhost/phone")
    for forged in ("localhost", "alice@localhost/other", "alice@localhost"):
        stanza = parse(f"<iq type='result' id='{iq['id']}' from='{forged}'/>")
        assert requests.answer(stanza) is False
    answer = parse(f"<iq type='result' id='{iq['id']}' from='Alice@LOCALHOST/phone'/>")
    assert requests.answer(answer) is True
    assert outcome == [answer]


def test_exactTimeoutNamesTheAddress():
    """An exact request that times out fails with the exception made for the address asked."""
    clock = Clock()
    requests = IQRequests("t", 5, lambda address: Late(address), clock, exact=True)
    _iq, outcome = request(requests, to="alice@localhost/phone")
    clock.advance(5)
    assert outcome[0].value.args == ("alice@localhost/phone",)
