"""Tests for L{jabberd.auth.hashing}: PBKDF2 in bounded worker threads."""

import threading

from jabberd.auth.hashing import HashingBusy, InlineHashing, PasswordHashing


class ThreadClock:
    """A reactor stand-in whose callFromThread runs the call at once (in the worker)."""

    def callFromThread(self, function, *args):
        function(*args)


def outcome(d):
    results = []
    d.addBoth(results.append)
    return results


def test_runsInAWorkerThread():
    """A call runs in a worker thread named pbkdf2, not the caller's."""
    hashing = PasswordHashing(ThreadClock(), threads=1, maxPending=4)
    done = threading.Event()
    results = []
    d = hashing.run(lambda: threading.current_thread().name)
    d.addCallback(results.append)
    d.addBoth(lambda _: done.set())
    assert done.wait(5)
    hashing.stop()
    assert results == ["pbkdf2-0"]
    assert hashing.pending == 0


def test_fullQueueFailsAtOnce():
    """Past maxPending calls, a new one fails with HashingBusy without being queued."""
    hashing = PasswordHashing(ThreadClock(), threads=1, maxPending=2)
    gate = threading.Event()
    first = hashing.run(gate.wait, 5)
    second = hashing.run(gate.wait, 5)
    third = outcome(hashing.run(lambda: "never"))
    assert third[0].check(HashingBusy)
    assert hashing.pending == 2
    gate.set()
    hashing.stop()
    assert hashing.pending == 0
    assert outcome(first) == [True] and outcome(second) == [True]


def test_inlineRunsNow():
    """The inline variant answers synchronously, errors included."""
    hashing = InlineHashing()
    assert outcome(hashing.run(pow, 2, 5)) == [32]
    failed = outcome(hashing.run(lambda: 1 / 0))
    assert failed[0].check(ZeroDivisionError)
