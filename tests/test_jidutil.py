"""Tests for L{jabberd.jidutil}: the router's fast domain split."""

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
