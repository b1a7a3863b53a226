"""atheris (libFuzzer) over emit(): the hypothesis target of test_fuzz.py (support/fuzz.py),
driven by libFuzzer's coverage-guided bytes for a fixed budget; a crash, or any implementation
disagreeing with the others, stops it with a crash report and a non-zero exit.

Coverage comes from our Python code (benchmarkai's, and the support package's: hostile.py's
among it); the compiled _fastemit is exercised but not instrumented (that needs a clang build
with -fsanitize=fuzzer-no-link).

usage: python atheris_fastemit.py -atheris_runs=N   (libFuzzer options: -max_total_time=S ...)
"""
import os
import sys
import tempfile

import atheris

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, for support

from hypothesis import HealthCheck, given, settings  # noqa: E402

# Coverage of our code only: instrumenting everything loaded (hypothesis, pytest...) takes minutes.
with atheris.instrument_imports(include=["benchmarkai", "support"]):
    from support.fuzz import check_one, mappings
    from support.implementations import every_emitter

    import benchmarkai

assert benchmarkai.implementation == "cython", "the compiled module is not installed"
EMITTERS = every_emitter(tempfile.mkdtemp())


@settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(recipe=mappings)
def emit_hostile_input(recipe):
    check_one(EMITTERS, recipe)


if __name__ == "__main__":
    atheris.Setup(sys.argv, emit_hostile_input.hypothesis.fuzz_one_input)
    atheris.Fuzz()
