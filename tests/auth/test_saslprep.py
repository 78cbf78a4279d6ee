"""Tests for L{jabberd.auth.saslprep}: RFC 4013 section 3's examples and the rules behind them."""

import pytest

from jabberd.auth.saslprep import SASLprepError, saslprep


@pytest.mark.parametrize("given, prepared", [
    ("I\u00adX", "IX"),          # soft hyphen mapped to nothing
    ("user", "user"),            # no transformation
    ("USER", "USER"),            # case preserved
    ("\u00aa", "a"),             # NFKC
    ("\u2168", "IX"),            # NFKC
    ("a\u00a0b", "a b"),         # non-ASCII space mapped to SPACE
    ("pass word", "pass word"),  # ASCII space kept
])
def test_rfc4013Examples(given, prepared):
    """The examples of RFC 4013 section 3 (and the space mapping of 2.1) come out as listed."""
    assert saslprep(given) == prepared


@pytest.mark.parametrize("given", [
    "\u0007",          # control character (RFC 4013 section 3, example 6)
    "\u0627\u0031",    # RandALCat not at the end (example 7)
    "a\u0627",         # left-to-right mixed with right-to-left
    "\ue000",          # private use
    "\ufffd",          # inappropriate for plain text
    "x\u200ey",        # change display properties
])
def test_prohibited(given):
    """Prohibited output and bad bidirectional text are refused."""
    with pytest.raises(SASLprepError):
        saslprep(given)


def test_unassignedOnlyInQueries():
    """Unassigned code points are refused in stored strings and allowed in queries."""
    unassigned = "\u0221"  # unassigned in Unicode 3.2, the version stringprep uses
    with pytest.raises(SASLprepError):
        saslprep(unassigned)
    assert saslprep(unassigned, stored=False) == unassigned


def test_rightToLeftAllowed():
    """A wholly right-to-left string is allowed."""
    assert saslprep("\u0627\u0628") == "\u0627\u0628"
