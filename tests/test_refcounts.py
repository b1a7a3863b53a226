"""Reference counts: emit() keeps no reference to what it is given and releases none it does
not own, on every success and every error path, in both implementations.

Each case calls emit() many times to warm up (caches and free lists fill), then as many more, and
checks that the reference count of the mapping, of every name and value and of what their
conversions return is exactly where it was: a leaked reference per call shows as +CALLS, an
over-released one as a negative change (or a crash). On Python 3, the count of allocated
memory blocks must not grow with the calls either. Watched objects are made at run time, so
that none is immortal (Python 3.12+) or shared with the interpreter.
"""
import collections
import gc
import os
import sys
import warnings
import weakref

import pytest
import six
from support.cases import Convertible, Float, Name, Names, Sink, accepted, big, rejected, text
from support.implementations import PYPY

from benchmarkai import FifoNotCreatedInTimeError
from benchmarkai._config import FifoSettings
from benchmarkai._fifo import PIPE_BUF, Fifo

# PyPy has no reference counts to audit: no sys.getrefcount, and its garbage collector moves
# and frees objects on a schedule of its own (weakrefs die only at a collection), so neither
# the counts nor "freed when dropped" can be checked there.
pytestmark = pytest.mark.skipif(PYPY, reason="PyPy has no reference counts (no sys.getrefcount)")

CALLS = 200


class ClosedSink(Sink):
    def write(self, line):
        raise ValueError("I/O operation on closed file")


def watched(metrics):
    """The objects emit(metrics) touches: the mapping, its names and values, and what the
    values' conversions hold."""
    objects = [metrics]
    for name, value in (metrics.items() if hasattr(metrics, "items") else metrics):
        objects += [name, value]
        objects += [held for held in (getattr(value, "_index", None), getattr(value, "_to_float", None))
                    if held is not None]
    # Not None, True or False: shared by the whole interpreter, whose other work moves their counts.
    return [thing for thing in objects if thing is not None and thing is not True and thing is not False]


def refcount_changes(emit, metrics, calls=CALLS):
    """(what emit(metrics) gave: None or the error type, the refcount change of each watched
    object after ``calls`` calls, the growth in allocated memory blocks or None)."""
    objects = watched(metrics)

    def attempt():
        try:
            emit(metrics)
        except Exception as error:
            return type(error)
        return None

    with warnings.catch_warnings():
        # Python 3's float() warns about a float subclass; a recorded warning is a new block.
        warnings.simplefilter("ignore", DeprecationWarning)
        return _measure(attempt, objects, calls)


def settle():
    # Python 2's OrderedDict is a cycle: what it holds is freed by the collector, not at once.
    # With automatic collection off (see _measure), every cycle the calls made is young.
    gc.collect(0)
    # The type attribute cache keeps the names it was asked for, and reprlib (error messages)
    # asks for a new "repr_<type>" string each time: cached, not leaked, but counted as blocks.
    sys._clear_type_cache()


def _measure(attempt, objects, calls):
    # No automatic collection meanwhile: what the calls create stays in the youngest generation,
    # which settle() collects at a fraction of a full collection's cost (this runs ~200 times).
    enabled = gc.isenabled()
    gc.disable()
    try:
        # Warm up as long as we measure: the first error paths of a run fill caches and free lists.
        outcome = attempt()
        for _ in range(calls):
            attempt()
        blocks = getattr(sys, "getallocatedblocks", None)
        settle()
        blocks_before = blocks() if blocks else None
        before = [sys.getrefcount(thing) for thing in objects]
        for _ in range(calls):
            assert attempt() is outcome
        settle()
        after = [sys.getrefcount(thing) for thing in objects]
        growth = blocks() - blocks_before if blocks else None
    finally:
        if enabled:
            gc.enable()
    return outcome, [(repr(thing)[:60], a - b) for thing, a, b in zip(objects, after, before) if a != b], growth


def assert_balanced(emit, metrics, expected):
    outcome, changed, growth = refcount_changes(emit, metrics)
    assert outcome is expected
    assert changed == [], "references changed over %d calls: %s" % (CALLS, changed)
    if growth is not None:
        assert growth < CALLS // 4, "%d more memory blocks after %d calls" % (growth, CALLS)


# --- What emit accepts: every kind of value, on the fast and the general path ---

@pytest.mark.parametrize("label,metrics", accepted(), ids=[label for label, _ in accepted()])
def test_accepted_values_keep_references_balanced(impl, monkeypatch, label, metrics):
    sink = Sink()
    monkeypatch.setattr(sys, "stdout", sink)
    assert_balanced(impl.emitter().emit, metrics, None)
    assert sink.written > 0


@pytest.mark.parametrize("label,metrics", accepted(), ids=[label for label, _ in accepted()])
def test_accepted_values_keep_references_balanced_in_fifo_mode(impl, in_process_fifo, label, metrics):
    # Drained every call, so the pipe never fills; lines longer than PIPE_BUF are split here.
    def emit(metrics):
        in_process_fifo.emit(metrics)
        assert in_process_fifo.read()

    assert_balanced(emit, metrics, None)


# --- Every error path ---

@pytest.mark.parametrize("label,metrics,error", rejected(), ids=[label for label, _, _ in rejected()])
def test_every_error_keeps_references_balanced(impl, monkeypatch, label, metrics, error):
    sink = Sink()
    monkeypatch.setattr(sys, "stdout", sink)
    assert_balanced(impl.emitter().emit, metrics, error)
    assert sink.written == 0


@pytest.mark.parametrize("mapping_type", [dict, collections.OrderedDict])
def test_pair_too_long_keeps_references_balanced(impl, in_process_fifo, mapping_type):
    metrics = mapping_type([(text(u"ok"), 1.0 + big(0)), (text(u"n" * PIPE_BUF), 2.0 + big(0))])
    assert_balanced(in_process_fifo.emit, metrics, ValueError)
    assert in_process_fifo.read() == b""


def test_failing_stdout_keeps_references_balanced(impl, monkeypatch):
    monkeypatch.setattr(sys, "stdout", ClosedSink())
    assert_balanced(impl.emitter().emit, {text(u"a"): 1.0 + big(0)}, ValueError)


def test_reader_gone_for_good_keeps_references_balanced(impl, fifo_path):
    # No reader comes back and there is no time to wait: every call meets EPIPE, then gives up.
    read_fd = os.open(fifo_path, os.O_RDONLY | os.O_NONBLOCK)
    fifo = Fifo(FifoSettings(fifo_path, max_wait=0.0, step=0.01))
    emit = impl.emitter(fifo).emit
    try:
        emit({u"first": 1.0})
        os.close(read_fd)
        metrics = {text(u"k%d" % i): float(i) for i in range(400)}  # two lines
        assert_balanced(emit, metrics, FifoNotCreatedInTimeError)
    finally:
        os.close(fifo.fd)


def test_failing_write_keeps_references_balanced(impl, in_process_fifo):
    # A read-only descriptor in the FIFO's place: write(2) fails with EBADF, an OSError.
    in_process_fifo.emit({u"first": 1.0})
    read_only = os.open(os.devnull, os.O_RDONLY)
    os.dup2(read_only, in_process_fifo.fifo.fd)
    os.close(read_only)
    assert_balanced(in_process_fifo.emit, {text(u"a"): 1.0 + big(0)}, OSError)


# --- Nothing is kept once emit returns ---

def emitted_and_dropped(emit, fails):
    """Weak references to what emit() was given, once the caller has dropped it all."""
    name = Name(u"metric")
    value = Convertible(to_float=ValueError if fails else 0.5)
    metrics = Names([(name, value), (text(u"plain"), Float(1.0))])
    refs = [weakref.ref(name), weakref.ref(value), weakref.ref(metrics), weakref.ref(metrics[u"plain"])]
    try:
        emit(metrics)
    except ValueError:
        assert fails
    return refs


@pytest.mark.parametrize("fails", [False, True], ids=["accepted", "rejected"])
def test_nothing_is_kept_after_emit(impl, monkeypatch, fails):
    monkeypatch.setattr(sys, "stdout", Sink())
    refs = emitted_and_dropped(impl.emitter().emit, fails)
    if six.PY2:
        gc.collect()  # Python 2's OrderedDict, which the copy of the mapping is, is a cycle
    # No reference left behind; on Python 3, no cycle made either: reference counting frees all.
    assert [ref() for ref in refs] == [None] * len(refs)


def test_emitter_keeps_only_its_fifo(impl, in_process_fifo):
    emitter = impl.emitter(in_process_fifo.fifo)
    ref = weakref.ref(emitter) if hasattr(type(emitter), "__weakref__") else None
    fifo = in_process_fifo.fifo
    before = sys.getrefcount(fifo)
    emitter.emit({u"a": 1.0})
    after_emit = sys.getrefcount(fifo)
    del emitter
    after_del = sys.getrefcount(fifo)
    assert (after_emit, after_del) == (before, before - 1)
    assert ref is None or ref() is None
    assert in_process_fifo.lines() == [{u"a": 1.0}]

