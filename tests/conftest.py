"""Fixtures shared by the whole test suite."""

import pytest
from twisted.trial.unittest import SynchronousTestCase


@pytest.fixture(autouse=True)
def _trialTempInTmp(request, tmp_path, monkeypatch):
    """Trial's mktemp() writes below the working directory: keep that in pytest's tmp dir."""
    if isinstance(request.instance, SynchronousTestCase):
        monkeypatch.chdir(tmp_path)
