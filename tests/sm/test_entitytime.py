"""Tests for L{jabberd.sm.entitytime}: XEP-0202 Entity Time (and XEP-0090)."""

import calendar
import re
import time

from jabberd.ns import NS_TIME, NS_TIME_LEGACY
from jabberd.sm.entitytime import TimeHandler, formatOffset
from tests.sm.iqhelpers import addUser, ask, childrenNamed, errorOf, makeIQ, makeManager, payload

NOW = calendar.timegm((2024, 2, 29, 23, 30, 5, 0, 0, 0))


def text(query, name):
    [child] = childrenNamed(query, name)
    return str(child)


def test_timeReply():
    """The server answers <time/> with its UTC time (Z) and zone offset."""
    sm = makeManager(TimeHandler(clock=lambda: NOW, utcOffset=5 * 3600 + 1800))
    reply = ask(sm, makeIQ("get", NS_TIME, name="time"))
    result = payload(reply)
    assert reply["type"] == "result" and (result.uri, result.name) == (NS_TIME, "time")
    assert text(result, "utc") == "2024-02-29T23:30:05Z"
    assert text(result, "tzo") == "+05:30"


def test_timeDefaultsToLocalZone():
    """Without a configured offset the tzo is the system's, in XEP-0082 form."""
    sm = makeManager(TimeHandler())
    result = payload(ask(sm, makeIQ("get", NS_TIME, name="time")))
    assert re.fullmatch(r"[+-]\d\d:\d\d", text(result, "tzo"))
    stamp = calendar.timegm(time.strptime(text(result, "utc"), "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(stamp - time.time()) < 5


def test_formatOffset():
    """Offsets format with sign, hours and minutes; UTC is +00:00."""
    assert formatOffset(0) == "+00:00"
    assert formatOffset(-8 * 3600) == "-08:00"
    assert formatOffset(-(3 * 3600 + 1800)) == "-03:30"


def test_legacyTime():
    """COMPAT XEP-0090: jabber:iq:time gets utc as CCYYMMDDThh:mm:ss, tz and display."""
    sm = makeManager(TimeHandler(clock=lambda: NOW, utcOffset=-3600))
    query = payload(ask(sm, makeIQ("get", NS_TIME_LEGACY)))
    assert query.uri == NS_TIME_LEGACY
    assert text(query, "utc") == "20240229T23:30:05"
    assert text(query, "tz") == "UTC-01:00"
    assert text(query, "display") == "Thu Feb 29 22:30:05 2024"


def test_bareJIDIsServiceUnavailable():
    """Time of an account's bare JID is not the server's to tell."""
    sm = makeManager(TimeHandler())
    addUser(sm, "bob")
    reply = ask(sm, makeIQ("get", NS_TIME, name="time", to="bob@localhost"))
    assert errorOf(reply) == ("service-unavailable", "503", "cancel")
