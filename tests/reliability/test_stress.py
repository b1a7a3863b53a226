"""Many writers, one FIFO: BENCHMARKAI_STRESS_PROCESSES processes (8) x BENCHMARKAI_STRESS_THREADS
threads (4) emit at least BENCHMARKAI_STRESS_LINES lines (100000; 1000000 for the long run),
mostly one-key mappings and some that must be split at PIPE_BUF. The reader checks every
line: whole, one writer's, every writer's pairs all there, once, in order."""
import time

from support.reliability import Recorder, report, size, start_writers
from support.workload import STRESS_SIZES, Check


def test_many_writers_lose_and_interleave_nothing(impl, fifo_path, tmp_path, capsys):
    lines = size("BENCHMARKAI_STRESS_LINES", 100000)
    processes = size("BENCHMARKAI_STRESS_PROCESSES", 8)
    threads = size("BENCHMARKAI_STRESS_THREADS", 4)
    writers = processes * threads
    # Every mapping makes at least one line.
    count = -(-lines // writers)
    timeout = 120 + lines // 2000
    reader = Recorder(fifo_path, str(tmp_path / "record"), timeout)
    started = time.time()
    running = start_writers(impl, fifo_path, processes, threads, count, timeout)
    running.wait()
    data = reader.finish()
    seconds = time.time() - started
    check = Check()
    check.stream(data)
    check.done(running.counts)
    assert check.lines >= lines
    split = sum(1 for seq in range(count) if STRESS_SIZES[seq % len(STRESS_SIZES)] > 100) * writers
    report(capsys, "stress %s: %d lines (%d mappings, %d of them split) from %d processes x %d threads, "
           "%.1f s, %.0f lines/s, %d bytes; none lost, mixed or out of order"
           % (impl, check.lines, count * writers, split, processes, threads, seconds,
              check.lines / seconds, len(data)))
