"""
The shared storage tests on the in-memory store, the reference
implementation of the interface.
"""

from twisted.trial import unittest

from jabberd.storage import openStorage
from jabberd.storage.memory import MemoryStorage
from tests.storage.mixin import StorageTestsMixin


class MemoryStorageTests(StorageTestsMixin, unittest.TestCase):
    """The storage API on L{MemoryStorage}."""

    def makeStorage(self):
        return MemoryStorage()

    def test_openStorage(self):
        """openStorage("memory:") makes a MemoryStorage."""
        self.assertIsInstance(openStorage("memory:"), MemoryStorage)
