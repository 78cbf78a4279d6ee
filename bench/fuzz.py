"""
Run every fuzzing property of the test suite for longer than CI does.

The properties (Hypothesis) cover the XML stream parser, BOSH request
bodies, WebSocket messages and framing, c2s negotiation, and the iq payload
parsing of every session manager and conference route; CI runs each with a
small C{max_examples} and a deadline.  This runs the chosen ones (all by
default) with C{--examples} each and no deadline, through pytest with
C{JABBERD_FUZZ_EXAMPLES} set (see C{tests/fuzzing.py}); the stream parser's
property runs through L{bench.fuzz_parser}.  A failure prints the smallest
input Hypothesis found; make it a regression test beside the property.

    python -m bench.fuzz --examples 20000 [--seed N] [bosh websocket c2s iq muc parser]
"""

import argparse
import os
import subprocess
import sys
import time

from tests.fuzzing import EXAMPLES_VARIABLE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TARGETS = {
    "bosh": "tests/web/bosh/test_body_fuzz.py",
    "websocket": "tests/web/test_websocket_fuzz.py",
    "c2s": "tests/c2s/test_negotiation_fuzz.py",
    "iq": "tests/sm/test_iq_fuzz.py",
    "muc": "tests/components/conference/test_muc_iq_fuzz.py",
    "parser": None,  # bench.fuzz_parser
}


def runTarget(name, examples, seed):
    """Run one target; return its exit status."""
    if TARGETS[name] is None:
        command = [sys.executable, "-m", "bench.fuzz_parser", "--examples", str(examples)]
        if seed is not None:
            command += ["--seed", str(seed)]
    else:
        # One file, one process (-n 0: setup.cfg's xdist workers would only
        # add start-up and hold back the output of Hypothesis's shrinking).
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-n", "0",
                   "-p", "no:cacheprovider", TARGETS[name]]
        if seed is not None:
            command.append("--hypothesis-seed=%d" % seed)
    environment = dict(os.environ, **{EXAMPLES_VARIABLE: str(examples)})
    started = time.monotonic()
    status = subprocess.call(command, cwd=ROOT, env=environment)
    print("%s: %s in %.0f s" % (name, "passed" if status == 0 else "FAILED",
                                time.monotonic() - started), flush=True)
    return status


def main(argv=None):
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--examples", type=int, default=10000,
                         help="examples per property (default 10000)")
    options.add_argument("--seed", type=int, default=None)
    options.add_argument("targets", nargs="*", metavar="target",
                         help="what to fuzz, of %s (default: all)" % ", ".join(TARGETS))
    args = options.parse_args(argv)
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        options.error("unknown targets: " + " ".join(sorted(unknown)))
    failed = [name for name in (args.targets or list(TARGETS))
              if runTarget(name, args.examples, args.seed) != 0]
    if failed:
        sys.exit("failed: " + " ".join(failed))


if __name__ == "__main__":
    main()
