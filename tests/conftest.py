"""One fixture, ``impl``, runs every behavioural test against each implementation:

- ``cython``: the compiled benchmarkai._fastemit. Missing, it fails the test, unless
  BENCHMARK_AI_PURE_PYTHON is set (a pure-Python install) or this is PyPy (setup.py builds
  no extension there), where it is skipped;
- ``python``: the pure-Python fallback as installed (with ujson importable, where it is: the
  fallback writes json's text all the same).
"""
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from benchmarkai import _config, _fallback
from benchmarkai._fifo import Fifo

IMPLEMENTATIONS = ("cython", "python")
PYPY = _config.on_pypy()
HERE = os.path.dirname(os.path.abspath(__file__))
READER = os.path.join(HERE, "fifo_reader.py")


def _load_fallback_copy(name):
    """A second copy of the fallback module, loaded afresh as ``name``."""
    if sys.version_info >= (3, 5):
        import importlib.util
        spec = importlib.util.spec_from_file_location(name, _fallback.__file__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    import imp
    return imp.load_source(name, _fallback.__file__.replace(".pyc", ".py"))


def load_fallback_as_on_pypy():
    """A copy of the fallback as PyPy loads it, on any Python: its own one-pass text function
    (plain Python: every Python can check it against the fallback json writes with)."""
    saved = _config.on_pypy
    _config.on_pypy = lambda: True
    try:
        return _load_fallback_copy("benchmarkai._fallback_pypy")
    finally:
        _config.on_pypy = saved


# The reliability suites (stress, faults, fuzz, leaks) are long: "pytest tests" leaves them
# out, their own tox envs name them (pytest tests/reliability/test_stress.py).
collect_ignore = ["reliability"]


class Implementation(object):
    """One implementation: its module in this process, and how to select it in a child."""

    def __init__(self, name, module):
        self.name = name
        self.module = module

    def __repr__(self):
        return self.name

    def emitter(self, fifo=None):
        return self.module.Emitter(fifo)

    def environ(self, **variables):
        """os.environ for a child that uses this implementation, plus ``variables``."""
        environ = dict(os.environ)
        environ.pop("BENCHMARK_AI", None)
        environ["BENCHMARK_AI_PURE_PYTHON"] = "0" if self.name == "cython" else "1"
        environ.update(variables)
        return environ

    def code(self, code):
        """``code`` for ``python -c``, preceded by what makes benchmarkai use this implementation
        there (run it with ``environ()``)."""
        return "import benchmarkai\nassert benchmarkai.implementation == %r\n" % self.name + textwrap.dedent(code)

    def python(self, code, timeout=30, stdin=None, **variables):
        """Run ``code`` in a child Python that imports benchmarkai with this implementation;
        return (returncode, stdout, stderr) as text. The child is killed after ``timeout``."""
        return run([sys.executable, "-c", self.code(code)],
                   env=self.environ(**variables), timeout=timeout, stdin=stdin)


def run(args, env=None, timeout=30, stdin=None):
    """subprocess.run for Python 2 too: (returncode, stdout, stderr). After ``timeout`` the
    child is killed with every process it started (its own process group): a forked
    grandchild that hangs would otherwise keep the pipes, and the test, open forever."""
    process = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, preexec_fn=os.setsid)
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


def _fastemit_or_fail():
    try:
        from benchmarkai import _fastemit
    except ImportError as error:
        if _config.pure_python_requested():
            pytest.skip("BENCHMARK_AI_PURE_PYTHON is set: this is a pure-Python install")
        if PYPY:
            pytest.skip("PyPy: setup.py builds no extension there, the fallback serves")
        pytest.fail("benchmarkai._fastemit should be built but does not import: %s" % error)
    return _fastemit


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request):
    if request.param == "cython":
        return Implementation("cython", _fastemit_or_fail())
    return Implementation("python", _fallback)


@pytest.fixture
def fifo_path(tmp_path):
    path = str(tmp_path / "metrics.fifo")
    os.mkfifo(path)
    return path


class InProcessFifo(object):
    """A real FIFO read from this process through a non-blocking descriptor, for tests
    that only need to see what one emitter wrote."""

    def __init__(self, path, impl):
        self.path = path
        self.read_fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.fifo = Fifo(_config.FifoSettings(path, max_wait=1.0, step=0.01))
        self.emit = impl.emitter(self.fifo).emit

    def read(self):
        """Everything written since the last read, as bytes."""
        chunks = []
        while True:
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except OSError as error:
                if error.errno == errno.EAGAIN:
                    break
                raise
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def lines(self):
        """The JSON objects written since the last read, in order."""
        return [json.loads(line) for line in self.read().decode("ascii").splitlines()]

    def close(self):
        for fd in (self.fifo.fd, self.read_fd):
            if fd >= 0:
                os.close(fd)


@pytest.fixture
def in_process_fifo(fifo_path, impl):
    pipe = InProcessFifo(fifo_path, impl)
    yield pipe
    pipe.close()
