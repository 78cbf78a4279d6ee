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
