"""Readers that fail: killed with SIGKILL mid-stream and restarted, stalled for seconds, gone
for good. Writers are child processes emitting through the public benchmarkai.emit in fifo
mode; the readers record the raw bytes they take out of the FIFO (recording_reader.py)."""
import errno
import fcntl
import json
import os
import random
import select
import struct
import termios
import time

import pytest
from support.reliability import Recorder, report, size, start_writers
from support.workload import STRESS_SIZES, Check, workload, writer_name

F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
MAX_WAIT = 30.0  # the writers' BENCHMARK_AI_FIFO_MAX_WAIT_TIME in the kill and stall tests

needs_splice = pytest.mark.skipif(
    not hasattr(os, "splice"),
    reason="exact accounting needs os.splice (Linux, Python 3.10+): a killed reader then holds no bytes")


def line_bytes(writers, count):
    """Roughly how many bytes the writers emit (splitting adds a few)."""
    return sum(len(json.dumps(metrics, separators=(",", ":"))) + 1
               for writer in writers for metrics in workload(writer, count, STRESS_SIZES))


def hold_write_end(path):
    """A write end held by the test, as a sidecar holds one: the pipe and the lines in it
    outlive a moment with no reader and no writer, and a reader's open() does not block.
    (A read end is open meanwhile only because a write end cannot be opened without one.)"""
    read_end = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    finally:
        os.close(read_end)


@needs_splice
def test_reader_killed_mid_stream_and_restarted_loses_nothing(impl, fifo_path, tmp_path, capsys):
    kills = size("BENCHMARKAI_FAULT_KILLS", 5)
    lines = size("BENCHMARKAI_FAULT_LINES", 40000)
    processes, threads = 4, 2
    count = -(-lines // (processes * threads))
    names = [writer_name(process, thread) for process in range(processes) for thread in range(threads)]
    # Kill each reader once it has recorded its share: every kill lands while lines flow.
    share = line_bytes(names, count) // (kills + 2)
    timeout = 120 + lines // 1000
    rng = random.Random(kills * 7919 + lines)
    records = [str(tmp_path / ("record-%d" % number)) for number in range(kills + 1)]
    held = hold_write_end(fifo_path)
    reader = Recorder(fifo_path, records[0], timeout)
    reader.wait_open()
    started = time.time()
    running = start_writers(impl, fifo_path, processes, threads, count, timeout, max_wait=MAX_WAIT)
    gaps = []
    for number in range(1, kills + 1):
        while reader.recorded() < share:
            assert not running.done(), "the writers finished before kill %d" % number
            assert time.time() - started < timeout
            time.sleep(0.002)
        reader.kill()
        # Back within the writers' wait budget, after a pause that lets them meet EPIPE.
        gap = rng.uniform(0.05, 1.0)
        gaps.append(gap)
        time.sleep(gap)
        reader = Recorder(fifo_path, records[number], timeout)
        reader.wait_open()
    running.wait()
    os.close(held)
    reader.finish()
    seconds = time.time() - started
    check = Check()
    data = b""
    for record in records:
        with open(record, "rb") as chunks:
            data += chunks.read()
    check.stream(data)
    check.done(running.counts)
    report(capsys, "faults %s: %d readers killed with SIGKILL mid-stream (each after ~%d bytes, back after "
           "%.2f-%.2f s), %d lines from %d processes x %d threads in %.1f s: 0 lost, 0 repeated, in order"
           % (impl, kills, share, min(gaps), max(gaps), check.lines, processes, threads, seconds))


def test_stalled_reader_makes_emit_wait_and_loses_nothing(impl, fifo_path, capsys):
    stall = size("BENCHMARKAI_FAULT_STALL", 3)
    processes, threads, count = 2, 2, 6000  # about 3 MB: three times the 1 MiB pipe
    # The test is the reader: it opens the FIFO, reads nothing until the pipe is full and for
    # ``stall`` seconds more, then reads everything to EOF.
    fd = os.open(fifo_path, os.O_RDONLY | os.O_NONBLOCK)
    started = time.time()
    running = start_writers(impl, fifo_path, processes, threads, count, 120, max_wait=MAX_WAIT)
    # Full: more than half of it taken (the writers set it to 1 MiB when they open it), and no
    # byte more for a while. (Not "size - PIPE_BUF": the kernel fills it in pages, not bytes.)
    queued = -1
    while queued != fionread(fd) or queued < fcntl.fcntl(fd, F_GETPIPE_SZ) // 2:
        assert not running.done() and time.time() < started + 60, "the pipe did not fill up"
        queued = fionread(fd)
        time.sleep(0.3)
    time.sleep(stall)
    assert not running.done(), "the writers did not block on the full pipe"
    data = read_to_eof(fd, started + 120)
    os.close(fd)
    reports = running.wait()
    longest = max(child["longest"] for child in reports)
    # Blocked for most of the stall: emit waited for room instead of dropping or failing.
    assert longest >= stall * 0.8
    check = Check()
    check.stream(data)
    check.done(running.counts)
    report(capsys, "faults %s: reader stalled %d s with a full pipe: the longest emit() waited %.2f s; "
           "%d lines, 0 lost (%.1f s)" % (impl, stall, longest, check.lines, time.time() - started))


def test_reader_that_never_returns_raises_in_time_and_nothing_hangs(impl, fifo_path, tmp_path, capsys):
    max_wait, processes, threads = 2.0, 2, 4
    reader = Recorder(fifo_path, str(tmp_path / "record"), 60)
    # Enough to be writing (or blocked on a full pipe) when the reader dies.
    running = start_writers(impl, fifo_path, processes, threads, 20000, 60, max_wait=max_wait)
    while reader.recorded() < 100000:
        time.sleep(0.002)
    reader.kill()
    killed = time.time()
    # Every thread of every writer gives up with FifoNotCreatedInTimeError; the processes exit.
    running.wait(errors=["FifoNotCreatedInTimeError"] * threads)
    seconds = time.time() - killed
    assert seconds < max_wait + 15
    report(capsys, "faults %s: reader killed for good: all %d threads of %d writers raised "
           "FifoNotCreatedInTimeError and exited %.2f s after the kill (max wait %g s)"
           % (impl, threads, processes, seconds, max_wait))


def read_to_eof(fd, deadline):
    """Everything a non-blocking read end gets until every writer has closed the FIFO."""
    chunks = []
    while time.time() < deadline:
        select.select([fd], [], [], 1.0)
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError as error:
            if error.errno == errno.EAGAIN:
                continue
            raise
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    raise AssertionError("the writers did not finish in time")


def fionread(fd):
    """How many bytes wait in the pipe."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
