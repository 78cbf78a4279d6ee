# -*- test-case-name: tests.auth.test_saslprep -*-
"""
SASLprep (RFC 4013), the stringprep profile SCRAM applies to passwords
(RFC 5802 section 2.2, "Normalize(str)") and PLAIN to what it compares
(RFC 4616 section 2).

Clients prepare the password before deriving SCRAM keys, so the server
must prepare it the same way when it makes the stored keys and when it
checks a PLAIN password: otherwise a password typed with a non-breaking
space, a soft hyphen or a composed character that the client normalises
never matches.  Stored strings (new passwords) may not contain unassigned
code points; queries (a password being checked) may (RFC 3454 section 7).
"""

import stringprep
import unicodedata

__all__ = ["saslprep", "SASLprepError"]


class SASLprepError(ValueError):
    """The string is not allowed by SASLprep (RFC 4013 sections 2.3-2.5)."""


_PROHIBITED = (stringprep.in_table_c12, stringprep.in_table_c21, stringprep.in_table_c22,
               stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
               stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
               stringprep.in_table_c9)


def _map(char):
    """RFC 4013 section 2.1: non-ASCII spaces become SPACE; B.1 characters vanish."""
    if stringprep.in_table_c12(char):
        return " "
    if stringprep.in_table_b1(char):
        return ""
    return char


def saslprep(text, stored=True):
    """
    Prepare C{text} with SASLprep; raise L{SASLprepError} if it is not
    allowed.  C{stored} applies the stored-string rule (no unassigned code
    points); a query string may contain them.
    """
    if text.isascii():
        # Printable ASCII maps to itself; only control characters are refused.
        for char in text:
            if char < " " or char == "\x7f":
                raise SASLprepError("control characters are not allowed")
        return text
    prepared = unicodedata.normalize("NFKC", "".join(_map(char) for char in text))
    for char in prepared:
        if any(prohibited(char) for prohibited in _PROHIBITED):
            raise SASLprepError(f"U+{ord(char):04X} is not allowed")
        if stored and stringprep.in_table_a1(char):
            raise SASLprepError(f"U+{ord(char):04X} is unassigned")
    _checkBidi(prepared)
    return prepared


def _checkBidi(text):
    """RFC 3454 section 6: right-to-left text may not mix in left-to-right characters."""
    rightToLeft = [stringprep.in_table_d1(char) for char in text]
    if not any(rightToLeft):
        return
    if any(stringprep.in_table_d2(char) for char in text):
        raise SASLprepError("mixed right-to-left and left-to-right text")
    if not (rightToLeft[0] and rightToLeft[-1]):
        raise SASLprepError("right-to-left text must start and end right-to-left")
