"""Helpers for the storage tests that run without a reactor."""


def value(d):
    """The result (or failure) of C{d}, which must have fired."""
    results = []
    d.addBoth(results.append)
    assert results, "Deferred has not fired"
    return results[0]
