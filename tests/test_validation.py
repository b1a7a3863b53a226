"""Bad input: a clear TypeError/ValueError naming the metric, and nothing written."""
import collections
import decimal
import json
import sys

import pytest
import six
from support.cases import BadRepr

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping


class Number(object):
    """A stand-in for numpy scalars, tensors and the like: numeric through its dunders."""

    def __init__(self, index=None, to_float=None):
        self._index = index
        self._to_float = to_float

    def __index__(self):
        return self._index()

    def __float__(self):
        return self._to_float()


class IndexOnly(object):
    def __init__(self, index):
        self._index = index

    def __index__(self):
        return self._index()


class FloatOnly(object):
    def __init__(self, to_float):
        self._to_float = to_float

    def __float__(self):
        return self._to_float()


def raising(error):
    def fail():
        raise error
    return fail


def returning(value):
    return lambda: value


BAD_CONTAINERS = [
    (["loss", 1.0], TypeError, "not list"),
    ((("loss", 1.0),), TypeError, "not tuple"),
    (None, TypeError, "not NoneType"),
    ("loss", TypeError, "not str"),
    (1.0, TypeError, "not float"),
    (set([1]), TypeError, "not set"),
    ({}, ValueError, "empty"),
    (collections.OrderedDict(), ValueError, "empty"),
]

# What json.dumps refused as a key (0.1 raised the same type).
BAD_NAMES = [
    ({(1, 2): 1.0}, TypeError, "metric (1, 2) must be a string (or an int, float, bool or None), not tuple"),
    ({frozenset(): 1.0}, TypeError, "not frozenset"),
    ({complex(1, 2): 1.0}, TypeError, "not complex"),
    ({u"outer": {(1, 2): 1.0}}, TypeError,
     "metric %r: the name (1, 2) in its value must be a string (or an int, float, bool or None), not tuple" % u"outer"),
]
if six.PY3:
    BAD_NAMES.append(({b"loss": 1.0}, TypeError, "must be a string (or an int, float, bool or None), not bytes"))
else:
    BAD_NAMES.append(({b"caf\xe9": 1.0}, ValueError, "is not valid UTF-8"))

# What json.dumps refused as a value (0.1 raised the same type), and failed conversions.
BAD_VALUES = [
    (set([1]), TypeError, "must be a number, a string, a bool, None, a list or a mapping, not set"),
    (frozenset([1]), TypeError, "not frozenset"),
    (bytearray(b"1.5"), TypeError, "not bytearray"),
    (object(), TypeError, "not object"),
    (complex(1, 2), TypeError, "complex"),
    ([1.0, [None, set([2])]], TypeError, "not set"),  # nested: still named by its metric
    ({u"a": {u"b": object()}}, TypeError, "not object"),
    ((1, complex(1, 2)), TypeError, "complex"),
    (FloatOnly(raising(ValueError("no value yet"))), ValueError,
     "float() of its FloatOnly value failed: ValueError: no value yet"),
    (FloatOnly(raising(TypeError("not now"))), TypeError, "float() of its FloatOnly value failed: TypeError: not now"),
    (FloatOnly(returning("1.0")), TypeError, "float() of its FloatOnly value failed"),
    (FloatOnly(raising(OverflowError("too big"))), ValueError, "OverflowError: too big"),
    (Number(raising(ZeroDivisionError("boom")), returning(1.0)), ValueError,
     "__index__ of its Number value failed: ZeroDivisionError: boom"),
    # These two got the generic "must be a number" message, which hid the cause.
    (IndexOnly(raising(TypeError("no index yet"))), TypeError,
     "__index__ of its IndexOnly value failed: TypeError: no index yet"),
    (IndexOnly(returning("1")), TypeError,
     "__index__ of its IndexOnly value failed: TypeError: __index__ returned non-"),
    (decimal.Decimal("sNaN"), ValueError, "float() of its Decimal value failed"),
]
if six.PY3:
    BAD_VALUES.append((b"1.5", TypeError, "not bytes"))


def assert_nothing_written(impl, in_process_fifo, capsys, metrics, error_type, message):
    """The error is raised in both modes, with ``message`` in it, and writes no byte."""
    with pytest.raises(error_type) as stdout_error:
        impl.emitter().emit(metrics)
    assert message in str(stdout_error.value)
    assert capsys.readouterr().out == ""
    with pytest.raises(error_type) as fifo_error:
        in_process_fifo.emit(metrics)
    assert str(fifo_error.value) == str(stdout_error.value)
    assert in_process_fifo.read() == b""


@pytest.mark.parametrize("metrics,error_type,message", BAD_CONTAINERS)
def test_not_a_non_empty_mapping_is_refused(impl, in_process_fifo, capsys, metrics, error_type, message):
    assert_nothing_written(impl, in_process_fifo, capsys, metrics, error_type, message)


@pytest.mark.parametrize("metrics,error_type,message", BAD_NAMES)
def test_bad_names_are_refused(impl, in_process_fifo, capsys, metrics, error_type, message):
    assert_nothing_written(impl, in_process_fifo, capsys, metrics, error_type, message)


@pytest.mark.parametrize("value,error_type,message", BAD_VALUES)
def test_bad_values_are_refused_naming_the_metric(impl, in_process_fifo, capsys, value, error_type, message):
    # Good metrics first: validation covers the whole mapping before any byte is written.
    metrics = collections.OrderedDict([(u"ok", 1.0), (u"n", 2), (u"bad.metric", value)])
    assert_nothing_written(impl, in_process_fifo, capsys, metrics, error_type, "metric %r" % u"bad.metric")
    with pytest.raises(error_type) as error:
        impl.emitter().emit(metrics)
    assert message in str(error.value)


def test_the_first_bad_metric_is_named(impl, capsys):
    metrics = collections.OrderedDict([(u"a", 1.0), (u"first", object()), (u"second", set())])
    with pytest.raises(TypeError) as error:
        impl.emitter().emit(metrics)
    assert "metric %r" % u"first" in str(error.value)


def test_a_plain_dict_with_one_bad_value_writes_nothing(impl, in_process_fifo, capsys):
    # An exact dict takes the fast path until the bad value; nothing of it may leak out.
    metrics = dict((u"m%d" % i, float(i) if i % 2 else u"text %d" % i) for i in range(50))
    metrics[u"m49"] = set([u"oops"])
    assert_nothing_written(impl, in_process_fifo, capsys, metrics, TypeError, "metric %r" % u"m49")


def holding_itself():
    """Containers that hold themselves, at the top or deeper: json.dumps raised ValueError."""
    listed = [1.0]
    listed.append(listed)
    mapped = {u"a": 1}
    mapped[u"me"] = mapped
    deeper = [[{u"x": None}]]
    deeper[0][0][u"x"] = (deeper,)
    top = {u"ok": 1.0}
    top[u"top"] = top
    return [{u"c": listed}, {u"c": mapped}, {u"c": deeper}, top]


@pytest.mark.parametrize("metrics", holding_itself(), ids=["list", "dict", "deeper", "the mapping itself"])
def test_a_container_that_holds_itself_is_a_value_error(impl, in_process_fifo, capsys, metrics):
    # Without a check of its own, validation would recurse until RecursionError.
    assert_nothing_written(impl, in_process_fifo, capsys, metrics, ValueError, "holds itself")


@pytest.mark.parametrize("pairs", [
    [(1, 1.0), (u"1", 2.0)],
    [(True, 1.0), (json.dumps({True: 0})[2:-5], 2.0)],  # "true" on Python 3, "True" on 2.7
    [(None, 1.0), (u"null", 2.0)],
    [(0.5, 1.0), (u"0.5", 2.0)],
    [(u"ok", 1.0), (u"nested", {1: 1, u"1": 2})],
], ids=["int", "bool", "None", "float", "nested"])
def test_two_names_of_the_same_text_are_a_value_error(impl, in_process_fifo, capsys, pairs):
    # json.dumps wrote the name twice in one object, which a reader takes as one metric.
    metrics = collections.OrderedDict(pairs)
    assert_nothing_written(impl, in_process_fifo, capsys, metrics, ValueError, "appears twice")


def test_a_mapping_that_repeats_a_name_is_refused(impl, in_process_fifo, capsys):
    class Repeating(Mapping):
        def __getitem__(self, key):
            return 1.0

        def __len__(self):
            return 2

        def __iter__(self):
            return iter([u"twice", u"twice"])

    assert_nothing_written(impl, in_process_fifo, capsys, Repeating(), ValueError,
                           "metric %r appears twice in the mapping" % u"twice")


@pytest.mark.skipif(not hasattr(sys, "set_int_max_str_digits"), reason="Python 3.11+ digit limit")
@pytest.mark.parametrize("metrics,message", [
    ({u"huge": 10 ** 5000}, "metric %r" % u"huge"),
    ({u"huge": [1, 10 ** 5000]}, "metric %r" % u"huge"),
    ({10 ** 5000: 1.0}, "metric <int object>"),  # as a name: json.dumps raised ValueError too
], ids=["value", "nested value", "name"])
def test_an_int_too_long_to_print_is_a_value_error_naming_the_metric(impl, in_process_fifo, capsys, metrics, message):
    assert_nothing_written(impl, in_process_fifo, capsys, metrics, ValueError, message)


@pytest.mark.parametrize("metrics,error_type,message", [
    ({u"x": BadRepr()}, TypeError, "metric %r: the value must be a number" % u"x"),
    ({BadRepr(): 1.0}, TypeError, "must be a string (or an int, float, bool or None), not BadRepr"),
], ids=["value with a failing repr", "name with a failing repr"])
def test_a_failing_repr_does_not_replace_the_error(impl, in_process_fifo, capsys, metrics, error_type, message):
    assert_nothing_written(impl, in_process_fifo, capsys, metrics, error_type, message)


def test_a_str_subclass_name_is_written_as_the_text_it_holds(impl, in_process_fifo):
    class Liar(six.text_type):
        def __len__(self):
            return 0

        def __iter__(self):
            return iter(u"lie")

    in_process_fifo.emit({Liar(u"loss"): 0.5})
    assert in_process_fifo.lines() == [{u"loss": 0.5}]
