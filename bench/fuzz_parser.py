"""
Fuzz the hardened XML stream parser for longer than CI does.

Runs the property of C{tests/test_xmlparser_fuzz.py} (random and mutated
streams, cut at random byte boundaries with the parser hibernated at the
cuts, under random small limits: only documented errors, and cutting
changes nothing) with as many examples as asked, and no per-example
deadline.  A failure prints the smallest input Hypothesis found.

    python -m bench.fuzz_parser --examples 200000 [--seed N]
"""

import argparse
import time

from hypothesis import HealthCheck, given, seed as withSeed, settings, strategies as st

from tests.test_xmlparser_fuzz import LIMITS, check, streams


def main(argv=None):
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--examples", type=int, default=100000)
    options.add_argument("--seed", type=int, default=None)
    args = options.parse_args(argv)

    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(streams(), st.lists(st.integers(0, 4000), max_size=24), LIMITS, st.integers(32, 4096))
    def fuzz(data, cuts, limits, maxStanzaSize):
        check(data, cuts, limits, maxStanzaSize)

    if args.seed is not None:
        fuzz = withSeed(args.seed)(fuzz)
    started = time.monotonic()
    fuzz()
    print("%d examples passed in %.0f s" % (args.examples, time.monotonic() - started))


if __name__ == "__main__":
    main()
