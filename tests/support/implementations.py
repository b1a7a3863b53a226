"""The implementations every behavioural test runs against, through conftest's ``impl``:

- ``cython``: the compiled benchmarkai._fastemit. Missing, it fails the test, unless
  BENCHMARK_AI_PURE_PYTHON is set (a pure-Python install) or this is PyPy (setup.py builds
  no extension there), where it is skipped;
- ``python``: the pure-Python fallback as installed (with ujson importable, where it is: the
  fallback writes json's text all the same).

The parity tests add ``python-pypy`` (pypy_fallback()): the fallback as it runs on PyPy.
"""
import errno
import json
import os
import sys
import textwrap

import pytest

from benchmarkai import _config, _fallback
from benchmarkai._fifo import Fifo
from support.children import run

IMPLEMENTATIONS = ("cython", "python")
PYPY = _config.on_pypy()


class Implementation(object):
    """One implementation: how to make its Emitter in this process, and how to select it in a
    child (cython and python)."""

    def __init__(self, name, new_emitter):
        self.name = name
        self._new_emitter = new_emitter  # fifo (or None: stdout) -> an Emitter

    def __repr__(self):
        return self.name

    def emitter(self, fifo=None):
        return self._new_emitter(fifo)

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


def implementation(name):
    """The Implementation called ``name``, one of IMPLEMENTATIONS."""
    if name == "cython":
        return Implementation(name, fastemit_or_fail().Emitter)
    return Implementation(name, _fallback.Emitter)


def pypy_fallback():
    """The fallback with the text functions it takes on PyPy (plain Python), on any Python:
    every Python checks them, against the others."""
    text_functions = _fallback._pypy_text_functions()
    return Implementation("python-pypy", lambda fifo=None: _fallback.Emitter(fifo, text_functions))


def fastemit_or_fail():
    try:
        from benchmarkai import _fastemit
    except ImportError as error:
        if _config.pure_python_requested():
            pytest.skip("BENCHMARK_AI_PURE_PYTHON is set: this is a pure-Python install")
        if PYPY:
            pytest.skip("PyPy: setup.py builds no extension there, the fallback serves")
        pytest.fail("benchmarkai._fastemit should be built but does not import: %s" % error)
    return _fastemit


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


def every_emitter(directory):
    """(name, stdout emitter, InProcessFifo) for every implementation and python-pypy, each
    over a real FIFO of its own made in ``directory`` (conftest's ``emitters``; and
    tests/reliability/atheris_fastemit.py, outside pytest)."""
    found = []
    for impl in [implementation(name) for name in IMPLEMENTATIONS] + [pypy_fallback()]:
        path = os.path.join(directory, impl.name)
        os.mkfifo(path)
        found.append((impl.name, impl.emitter(), InProcessFifo(path, impl)))
    return found
