"""A signal whose handler raises, delivered while emit() is blocked on a full pipe: the
handler's error reaches emit's caller at once, and the line that was waiting is not written.

The FIFO's descriptor is non-blocking, so emit waits for room in poll(); a descriptor made
blocking (as another process sharing the open file may make it) blocks in write(2) itself,
which a signal interrupts with EINTR: the tests use both. Catches an EINTR retried without
running Python's signal handlers (the compiled module's PyErr_CheckSignals skipped): the
handler would then run only once the reader made room, long after the signal.
"""
import errno
import fcntl
import os
import select
import signal
import subprocess
import sys
import time

import pytest


class Interrupted(Exception):
    pass


def fill(fd):
    """Write to the non-blocking ``fd`` until its pipe has no room for another line."""
    chunk = b"#" * select.PIPE_BUF
    while True:
        try:
            os.write(fd, chunk)
        except OSError as error:
            if error.errno != errno.EAGAIN:
                raise
            return


def drain(fd, seconds):
    """Read what the pipe of the non-blocking ``fd`` holds, for ``seconds``; return it."""
    data = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            data.append(os.read(fd, 1 << 16))
        except OSError as error:
            if error.errno != errno.EAGAIN:
                raise
            time.sleep(0.005)
    return b"".join(data)


RESCUE = """
import os, sys, time
time.sleep(3)
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
deadline = time.time() + 1
while time.time() < deadline:
    try:
        os.read(fd, 1 << 16)
    except OSError:
        time.sleep(0.005)
"""


def on_alarm(signum, frame):
    raise Interrupted()


@pytest.mark.parametrize("descriptor", ["non-blocking", "blocking"])
def test_a_raising_signal_handler_interrupts_a_blocked_emit(impl, in_process_fifo, descriptor):
    in_process_fifo.emit({"opened": 1})
    assert in_process_fifo.read() == b'{"opened":1}\n'
    fd = in_process_fifo.fifo.fd
    fill(fd)
    if descriptor == "blocking":
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    # Under the bug the emit would block until the pipe has room: a process of its own (the
    # blocked write may hold this one's GIL) makes some after 3 s.
    rescue = subprocess.Popen([sys.executable, "-c", RESCUE, in_process_fifo.path])
    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        started = time.time()
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(Interrupted):
            in_process_fifo.emit({"blocked": 1})
        elapsed = time.time() - started
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        rescue.kill()
        rescue.wait()
    assert elapsed < 2.0, "the handler's error came %.1f s after the signal" % elapsed
    assert b"blocked" not in drain(in_process_fifo.read_fd, 0.1)
