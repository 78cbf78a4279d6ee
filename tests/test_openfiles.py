"""
Tests for L{jabberd.openfiles}: the soft open-files limit is raised at
start-up, capped by the hard limit, never lowered.
"""

import resource

from twisted.trial import unittest

from jabberd.openfiles import raiseLimit


class FakeLimits:
    """Stands in for C{getrlimit}/C{setrlimit} on one (soft, hard) pair."""

    def __init__(self, soft, hard):
        self.limits = (soft, hard)
        self.calls = []

    def get(self, which):
        return self.limits

    def set(self, which, limits):
        self.calls.append(limits)
        self.limits = limits


class RaiseLimitTests(unittest.TestCase):

    def raiseTo(self, wanted, soft, hard):
        fake = FakeLimits(soft, hard)
        return raiseLimit(wanted, fake.get, fake.set), fake

    def test_raisesSoftLimit(self):
        """A soft limit below the wanted count is raised to it."""
        result, fake = self.raiseTo(65536, 1024, 1048576)
        self.assertEqual(result, 65536)
        self.assertEqual(fake.calls, [(65536, 1048576)])

    def test_cappedByHardLimit(self):
        """The soft limit never goes past the hard limit."""
        result, fake = self.raiseTo(65536, 1024, 4096)
        self.assertEqual(result, 4096)
        self.assertEqual(fake.calls, [(4096, 4096)])

    def test_neverLowered(self):
        """A soft limit already above the wanted count is left alone."""
        result, fake = self.raiseTo(65536, 200000, 1048576)
        self.assertEqual(result, 200000)
        self.assertEqual(fake.calls, [])

    def test_zeroLeavesLimit(self):
        """C{max_open_files = 0} leaves the limit as the process got it."""
        result, fake = self.raiseTo(0, 1024, 1048576)
        self.assertEqual(result, 1024)
        self.assertEqual(fake.calls, [])

    def test_unlimitedHard(self):
        """An unlimited hard limit lets the soft limit reach the wanted count."""
        result, fake = self.raiseTo(5000, 1024, resource.RLIM_INFINITY)
        self.assertEqual(result, 5000)

    def test_realProcess(self):
        """On this process the limit afterwards is at least what it was."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        self.assertGreaterEqual(raiseLimit(soft + 1 if soft < hard else soft), soft)
