"""
Shared pieces of the property (fuzz) tests: byte-level mutation of
generated input, and how long each property runs.

CI runs each property with a small C{max_examples} and a deadline; setting
C{JABBERD_FUZZ_EXAMPLES} (or running C{bench/fuzz.py}) runs them longer,
without the deadline.
"""

import os

from hypothesis import HealthCheck, settings, strategies as st
from twisted.logger import globalLogPublisher

EXAMPLES_VARIABLE = "JABBERD_FUZZ_EXAMPLES"


def fuzzSettings(examples, deadline=2000):
    """
    Hypothesis settings for a property run C{examples} times in CI, or as
    often as C{JABBERD_FUZZ_EXAMPLES} says (then with no deadline and no
    example database, as the bench does).
    """
    longer = os.environ.get(EXAMPLES_VARIABLE)
    if longer:
        return settings(max_examples=int(longer), deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))
    return settings(max_examples=examples, deadline=deadline,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def mutated(draw, texts, maxMutations=3):
    """Bytes of one of C{texts}, with up to C{maxMutations} flipped, inserted or deleted bytes."""
    data = bytearray(draw(texts).encode("utf-8", "surrogatepass"))
    for _ in range(draw(st.integers(0, maxMutations))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip":
            data[position] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[position]
    return bytes(data)


class LoggedFailures:
    """
    Collects the failures logged while it is active (a stream or handler
    that catches an exception logs it instead of raising): a property
    asserts the list stays empty.
    """

    def __init__(self):
        self.failures = []

    def _observe(self, event):
        if "log_failure" in event:
            self.failures.append(event["log_failure"])

    def __enter__(self):
        globalLogPublisher.addObserver(self._observe)
        return self

    def __exit__(self, *exc):
        globalLogPublisher.removeObserver(self._observe)
        return False

    def check(self):
        """Re-raise the first failure logged, if any."""
        if self.failures:
            self.failures[0].raiseException()
