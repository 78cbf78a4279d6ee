"""Tests for L{jabberd.gcpolicy}: start-up objects frozen, later garbage still collected."""

import gc

from jabberd import gcpolicy


class Cycle:
    """An object in a reference cycle, as a parsed stanza is."""

    def __init__(self):
        self.me = self


def test_settleFreezesAndStillCollects():
    """After settle() the existing objects are frozen and a new cycle is still collected."""
    try:
        gcpolicy.settle()
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        garbage = Cycle()
        del garbage
        assert gc.collect() >= 1
        assert gc.get_freeze_count() == frozen
        assert not any(isinstance(o, Cycle) for o in gc.get_objects())
    finally:
        gc.unfreeze()


def test_trimFoundOnGlibc():
    """On glibc the allocator's malloc_trim is found, and trim() says whether it released pages."""
    import platform
    if platform.libc_ver()[0] != "glibc":
        import pytest
        pytest.skip("malloc_trim is glibc's")
    assert gcpolicy._mallocTrim() is not None
    assert gcpolicy.trim() in (True, False)


def test_periodicTrimService():
    """trim_interval makes a periodic service calling trim at that interval; 0 makes none."""
    import platform
    assert gcpolicy.periodicTrim(0) is None
    if platform.libc_ver()[0] != "glibc":
        return
    service = gcpolicy.periodicTrim(30)
    assert service.interval == 30 and service.function is gcpolicy.trim


def test_mapLargeAllocations():
    """glibc takes a fixed threshold (mallopt answers 1); 0 leaves the C library alone."""
    import platform
    assert gcpolicy.mapLargeAllocations(0) is False
    if platform.libc_ver()[0] != "glibc":
        return
    assert gcpolicy.mapLargeAllocations(131072) is True
