"""Child interpreters and threads: every one is killed, or fails the test, if it outlives its
timeout, so that a bug fails a test instead of hanging the suite."""
import json
import os
import signal
import subprocess
import textwrap
import threading

import pytest

from support import TESTS

CHILD_TIMEOUT = 30  # seconds before a child interpreter is killed

# What run_child runs before a child's code: fifo mode's helpers, and the workload generator
# the test process checks the lines against.
CHILD_PRELUDE = r'''
import json, os, sys, time
from collections import OrderedDict
import benchmarkai
sys.path.insert(0, %r)  # tests/, for the support package
from support.workload import big_every, blocked_writer, fixed_lines, workload

PATH = os.environ.get("BENCHMARK_AI_FIFO_FILEPATH")


def report(**values):
    """Hand ``values`` to the test on stderr: in fifo mode stdout must stay empty."""
    sys.stderr.write("RESULT " + json.dumps(values) + "\n")
    sys.stderr.flush()


def timed_emit(metrics):
    """emit(metrics), and what came of it: error type and message, and the seconds it took."""
    started = time.time()
    try:
        benchmarkai.emit(metrics)
    except Exception as error:
        return {"error": type(error).__name__, "message": str(error),
                "fifo_error": isinstance(error, benchmarkai.FifoNotCreatedInTimeError),
                "seconds": time.time() - started}
    return {"error": None, "seconds": time.time() - started}
''' % TESTS


def run(args, env=None, timeout=30, stdin=None, **options):
    """subprocess.run for Python 2 too: (returncode, stdout, stderr), as text; ``options`` go
    to Popen. After ``timeout`` the child is killed with every process it started (its own
    process group): a forked grandchild that hangs would otherwise keep the pipes, and the
    test, open forever."""
    process = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, preexec_fn=os.setsid,
                               **options)
    timer = threading.Timer(timeout, _kill_group, [process.pid])
    timer.start()
    try:
        out, err = process.communicate(stdin)
    finally:
        timer.cancel()
    return process.returncode, out, err


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # already gone
        pass


def fifo_env(path, max_wait=3.0, step=0.02, mode="fifo"):
    """The environment that puts a child in fifo mode on ``path``."""
    return {"BENCHMARK_AI": mode, "BENCHMARK_AI_FIFO_FILEPATH": path,
            "BENCHMARK_AI_FIFO_MAX_WAIT_TIME": str(max_wait),
            "BENCHMARK_AI_FIFO_WAIT_TIME_STEP": str(step)}


def run_child(impl, code, timeout=CHILD_TIMEOUT, **variables):
    """Run CHILD_PRELUDE + ``code`` in a child interpreter using ``impl``, with ``variables``
    in its environment; check it succeeded and wrote nothing to stdout (in fifo mode nothing
    goes there); return the dict it last report()ed."""
    returncode, out, err = impl.python(CHILD_PRELUDE + textwrap.dedent(code), timeout=timeout, **variables)
    assert returncode == 0, "the child exited with %s (-9: killed after %s s): %s" % (returncode, timeout, err)
    assert out == "", "fifo mode wrote to stdout: %r" % out[:300]
    results = [json.loads(line[len("RESULT "):]) for line in err.splitlines() if line.startswith("RESULT ")]
    return results[-1] if results else {}


def daemon(target, *args):
    """target(*args) in a daemon thread, started."""
    thread = threading.Thread(target=target, args=args)
    thread.daemon = True
    thread.start()
    return thread


class Background(object):
    """``function(*args, **kwargs)`` in a thread; ``result()`` returns its value or raises its error."""

    def __init__(self, function, *args, **kwargs):
        self._outcome = []

        def target():
            try:
                self._outcome.append((True, function(*args, **kwargs)))
            except BaseException as error:
                self._outcome.append((False, error))

        self._thread = daemon(target)

    def done(self):
        return bool(self._outcome)

    def result(self, timeout=CHILD_TIMEOUT + 10):
        self._thread.join(timeout)
        if not self._outcome:
            pytest.fail("still running after %s s" % timeout)
        ok, value = self._outcome[0]
        if not ok:
            raise value
        return value
