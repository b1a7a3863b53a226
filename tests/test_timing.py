"""Behaviour that shows only in time or CPU, not in the lines written: a full pipe waited for
without spinning, readers replaced and then gone for good, a stale recovery that returns at
once, and ``benchmarkai run --drain-timeout`` honoured.

Each of these bugs wrote every line right in a mutation run (docs/mutation.md), so each test
measures the time or the CPU time itself, with bounds generous enough for a loaded machine.
Whatever could spin forever under a bug runs in a child interpreter that is killed at its
timeout, so the bug fails the test instead of stalling the suite.
"""
import os
import re
import sys
import time

import pytest
from support.children import fifo_env, run, run_child

from benchmarkai._config import FifoSettings
from benchmarkai._fifo import Fifo

CHILD_TIMEOUT = 15  # seconds before a child is killed: a spinning one, say

# Child code, after run_child's prelude: the CPU time this process has used, all threads, in seconds.
CPU = "def cpu():\n    times = os.times()\n    return times[0] + times[1]\n"

FULL_PIPE = CPU + '''
import select
read_fd = os.open(PATH, os.O_RDONLY | os.O_NONBLOCK)
benchmarkai.emit({"opened": 1})
line = {"x" * (select.PIPE_BUF - 10): 1}  # one pipe-sized line: the pipe fills in a few hundred
stop = []

def lines():
    while not stop:
        yield line

writer, emitted = blocked_writer(lines())
cpu_before, wall_before = cpu(), time.time()
time.sleep(0.6)
cpu_used, wall = cpu() - cpu_before, time.time() - wall_before
blocked_at = emitted()
stop.append(True)
received = 0
while writer.is_alive() or received < (blocked_at + 1) * len(json.dumps(line)):
    try:
        received += len(os.read(read_fd, 1 << 16))
    except OSError:
        time.sleep(0.001)
report(cpu=cpu_used, wall=wall, blocked_at=blocked_at)
'''


def test_an_emit_waiting_for_room_uses_no_cpu(impl, fifo_path):
    """A thread's emit waits for room in a full pipe while the process measures its own CPU
    time for 0.6 s: a wait for room costs next to none. Catches a full pipe answered by retrying
    the write in a loop (one core at 100%, every line still written)."""
    result = run_child(impl, FULL_PIPE, timeout=CHILD_TIMEOUT, **fifo_env(fifo_path, max_wait=5, step=0.05))
    assert result["blocked_at"] > 100, result  # the pipe (1 MiB, or 64 KiB) did fill first
    assert result["cpu"] < 0.15 * result["wall"], "the waiting emit burnt CPU: %r" % result


READERS_COME_AND_GO = CPU + '''
import threading
from benchmarkai import FifoNotCreatedInTimeError
received = []
read_fd = os.open(PATH, os.O_RDONLY | os.O_NONBLOCK)
for reader in (1, 2, 3):
    if reader > 1:  # the last reader left: this emit meets EPIPE and waits for the next one
        readers = []
        opener = threading.Timer(0.2, lambda: readers.append(os.open(PATH, os.O_RDONLY | os.O_NONBLOCK)))
        opener.start()
    benchmarkai.emit({"reader": reader})
    if reader > 1:
        opener.join()
        read_fd = readers[0]
    received.append(os.read(read_fd, 4096).decode("ascii"))
    os.close(read_fd)
cpu_before, started = cpu(), time.time()
try:
    benchmarkai.emit({"lost": 1})
    error = None
except FifoNotCreatedInTimeError as caught:
    error = str(caught)
report(received=received, error=error, seconds=time.time() - started, cpu=cpu() - cpu_before)
'''


def test_a_reader_replaced_twice_then_gone_for_good(impl, fifo_path):
    """Readers 1, 2 and 3 in turn, each leaving before the next emit: every line reaches the
    reader of its time. Then no reader comes: FifoNotCreatedInTimeError after about the max wait,
    having slept, not spun, meanwhile. Catches generation bookkeeping broken in an emitter or in
    Fifo.recover(): after the second loss, recover() returns at once and the emitter retries
    the write in a loop (100% CPU until a reader returns, forever if none does)."""
    result = run_child(impl, READERS_COME_AND_GO, timeout=CHILD_TIMEOUT,
                       **fifo_env(fifo_path, max_wait=0.5, step=0.05))
    assert result["received"] == ['{"reader":%d}\n' % reader for reader in (1, 2, 3)], result
    assert result["error"] is not None and "no process opened it for reading" in result["error"], result
    assert 0.45 <= result["seconds"] < 3, result
    assert result["cpu"] < 0.3 * result["seconds"], "it spun while waiting: %r" % result


def test_recover_with_a_stale_generation_returns_at_once(fifo_path):
    """Fifo.recover(generation) from a caller that saw an older generation (another thread has
    recovered since) returns at once, with no reader needed and the descriptor unchanged.
    Catches a recover() that ignores the generation: it waits the whole max wait for yet
    another reader (and raises when none comes)."""
    fifo = Fifo(FifoSettings(fifo_path, max_wait=2.0, step=0.01))
    read_fd = os.open(fifo_path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fd = fifo.open()
        os.close(read_fd)
        read_fd = os.open(fifo_path, os.O_RDONLY | os.O_NONBLOCK)  # a reader for one recovery
        fifo.recover(0)
        assert (fifo.fd, fifo.generation) == (fd, 1)
        os.close(read_fd)
        read_fd = -1  # no reader now: a real recovery would wait for one
        started = time.time()
        fifo.recover(0)
        assert time.time() - started < 0.5
        assert (fifo.fd, fifo.generation) == (fd, 1)
    finally:
        for descriptor in (read_fd, fifo.fd):
            if descriptor >= 0:
                os.close(descriptor)


LINGERING = """
import os, subprocess, sys, time
devnull = open(os.devnull, "r+")
lingering = subprocess.Popen([sys.executable, "-c", %r], stdin=devnull, stdout=subprocess.PIPE, stderr=devnull)
assert lingering.stdout.readline() == b"emitted\\n"
sys.stdout.write("%%d %%r\\n" %% (lingering.pid, time.time()))
"""
# Holds the FIFO open (its emit opened it) after its parent, CMD, has exited; killed by the test.
HOLDER = "benchmarkai.emit({'lingering': 1})\nprint('emitted')\nsys.stdout.flush()\ntime.sleep(30)\n"


@pytest.mark.parametrize("impl", ["python"], indirect=True)
def test_the_drain_timeout_given_is_the_one_waited(impl, tmp_path):
    """CMD exits leaving a process that holds the FIFO open: the sidecar stops reading
    ``--drain-timeout`` seconds later, no sooner and not much later. Catches the option
    ignored in favour of the built-in 5 s (the run just takes longer)."""
    drain_timeout = 0.5
    holder = impl.code("import sys, time\n" + HOLDER)
    code = impl.code(LINGERING % holder)
    args = [sys.executable, "-m", "benchmarkai", "run", "--quiet", "--drain-timeout", str(drain_timeout),
            "--", sys.executable, "-c", code]
    returncode, out, err = run(args, env=impl.environ(TMPDIR=str(tmp_path)), timeout=20)
    ended = time.time()
    pid, exited = out.split()
    os.kill(int(pid), 9)
    assert returncode == 0, err
    waited = float(re.search(r"stopped reading ([0-9.]+) s later", err).group(1))
    assert drain_timeout - 0.05 <= waited < drain_timeout + 1.5, err
    assert ended - float(exited) < drain_timeout + 3, err
