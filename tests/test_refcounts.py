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
import decimal
import fractions
import gc
import os
import sys
import warnings
import weakref

import pytest
import six
from conftest import PYPY

try:
    import numpy
except ImportError:  # no numpy wheel for this interpreter
    numpy = None

from benchmarkai import FifoNotCreatedInTimeError
from benchmarkai._config import FifoSettings
from benchmarkai._fifo import PIPE_BUF, Fifo

# PyPy has no reference counts to audit: no sys.getrefcount, and its garbage collector moves
# and frees objects on a schedule of its own (weakrefs die only at a collection), so neither
# the counts nor "freed when dropped" can be checked there.
pytestmark = pytest.mark.skipif(PYPY, reason="PyPy has no reference counts (no sys.getrefcount)")

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping

CALLS = 200


def text(*parts):
    """A new (not interned) text object."""
    return u"".join(parts)


def big(exponent):
    """10 ** exponent, made at run time (never a cached small int, except 1 for exponent 0)."""
    return 10 ** exponent


class Sink(object):
    """sys.stdout for the stdout-mode cases: takes every line, keeps none."""

    def __init__(self):
        self.written = 0

    def write(self, line):
        self.written += len(line)

    def flush(self):
        pass


class ClosedSink(Sink):
    def write(self, line):
        raise ValueError("I/O operation on closed file")


class Convertible(object):
    """A number through its dunders, returning the objects given, or raising a new error of
    the exception class given (a raised instance would keep its traceback, and us in it)."""

    def __init__(self, index=None, to_float=None):
        self._index = index
        self._to_float = to_float

    def __float__(self):
        return _give(self._to_float)


class Indexable(Convertible):
    def __index__(self):
        return _give(self._index)


class IndexOnly(object):
    def __init__(self, index):
        self._index = index

    def __index__(self):
        return _give(self._index)


def _give(result):
    if isinstance(result, type) and issubclass(result, Exception):
        raise result("refused")
    return result


class Pairs(Mapping):
    """A Mapping that yields the pairs it is given, repeated names included."""

    def __init__(self, pairs):
        self._pairs = pairs

    def __getitem__(self, name):
        return dict(self._pairs)[name]

    def __iter__(self):
        return iter([name for name, _ in self._pairs])

    def __len__(self):
        return len(self._pairs)

    def items(self):
        return list(self._pairs)


class Names(dict):
    pass


class Name(six.text_type):
    pass


class Float(float):
    pass


class Int(int):
    pass


class BigInt(six.integer_types[-1]):  # long on Python 2, where an int holds no more than a C long
    pass


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

def accepted():
    cases = [
        ("float", {text(u"loss"): float(text(u"0.1"))}),
        ("int", {text(u"step"): big(3) + 7}),
        ("long long edge", {text(u"a"): 2 ** 63 - 1 + big(0) - 1, text(u"b"): -2 ** 63 + big(0) - 1}),
        ("int past long long", {text(u"n"): 2 ** 63 + big(0)}),
        ("int past 2**64", {text(u"n"): big(40), text(u"m"): -big(30)}),
        ("escaped name", {text(u"\xe9\U0001F600\n\"\\\x00\udc00"): 1.5 + big(0)}),
        ("long line", {text(u"k%04d" % i): float(i) for i in range(800)}),  # past the 8 kB stack buffer
        ("float subclass", {text(u"f"): Float(2.5)}),
        ("int subclass", {text(u"i"): Int(big(2))}),
        ("str subclass name", {Name(u"name"): 1.0 + big(0)}),
        ("decimal", {text(u"d"): decimal.Decimal(text(u"0.3"))}),
        ("fraction", {text(u"q"): fractions.Fraction(1, 3)}),
        ("__index__", {text(u"x"): Indexable(index=big(25))}),
        ("__float__", {text(u"y"): Convertible(to_float=float(text(u"1.25")))}),
        ("__float__ gives a float subclass", {text(u"y"): Convertible(to_float=Float(3.5))}),
        ("__index__ refuses, __float__ serves", {text(u"z"): Indexable(index=TypeError, to_float=0.5 + big(0))}),
        ("OrderedDict", collections.OrderedDict([(text(u"a"), 1.0 + big(0)), (text(u"b"), big(1))])),
        ("dict subclass", Names({text(u"a"): 1.0 + big(0)})),
        ("Mapping", Pairs([(text(u"a"), 2.0 + big(0))])),
        # Drop-in for 0.1: str, bool, None and containers, on the fast path and off it.
        ("str value", {text(u"s"): text(u"20.34"), text(u"t"): text(u"caf\xe9 \U0001F600\n")}),
        ("bool and None", {text(u"yes"): True, text(u"no"): False, text(u"none"): None}),
        ("empty name", {text(u""): text(u"x")}),
        ("str subclass value", {text(u"s"): Name(u"held")}),
        ("list and tuple", {text(u"l"): [1.0 + big(0), text(u"x"), None, [big(30)]],
                            text(u"t"): (big(2), Float(0.5))}),
        ("nested mapping", {text(u"n"): {text(u"a"): {text(u"b"): [True, Indexable(index=big(25))]}}}),
        ("nested Mapping", {text(u"n"): Pairs([(text(u"a"), 2.0 + big(0))])}),
        ("int, float, bool and None names", collections.OrderedDict(
            [(big(3), 1.0 + big(0)), (0.5 + big(0), 1), (True, 2), (None, 3)])),
    ]
    # The compiled fast path's other numbers (issue 11): each conversion's result, a failure
    # left to _validation, a result too big or of a subclass.
    cases += [
        ("__index__ on the fast path", {text(u"x"): IndexOnly(big(3) + 1)}),
        ("__index__ gives an int subclass", {text(u"x"): IndexOnly(Int(big(2)))}),
        ("int subclass past long long", {text(u"i"): BigInt(big(30))}),
    ]
    if numpy is not None:
        cases += [
            ("numpy.float32", {text(u"f"): numpy.float32(big(0) + 0.5)}),
            ("numpy.int64", {text(u"i"): numpy.int64(big(2))}),
            ("numpy.uint64 past long long", {text(u"u"): numpy.uint64(2 ** 64 - 1)}),
            ("numpy.bool_", {text(u"t"): numpy.bool_(big(0)), text(u"f"): numpy.bool_(big(0) - 1)}),
            ("0-d arrays", {text(u"a"): numpy.array(big(0) + 0.5), text(u"b"): numpy.array(big(2))}),
            ("0-d arrays not read from their data", {
                text(u"h"): numpy.array(big(0) + 0.5, dtype=numpy.float16),
                text(u"u"): numpy.array(2 ** 64 - 1, dtype=numpy.uint64),
                text(u"s"): numpy.array(big(0) + 0.5, dtype=numpy.dtype("f8").newbyteorder("S"))}),
        ]
    if six.PY2:
        cases.append(("bytes name", {"".join(["by", "tes"]): 1.0 + big(0)}))
    return cases


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

class Recursive(list):
    pass


def recursive_list():
    value = Recursive()
    value.append(value)
    return value


def recursive_dict():
    value = Names({text(u"a"): 1.0 + big(0)})
    value[text(u"me")] = [value]
    return value


def rejected():
    cases = [
        ("not a mapping", [(text(u"a"), 1.0 + big(0))], TypeError),
        ("empty", {}, ValueError),
        ("empty OrderedDict", collections.OrderedDict(), ValueError),
        ("name not a string", {(text(u"a"),): 1.0 + big(0)}, TypeError),
        ("name not a string, after a good one", collections.OrderedDict(
            [(text(u"ok"), 1.0 + big(0)), ((text(u"a"),), 2.0 + big(0))]), TypeError),
        ("bytearray value", {text(u"b"): bytearray(b"0.5")}, TypeError),
        ("set value", {text(u"s"): set([1.0 + big(0)])}, TypeError),
        ("nested bad value", {text(u"l"): [1.0 + big(0), {text(u"x"): object()}]}, TypeError),
        ("recursive value", {text(u"r"): recursive_list()}, ValueError),
        ("recursive mapping", recursive_dict(), ValueError),
        ("two names of the same text", collections.OrderedDict(
            [(big(2), 1.0 + big(0)), (text(u"100"), 2.0 + big(0))]), ValueError),
        ("bad value after a good one", collections.OrderedDict(
            [(text(u"ok"), 1.0 + big(0)), (text(u"bad"), object())]), TypeError),
        ("__index__ raises", {text(u"x"): Indexable(index=ValueError)}, ValueError),
        ("__float__ raises", {text(u"x"): Convertible(to_float=ArithmeticError)}, ValueError),
        ("__float__ returns a str", {text(u"x"): Convertible(to_float=text(u"1.0"))}, TypeError),
        ("__index__ returns a str", {text(u"x"): Indexable(index=text(u"1"))}, TypeError),
        ("__index__ raises TypeError, no __float__", {text(u"x"): IndexOnly(TypeError)}, TypeError),
        ("__index__ raises TypeError, __float__ raises", {text(u"x"): Indexable(TypeError, ValueError)}, ValueError),
        ("__float__ raises TypeError", {text(u"x"): Convertible(to_float=TypeError)}, TypeError),
        ("no conversion", {text(u"x"): object()}, TypeError),
        ("duplicate name", Pairs([(text(u"a"), 1.0 + big(0)), (text(u"a"), 2.0 + big(0))]), ValueError),
    ]
    if hasattr(sys, "get_int_max_str_digits"):
        cases.append(("int with too many digits", {text(u"n"): big(5000)}, ValueError))
    return cases


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

