"""Tests for L{jabberd.jidutil}: the router's fast domain split."""

import pytest

from jabberd import jidutil
from jabberd.jidutil import bareOf, domainOf, parseJID


def test_domainOf():
    """domainOf returns the lowercased domainpart for every address form."""
    assert domainOf("Example.COM") == "example.com"
    assert domainOf("user@example.com") == "example.com"
    assert domainOf("user@example.com/res") == "example.com"
    assert domainOf("example.com/res@with-at") == "example.com"
    assert domainOf("user@example.com/a@b") == "example.com"


def test_bareOf():
    """bareOf strips the resource only."""
    assert bareOf("u@d/r/x") == "u@d"
    assert bareOf("d") == "d"


def test_parseJID():
    """parseJID prepares valid JIDs and returns None for invalid ones."""
    assert parseJID("User@Example.com/R").full() == "user@example.com/R"
    assert parseJID("a@b@c") is None
    assert parseJID("") is None


def _twisted(profile, text):
    try:
        return profile.prepare(text)
    except UnicodeError:
        return UnicodeError


def _ours(function, text):
    try:
        return function(text)
    except UnicodeError:
        return UnicodeError


def test_asciiShortcutsMatchTheProfiles():
    """
    For every ASCII character, alone and inside a name, nodeprep and
    resourceprep give what Twisted's stringprep profiles give.
    """
    from twisted.words.protocols.jabber import xmpp_stringprep as profiles

    samples = [chr(c) for c in range(128)]
    samples += ["Al" + chr(c) + "Ice" for c in range(128)]
    samples += ["", "juliet", "Juliet.Capulet-1_x", "a b", "tab\there", "x~!#$%^*()=+[]{}|;,?"]
    for text in samples:
        if not text:
            continue
        assert _ours(jidutil.nodeprep, text) == _twisted(profiles.nodeprep, text), repr(text)
        assert _ours(jidutil.resourceprep, text) == _twisted(profiles.resourceprep, text), repr(text)


def test_nonAsciiGoesThroughTheProfiles():
    """Non-ASCII names get the full profiles: case folding, NFKC, refused characters."""
    assert jidutil.nodeprep("ÄLICE") == "älice"
    assert jidutil.resourceprep("Ⅸ") == "IX"  # NFKC
    with pytest.raises(UnicodeError):
        jidutil.nodeprep("a\u200fb")  # a right-to-left mark is refused


def test_parseMatchesTwisted():
    """parseJID splits and prepares as Twisted's JID does, and refuses what it refuses."""
    from twisted.words.protocols.jabber.jid import JID as TwistedJID

    for text in ["Juliet@Example.COM/Balcony", "example.com", "example.com/a@b/c",
                 "user@example.com", "x@EXAMPLE.org/ Res ource"]:
        ours = jidutil.parseJID(text)
        theirs = TwistedJID(text)
        assert (ours.user, ours.host, ours.resource) == (theirs.user, theirs.host, theirs.resource)
        assert ours.full() == theirs.full()
    for bad in ["a&b@example.com", "a@b@example.com", "user@", "user@exa mple.com",
                "user@example.com/\x01"]:
        assert jidutil.parseJID(bad) is None, bad


def test_prepLocalpart():
    """A localpart is prepared, or None when empty, too long or with a refused character."""
    assert jidutil.prepLocalpart("Alice") == "alice"
    assert jidutil.prepLocalpart("") is None
    assert jidutil.prepLocalpart("a b") is None
    assert jidutil.prepLocalpart("a@b") is None
    assert jidutil.prepLocalpart("x" * 1023) == "x" * 1023
    assert jidutil.prepLocalpart("x" * 1024) is None


def test_prepResource():
    """A resourcepart keeps its case, and is None when empty, too long or with a control."""
    assert jidutil.prepResource("Home PC") == "Home PC"
    assert jidutil.prepResource("") is None
    assert jidutil.prepResource("a\x07b") is None
    assert jidutil.prepResource("é" * 512) is None
