"""Memory stays flat: every value kind and every error path of test_refcounts.py (the cases of
support/cases.py), emitted BENCHMARKAI_LEAK_EMITS times each (2000; 20000 for the long run),
in stdout and fifo mode, with no growth in Python's allocated memory blocks or in the
process's resident memory."""
import os
import sys

import pytest
from support.cases import Sink, accepted, rejected
from support.reliability import report, size

from benchmarkai._fifo import PIPE_BUF

# Growth allowed whatever the count: caches and free lists settle during the warm-up, and a
# leak of even one block per call would pass these at 100000 calls.
MAX_BLOCKS = 2000
MAX_RSS = 4 << 20

pytestmark = pytest.mark.skipif(not hasattr(sys, "getallocatedblocks"), reason="Python 3.4+")


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cases():
    """(mappings for stdout mode, mappings for fifo mode)."""
    stdout = [metrics for _, metrics in accepted()] + [metrics for _, metrics, _ in rejected()]
    fifo = [metrics for _, metrics in accepted()] + [{u"n" * PIPE_BUF: 1.0}]  # the last: too long
    return stdout, fifo


def run(emit, metrics, times, drain=None):
    for number in range(times):
        try:
            emit(metrics)
        except Exception:
            pass
        if drain is not None and number % 32 == 0:
            drain()


# Python 3's float() warns about a float subclass: pytest would keep every warning.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_memory_stays_flat(impl, in_process_fifo, capsys, monkeypatch):  # capsys first: it outlives the patch
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("resident memory is read from /proc")
    times = size("BENCHMARKAI_LEAK_EMITS", 2000)
    monkeypatch.setattr(sys, "stdout", Sink())
    stdout, fifo = cases()
    plan = [(impl.emitter().emit, metrics, None) for metrics in stdout]
    plan += [(in_process_fifo.emit, metrics, in_process_fifo.read) for metrics in fifo]
    for emit, metrics, drain in plan:  # warm-up
        run(emit, metrics, max(times // 10, 100), drain)
    blocks, rss = sys.getallocatedblocks(), resident_bytes()
    for emit, metrics, drain in plan:
        run(emit, metrics, times, drain)
    in_process_fifo.read()
    grown_blocks, grown_rss = sys.getallocatedblocks() - blocks, resident_bytes() - rss
    report(capsys, "leaks %s: %d cases x %d emits = %d emits: %+d memory blocks, %+d kB resident"
           % (impl, len(plan), times, len(plan) * times, grown_blocks, grown_rss // 1024))
    assert grown_blocks < MAX_BLOCKS
    assert grown_rss < MAX_RSS
