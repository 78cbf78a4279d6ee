"""
COMPAT: wokkel 18.0.0 on current Twisted.

wokkel imports C{twisted.python.compat._PY3} and the module
C{twisted.python.constants}; Twisted removed both (the constants moved to the
C{constantly} package).  This module restores exactly those two names and
must be imported before anything imports wokkel.
"""

import sys

import constantly
from twisted.python import compat

if not hasattr(compat, "_PY3"):
    compat._PY3 = True

if "twisted.python.constants" not in sys.modules:
    try:
        import twisted.python.constants  # noqa: F401
    except ImportError:
        sys.modules["twisted.python.constants"] = constantly
