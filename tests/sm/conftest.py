"""Fixtures for the session manager tests."""

import pytest

from tests.sm import helpers


@pytest.fixture(autouse=True)
def _failuresOfThisTestOnly():
    """
    Start each test with no failures recorded: L{helpers.assertNoFailures}
    reports what this test's handlers logged, never what an earlier test in
    the same process logged (under pytest-xdist a worker may run any file
    just before this one, such as C{tests/c2s/test_sasl.py}, whose failing
    storage logs "db down").
    """
    helpers._failures.clear()
    yield
