# -*- test-case-name: tests.test_logs -*-
"""
The server's log level (C{[server] log_level}: debug, info, warn, error).

Why: Twisted's C{Logger} has no level of its own; every event is built,
formatted and written.  A busy server logs a line per login at C{info},
which operators of a large server (like those who set Prosody's or
ejabberd's level to warning) do not want to pay for.  jabberd's modules
and its bundled components log through L{Logger}, which drops events below
the configured level before anything is built; third-party components may
use it too.
"""

from twisted.logger import Logger as _TwistedLogger
from twisted.logger import LogLevel

__all__ = ["Logger", "LEVELS", "setLevel", "level"]

LEVELS = {"debug": LogLevel.debug, "info": LogLevel.info, "warn": LogLevel.warn,
          "error": LogLevel.error, "critical": LogLevel.critical}
_RANK = {level: rank for rank, level in enumerate(
    (LogLevel.debug, LogLevel.info, LogLevel.warn, LogLevel.error, LogLevel.critical))}
_threshold = [_RANK[LogLevel.info]]


def setLevel(name):
    """Log events at C{name} (a key of L{LEVELS}) and above from now on."""
    _threshold[0] = _RANK[LEVELS[name]]


def level():
    """The name of the current level."""
    return next(name for name, value in LEVELS.items() if _RANK[value] == _threshold[0])


class Logger(_TwistedLogger):
    """Twisted's logger, quiet below the server's log level."""

    def emit(self, level, format=None, **kwargs):
        if _RANK.get(level, 0) >= _threshold[0]:
            _TwistedLogger.emit(self, level, format, **kwargs)
