"""The values training loops hand emit(): numpy scalars, 0-d arrays, torch tensors, float and int
subclasses, classes with __index__ or __float__. The compiled module writes them on its fast
path (issue 11): every kind must come out byte for byte as the contract's rules write it
(operator.index first, then float(); a float subclass's double; an int subclass's int;
numpy.bool_ true/false), the same from every implementation, in stdout and fifo mode; and the
cache of types it keeps must follow a class whose methods change, and hold no type alive."""
import collections
import gc
import json
import operator
import os
import sys
import weakref

import pytest
import six
from support.cases import Sink
from support.implementations import InProcessFifo
from support.outcomes import fifo_outcome, stdout_outcome

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping

try:
    import numpy
except ImportError:  # no numpy wheel for this interpreter
    numpy = None
try:
    import torch
except ImportError:  # never installed by tox or CI: a local run with torch checks it too
    torch = None


def lying(name, base, conversion, number, text):
    """A subclass of ``base`` whose own methods lie: ``conversion`` gives ``number``, str() and
    repr() ``text``. Its value itself (a float's double, an int's int) is what json and _value
    write."""
    return type(name, (base,), {conversion: lambda self: number, "__repr__": lambda self: text,
                                "__str__": lambda self: text})


LyingFloat = lying("LyingFloat", float, "__float__", 99.0, "0.0")
LyingInt = lying("LyingInt", int, "__index__", 99, "0")
LyingBigInt = lying("LyingBigInt", six.integer_types[-1], "__index__", 99, "0")  # long on Python 2


class IndexOnly(object):
    def __init__(self, number):
        self.number = number

    def __index__(self):
        return self.number


class FloatOnly(object):
    def __init__(self, number):
        self.number = number

    def __float__(self):
        return self.number


class NamedNdarray(FloatOnly):
    """A Python class that calls itself numpy.ndarray: type_kind takes it for one, but the
    compiled module must not read its memory as an ndarray's."""


NamedNdarray.__module__, NamedNdarray.__name__ = "numpy", "ndarray"


def kinds():
    """(label, value, its text in a line)."""
    found = [
        ("a class named numpy.ndarray", NamedNdarray(2.5), "2.5"),
        ("float subclass", LyingFloat(0.25), "0.25"),
        ("float subclass nan", LyingFloat("nan"), "NaN"),
        ("int subclass", LyingInt(-7), "-7"),
        ("int subclass past long long", LyingBigInt(2 ** 70), str(2 ** 70)),
        ("__index__ only", IndexOnly(2 ** 40), str(2 ** 40)),
        ("__index__ past long long", IndexOnly(-2 ** 64), str(-2 ** 64)),
        ("__float__ only", FloatOnly(1e-07), "1e-07"),
        ("__float__ inf", FloatOnly(float("-inf")), "-Infinity"),
    ]
    if numpy is not None:
        found += [
            ("numpy.float64", numpy.float64(0.1), "0.1"),
            ("numpy.float64 nan", numpy.float64("nan"), "NaN"),
            ("numpy.float32", numpy.float32(0.1), repr(float(numpy.float32(0.1)))),
            ("numpy.float32 inf", numpy.float32("inf"), "Infinity"),
            ("numpy.float16", numpy.float16(0.1), repr(float(numpy.float16(0.1)))),
            ("numpy.bool_ true", numpy.bool_(True), "true"),
            ("numpy.bool_ false", numpy.bool_(False), "false"),
            ("0-d float array", numpy.array(2.5), "2.5"),
            ("0-d float32 array", numpy.array(0.1, dtype=numpy.float32), repr(float(numpy.float32(0.1)))),
            ("0-d int array", numpy.array(-12), "-12"),
            ("0-d bool array", numpy.array(True), repr(float(numpy.array(True)))),
            ("0-d false array", numpy.array(False), "0.0"),
        ]
        found += array_kinds()
        for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
            info = numpy.iinfo(name)
            found += [("numpy.%s min" % name, getattr(numpy, name)(info.min), str(info.min)),
                      ("numpy.%s max" % name, getattr(numpy, name)(info.max), str(info.max))]
    if torch is not None:
        found += [(label, tensor, number_text(tensor)) for label, tensor in [
            ("torch float tensor", torch.tensor(0.1)), ("torch double tensor", torch.tensor(0.1, dtype=torch.float64)),
            ("torch int tensor", torch.tensor(-3)), ("torch bool tensor", torch.tensor(True))]]
    return found


def other_order(dtype):
    """``dtype`` in the byte order this machine does not use (numpy.array(1.5, '>f8') here)."""
    return numpy.dtype(dtype).newbyteorder("S")


def unaligned(value, dtype):
    """A 0-d array of ``value`` whose data is not aligned for its type."""
    data = b"\0" + numpy.array(value, dtype=dtype).tobytes()
    array = numpy.frombuffer(data, dtype=dtype, offset=1).reshape(())
    assert not array.flags.aligned
    return array


class OwnFloat(numpy.ndarray if numpy is not None else object):
    """An ndarray subclass whose __float__ is its own: float() must ask it."""

    def __float__(self):
        return 42.0


class OwnIndex(numpy.ndarray if numpy is not None else object):
    def __index__(self):
        return 7


def array_kinds():
    """0-d numpy arrays, which the compiled module reads from their data when they are exact
    ndarrays, 0-d, aligned, in this machine's byte order, of C doubles or floats; the others
    through the number protocol: each must read as operator.index, then float(), give it."""
    found = []
    for value in (-0.0, float("nan"), float("inf"), float("-inf"), 5e-324, 2.2250738585072014e-308, 1e+16,
                  0.1 + 0.2, 1 / 3.0):
        found += [("0-d float64 array %r" % value, numpy.array(value), json.dumps(value)),
                  ("0-d float32 array %r" % value, numpy.array(value, dtype=numpy.float32),
                   json.dumps(float(numpy.float32(value))))]
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        info = numpy.iinfo(name)
        found += [("0-d %s array min" % name, numpy.array(info.min, dtype=name), str(info.min)),
                  ("0-d %s array max" % name, numpy.array(info.max, dtype=name), str(info.max))]
    found += [
        # float32 values whose double has more digits than their own shortest repr.
        ("0-d float32 array 16777217", numpy.array(16777217, dtype=numpy.float32), "16777216.0"),
        ("0-d float32 array 3.4e38", numpy.array(3.4e38, dtype=numpy.float32), repr(float(numpy.float32(3.4e38)))),
        ("0-d float32 array subnormal", numpy.array(1e-45, dtype=numpy.float32), repr(float(numpy.float32(1e-45)))),
        ("0-d float64 array, little-endian by name", numpy.array(0.1, dtype="<f8"), "0.1"),
        ("0-d float64 view inside a 1-d array", numpy.array([1.5, 0.1, 2.5])[1, ...], "0.1"),
        ("0-d float32 view inside a 1-d array", numpy.array([1.5, 0.1], dtype="f4")[1, ...],
         repr(float(numpy.float32(0.1)))),
        # Not read from the data: the number protocol serves them, as before.
        ("0-d byte-swapped float64 array", numpy.array(1.5, dtype=other_order("f8")), "1.5"),
        ("0-d byte-swapped float32 array", numpy.array(0.1, dtype=other_order("f4")),
         repr(float(numpy.float32(0.1)))),
        ("0-d byte-swapped int32 array", numpy.array(-70000, dtype=other_order("i4")), "-70000"),
        ("0-d unaligned float64 array", unaligned(2.5, "f8"), "2.5"),
        ("0-d unaligned int64 array", unaligned(-3, "i8"), "-3"),
        ("0-d float16 array", numpy.array(0.1, dtype=numpy.float16), repr(float(numpy.float16(0.1)))),
        ("0-d longdouble array", numpy.array(0.1, dtype=numpy.longdouble), repr(float(numpy.longdouble(0.1)))),
        ("0-d uint64 array past long long", numpy.array(2 ** 64 - 1, dtype=numpy.uint64), str(2 ** 64 - 1)),
        ("0-d ndarray subclass with its own __float__", numpy.array(1.5).view(OwnFloat), "42.0"),
        ("0-d ndarray subclass with its own __index__", numpy.array(1.5).view(OwnIndex), "7"),
        ("0-d ndarray subclass, int", numpy.array(5).view(OwnFloat), "5"),
    ]
    return found


def number_text(value):
    """The contract's rule, independently of both implementations: operator.index, else float()."""
    try:
        number = operator.index(value)
    except TypeError:
        number = float(value)
    return json.dumps(number)


@pytest.mark.parametrize("label,value,text", kinds(), ids=[label for label, _, _ in kinds()])
def test_every_kind_is_written_as_the_rules_say_by_every_implementation(emitters, label, value, text):
    """Catches a kind written otherwise than before the fast path (an index taken as a float, a
    float subclass's own __float__ or __repr__ asked, numpy.bool_ as 1.0), or written
    differently by one implementation, in stdout or fifo mode (a real FIFO, read back)."""
    if not label.startswith(("float subclass", "int subclass", "numpy.bool_")):
        assert number_text(value) == text  # the expected text follows the rule
    # Three pairs: the kind between a float and an int, each of which the fast path writes.
    metrics = collections.OrderedDict([(u"a", 0.5), (u"value", value), (u"z", 3)])
    line = u'{"a":0.5,"value":%s,"z":3}\n' % text
    for _, emitter, fifo in emitters:
        assert stdout_outcome(emitter, metrics) == ("lines", line)
        assert fifo_outcome(fifo, metrics) == ("lines", line)
    # The same in a dict of this kind alone, and nested (the general path writes it there).
    for _, _, fifo in emitters:
        assert fifo_outcome(fifo, {u"value": value}) == ("lines", u'{"value":%s}\n' % text)
        assert fifo_outcome(fifo, {u"list": [value]}) == ("lines", u'{"list":[%s]}\n' % text)


def test_a_class_whose_methods_change_is_written_as_it_is_now(impl, tmp_path):
    """Catches a value written as what its class was: here it takes __float__, then gains
    __index__ (which comes first), loses it, has __float__ replaced, is renamed numpy.bool_,
    and becomes a Mapping. (Its methods are Python's, which the compiled fast path never
    calls: the next test reaches its cache of types.)"""
    path = str(tmp_path / "fifo")
    os.mkfifo(path)
    fifo = InProcessFifo(path, impl)

    class Changing(object):
        def __float__(self):
            return 0.5

    def line(value):
        """The line of ``value``, the same on the first emit after a change and later ones."""
        lines = []
        for _ in range(3):
            fifo.emit({u"v": value})  # an exact dict: the compiled module's fast path
            lines.append(fifo.read())
        assert lines[1:] == lines[:-1]
        return lines[0]

    try:
        value = Changing()
        assert line(value) == b'{"v":0.5}\n'
        Changing.__index__ = lambda self: 7
        assert line(value) == b'{"v":7}\n'
        del Changing.__index__
        assert line(value) == b'{"v":0.5}\n'
        Changing.__float__ = lambda self: 2.25
        assert line(value) == b'{"v":2.25}\n'
        Changing.__bool__ = Changing.__nonzero__ = lambda self: True
        Changing.__name__, Changing.__module__ = "bool_", "numpy"
        assert line(value) == b'{"v":true}\n'
        Changing.__name__ = "Changing"
        assert line(value) == b'{"v":2.25}\n'
        # Registering a class with an ABC changes no class: the cache must notice all the same.
        give_mapping_methods(Changing)
        assert line(value) == b'{"v":2.25}\n'
        Mapping.register(Changing)
        assert line(value) == b'{"v":{"x":1}}\n'
    finally:
        fifo.close()


def test_an_int_subclass_that_changes_is_written_as_it_is_now(in_process_fifo):
    """The compiled fast path writes an int subclass's int with no method called, so its
    class's methods can be Python's and its kind still cached. Catches that cache serving
    what the class was: renamed numpy.bool_ (the type changed: a new version tag), then
    registered as a Mapping (no type changes: only the ABC token tells)."""
    class Count(int):
        pass

    def line(value):
        # A look-up on a changed class gives it a new version tag, as the program's own use
        # of the class would: the cache's entry for the tag it had must not serve then.
        assert hasattr(Count, "real")
        in_process_fifo.emit({u"v": value})  # an exact dict: the compiled module's fast path
        return in_process_fifo.read()

    value = Count(7)
    assert line(value) == b'{"v":7}\n'
    Count.__name__, Count.__module__ = "bool_", "numpy"
    assert line(value) == b'{"v":true}\n'
    Count.__name__, Count.__module__ = "Count", __name__
    assert line(value) == b'{"v":7}\n'
    give_mapping_methods(Count)
    assert line(value) == b'{"v":7}\n'
    Mapping.register(Count)
    assert line(value) == b'{"v":{"x":1}}\n'


def give_mapping_methods(kind):
    """The methods of a mapping holding x: 1, added to the class ``kind`` (not yet registered
    as a Mapping: what the value is still depends on its kind alone)."""
    kind.items = lambda self: [(u"x", 1)]
    kind.__getitem__ = lambda self, name: 1
    kind.__iter__ = lambda self: iter([u"x"])
    kind.__len__ = lambda self: 1


class ClassProperty(object):
    """isinstance() asks a value for its __class__: here the value decides, not its type."""

    @property
    def __class__(self):
        return float

    def __float__(self):
        return 0.5


def test_type_kind_tells_what_every_value_of_a_type_is():
    """Catches a type taken for what it is not (on the compiled fast path a wrong answer is
    written; a cautious one, OTHER, is only slower: so each answer is checked here)."""
    from benchmarkai._validation import INT_SUBCLASS, NUMBER, NUMPY_ARRAY, NUMPY_BOOL, OTHER, type_kind

    class Dict(dict):
        def __float__(self):
            return 0.5

    class Text(six.text_type):
        def __index__(self):
            return 1

    answers = [(IndexOnly, NUMBER), (FloatOnly, NUMBER), (LyingInt, INT_SUBCLASS), (LyingBigInt, INT_SUBCLASS),
               (LyingFloat, OTHER), (Dict, OTHER), (Text, OTHER), (ClassProperty, OTHER), (object, OTHER),
               (list, OTHER), (tuple, OTHER), (bytearray, OTHER), (collections.OrderedDict, OTHER)]
    if numpy is not None:
        answers += [(numpy.float32, NUMBER), (numpy.int64 if six.PY3 else numpy.int16, NUMBER),
                    (numpy.ndarray, NUMPY_ARRAY), (OwnFloat, NUMBER), (numpy.matrix, NUMBER),
                    (NamedNdarray, NUMPY_ARRAY),
                    (numpy.bool_, NUMPY_BOOL)]
    assert [(kind, type_kind(kind)) for kind, _ in answers] == answers


@pytest.mark.skipif(numpy is None, reason="numpy is not installed for this interpreter")
def test_a_one_element_array_is_not_read_as_a_0d_one(emitters):
    """Catches the compiled module reading a 1-element 1-d array (nd 1) from its data as a 0-d
    one: it must do what float() of it does, as before (numpy 2.4: a TypeError; 1.16: 2.5)."""
    for value in (numpy.array([2.5]), numpy.array([[7]]), numpy.array([2.5])[:0]):
        metrics = {u"value": value}  # an exact dict: the compiled module's fast path
        outcomes = set()
        for _, emitter, fifo in emitters:
            outcomes.add(stdout_outcome(emitter, metrics))
            outcomes.add(fifo_outcome(fifo, metrics))
        assert len(outcomes) == 1, outcomes
        try:
            expected = ("lines", u'{"value":%s}\n' % number_text(value))
        except TypeError:
            expected = "error"
        outcome = outcomes.pop()
        assert outcome == expected or outcome[0] == expected, outcome


def test_a_conversion_that_fails_gives_the_same_error(emitters):
    """Catches the fast path reporting a failed conversion otherwise than _validation does (or
    writing something): it leaves the value to _validation, which calls it again and reports."""
    class Refusing(object):
        def __float__(self):
            raise ArithmeticError("no")

    class WrongIndex(object):
        def __index__(self):
            return 1.5

    for value in (Refusing(), WrongIndex(), IndexOnly(None)):
        outcomes = set()
        for _, emitter, fifo in emitters:
            outcomes.add(stdout_outcome(emitter, {u"ok": 1.0, u"bad": value}))
            outcomes.add(fifo_outcome(fifo, {u"ok": 1.0, u"bad": value}))
        assert len(outcomes) == 1, outcomes
        outcome = outcomes.pop()
        assert outcome[0] == "error" and outcome[3] == "" and "'bad'" in outcome[2], outcome


def test_an_interrupt_in_a_conversion_is_not_lost(impl, capsys):
    """Catches the fast path clearing a KeyboardInterrupt raised inside __float__ (the user's
    Ctrl-C) and asking again: it must reach the caller, and nothing be written."""
    calls = []

    class Interrupted(object):
        def __float__(self):
            calls.append(1)
            raise KeyboardInterrupt()

    values = [Interrupted()]
    if numpy is not None:
        # numpy's own (C) __float__ calls the element's: the compiled fast path calls it.
        values.append(numpy.array(Interrupted(), dtype=object))
    for value in values:
        del calls[:]
        with pytest.raises(KeyboardInterrupt):
            impl.emitter().emit({u"v": value})
        assert calls == [1]
        assert capsys.readouterr().out == ""


# Each conversion _value may ask of a Python class -> what it returns, and its text.
GROWING_RESULTS = {"__float__": (0.25, u"0.25"), "__index__": (3, u"3"), "__bool__": (True, u"true")}


@pytest.mark.parametrize("method", sorted(GROWING_RESULTS))
def test_a_conversion_that_changes_the_mapping_is_called_once_on_the_mapping_as_it_was(impl, capsys, method):
    """A conversion written in Python may change the mapping being emitted (the fuzz test's
    'mutator'). Catches the compiled fast path calling it while it walks the live dict: it
    wrote the pair the conversion added, which the fallback (reading the mapping once, before
    any conversion) does not, and the conversion ran twice when the slow path took over.
    ``__bool__`` is asked of a Python class that calls itself numpy.bool_: it catches the fast
    path taking such a class for numpy's own (its truth asked there)."""
    calls = []
    result, text = GROWING_RESULTS[method]

    class Growing(object):
        def convert(self):
            calls.append(1)
            metrics[u"added%d" % len(calls)] = 1.0
            return result

    setattr(Growing, method, Growing.convert)
    if method == "__bool__":
        Growing.__nonzero__ = Growing.convert  # Python 2's name for it
        Growing.__name__, Growing.__module__ = "bool_", "numpy"
    metrics = {u"loss": 0.5, u"grows": Growing()}
    texts = {u"loss": u"0.5", u"grows": text}
    # The keys in the order the mapping had before the call (Python 2.7's dicts are unordered).
    expected = u",".join(u'"%s":%s' % (name, texts[name]) for name in list(metrics))
    impl.emitter().emit(metrics)
    assert capsys.readouterr().out == u"{%s}\n" % expected
    assert len(calls) == 1


def new_type(number):
    return type("Kind%d" % number, (object,), {"__float__": lambda self: 0.5})


def test_the_cache_of_types_keeps_no_type_alive(impl, monkeypatch):
    """Catches a cache of types that keeps the types it has seen: a program that makes classes
    at run time (a class per experiment, say) must be able to free them."""
    monkeypatch.setattr(sys, "stdout", Sink())
    emit = impl.emitter().emit
    kind = new_type(0)
    emit({u"v": kind(), u"w": kind()})
    emit({u"v": kind()})
    ref = weakref.ref(kind)
    del kind
    gc.collect()
    assert ref() is None


@pytest.mark.skipif(not hasattr(sys, "getallocatedblocks"), reason="sys.getallocatedblocks is Python 3.4+")
def test_many_distinct_types_do_not_pile_up(impl, monkeypatch):
    """Catches a cache of types that grows with every type it meets (as tests/test_memory.py
    does for names): 20000 classes, each emitted twice and dropped."""
    monkeypatch.setattr(sys, "stdout", Sink())
    emit = impl.emitter().emit

    def emit_types(first, count):
        for number in range(first, first + count):
            kind = new_type(number)
            emit({u"v": kind()})
            emit({u"v": kind()})
        gc.collect()

    emit_types(0, 2000)  # warm up
    before = sys.getallocatedblocks()
    emit_types(2000, 20000)
    grown = sys.getallocatedblocks() - before
    # Kept, 20000 classes would be several hundred thousand blocks.
    assert grown < 5000, "%d memory blocks more after 20000 new types" % grown


@pytest.mark.skipif(numpy is None, reason="numpy is not installed for this interpreter")
def test_numpy_values_in_long_lines_split_as_floats_do(impl, fifo_path):
    """Catches the fast path's numbers written past a line's limit: a mapping of 600 numpy
    values is cut into lines of at most PIPE_BUF bytes, like the same mapping of floats."""
    from benchmarkai._fifo import PIPE_BUF
    fifo = InProcessFifo(fifo_path, impl)
    try:
        floats = collections.OrderedDict((u"metric.%d" % i, 0.1 * i) for i in range(600))
        fifo.emit(floats)
        expected = fifo.read()
        fifo.emit(collections.OrderedDict((name, numpy.float64(value)) for name, value in floats.items()))
        assert fifo.read() == expected
        assert expected.count(b"\n") > 1 and max(len(line) + 1 for line in expected.splitlines()) <= PIPE_BUF
        ints = collections.OrderedDict((u"metric.%d" % i, numpy.int64(i * 10 ** 12)) for i in range(600))
        fifo.emit(ints)
        written = fifo.read()
        assert written == fifo_text(fifo, collections.OrderedDict((name, int(value)) for name, value in ints.items()))
    finally:
        fifo.close()


def fifo_text(fifo, metrics):
    fifo.emit(metrics)
    return fifo.read()


if six.PY2:
    def test_old_style_instances_are_each_their_own_kind(impl, capsys):
        """Catches Python 2's old-style instances, which all share one type, cached as one kind."""
        class OldIndex:
            def __index__(self):
                return 4

        class OldFloat:
            def __float__(self):
                return 0.5

        impl.emitter().emit(collections.OrderedDict([(u"i", OldIndex()), (u"f", OldFloat()), (u"j", OldIndex())]))
        assert capsys.readouterr().out == '{"i":4,"f":0.5,"j":4}\n'
