"""What the reliability suites share: sizes from the environment, writer and reader
processes over a real FIFO, and a line of figures for the report."""
import os
import signal
import subprocess
import sys
import threading
import time

from support import TESTS
from support.children import Background, fifo_env, run_child
from support.workload import writer_name

RECORDER = os.path.join(TESTS, "reliability", "recording_reader.py")

# Run by each writer process (after children.CHILD_PRELUDE): THREADS threads, each emitting
# its COUNT mappings through the public benchmarkai.emit, then a report of how it went:
# seconds, the longest emit() and the type of each error that stopped a thread.
WRITER = '''
import threading
from support.workload import STRESS_SIZES, writer_name

errors = []
longest = [0.0]  # the longest a single emit() took


def write(mappings):
    try:
        for metrics in mappings:
            before = time.time()
            benchmarkai.emit(metrics)
            longest[0] = max(longest[0], time.time() - before)
    except Exception as error:
        errors.append(type(error).__name__)


work = [workload(writer_name(%(process)d, thread), %(count)d, STRESS_SIZES) for thread in range(%(threads)d)]
threads = [threading.Thread(target=write, args=(mappings,)) for mappings in work]
started = time.time()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
report(seconds=time.time() - started, errors=errors, longest=longest[0])
'''


def size(variable, default):
    """An integer setting: the environment's ``variable``, else ``default`` (the short run)."""
    return int(os.environ.get(variable, default))


def start_writers(impl, path, processes, threads, count, timeout, max_wait=30.0):
    """``processes`` child interpreters, each with ``threads`` threads emitting ``count``
    mappings into the FIFO at ``path``; wait() returns their reports."""
    code = [WRITER % {"process": process, "threads": threads, "count": count}
            for process in range(processes)]
    variables = fifo_env(path, max_wait=max_wait, step=0.02)
    running = [Background(run_child, impl, source, timeout, **variables) for source in code]
    counts = dict((writer_name(process, thread), count) for process in range(processes) for thread in range(threads))
    return Writers(running, counts, timeout)


class Writers(object):
    def __init__(self, running, counts, timeout):
        self._running = running
        self.counts = counts  # writer -> the number of mappings it emits
        self._timeout = timeout

    def done(self):
        return all(child.done() for child in self._running)

    def wait(self, errors=()):
        """The writers' reports, once they exited; each must have met exactly ``errors``."""
        reports = [child.result(self._timeout + 10) for child in self._running]
        assert [report["errors"] for report in reports] == [list(errors)] * len(reports)
        return reports


class Recorder(object):
    """recording_reader.py in its own process, recording into ``record``; killed after ``timeout``."""

    def __init__(self, path, record, timeout):
        self.record = record
        self.process = subprocess.Popen([sys.executable, RECORDER, path, record], stderr=subprocess.PIPE)
        self._watchdog = threading.Timer(timeout, self.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    def wait_open(self):
        assert self.process.stderr.readline() == b"open\n"

    def recorded(self):
        """How many bytes it recorded so far."""
        try:
            return os.path.getsize(self.record)
        except OSError:
            return 0

    def kill(self):
        if self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
        self._reap()

    def finish(self):
        """Wait for EOF; assert the reader ended by itself; return what it recorded."""
        self._reap()
        assert self.process.returncode == 0, "the reader was killed or failed: %s" % self.process.returncode
        with open(self.record, "rb") as record:
            return record.read()

    def _reap(self):
        self.process.wait()
        self._watchdog.cancel()
        self.process.stderr.close()


def report(capsys, text):
    """Print a line of figures, whatever pytest captures (docs/reliability.md quotes them)."""
    with capsys.disabled():
        sys.stdout.write("\n%s %s\n" % (time.strftime("%H:%M:%S"), text))
        sys.stdout.flush()
