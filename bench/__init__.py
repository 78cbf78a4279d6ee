"""
The project's XMPP benchmark: a cheap asyncio load generator
(L{bench.loadgen}) and a runner (L{bench.runner}) that measures jabberd,
Prosody and ejabberd side by side on the same machine.  It is a command run
on purpose (C{python -m bench.runner}), never part of the test suite; see
C{bench/README.md}.
"""
