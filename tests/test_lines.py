"""What a line holds: compact ASCII JSON, the mapping's order, exact numbers."""
import collections
import decimal
import fractions
import json
import math
import struct
import subprocess
import sys

import pytest
import six

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping

try:
    import numpy
except ImportError:  # no numpy wheel for this interpreter
    numpy = None

# The text Python's json writes for a line; _fastemit and the json fallback write exactly this.
canonical = json.JSONEncoder(separators=(",", ":"), allow_nan=True).encode

FLOATS = [
    0.0, -0.0, 0.1, 0.2, 0.30000000000000004, 1.0, -1.5, 100.0, 1e16, 1e-7, 1e-4, 1e-5,
    9999999999999998.0, 1.2345678901234567e+16, 123456789.12345678, 5e-324, -5e-324,
    2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, 1e22, 1e23,
    2.0 ** 53, 2.0 ** -1074, math.pi, -math.e, 1 / 3.0,
]
SPECIALS = [(float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity")]
INTS = [0, 1, -1, 2 ** 31, 2 ** 63 - 1, -2 ** 63, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -2 ** 64 - 1, 10 ** 40, -10 ** 40]


def emitted(impl, capsys, metrics):
    impl.emitter().emit(metrics)
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1, out
    return out[:-1]


def bits(number):
    return struct.pack("<d", number)


@pytest.mark.parametrize("value", FLOATS, ids=repr)
def test_floats_read_back_bit_identical_with_repr_digits(impl, capsys, value):
    line = emitted(impl, capsys, {u"x": value})
    assert bits(json.loads(line)[u"x"]) == bits(value)
    assert line == canonical({u"x": value})  # ujson wrote 1e-7 for 1e-07: no longer used


@pytest.mark.parametrize("value,text", SPECIALS)
def test_non_finite_floats_are_written_as_python_json_reads_them(impl, capsys, value, text):
    line = emitted(impl, capsys, {u"x": value})
    assert line == u'{"x":%s}' % text
    assert repr(json.loads(line)[u"x"]) == repr(value)


@pytest.mark.parametrize("value", INTS, ids=repr)
def test_ints_are_exact_decimals(impl, capsys, value):
    line = emitted(impl, capsys, {u"n": value})
    assert line == u'{"n":%d}' % value
    assert json.loads(line)[u"n"] == value


@pytest.mark.parametrize("value,expected", [
    (decimal.Decimal("2.5"), 2.5),
    (decimal.Decimal("1e400"), float("inf")),
    (fractions.Fraction(1, 3), 1 / 3.0),
])
def test_other_numbers_are_written_as_float_of_them(impl, capsys, value, expected):
    assert json.loads(emitted(impl, capsys, {u"x": value}))[u"x"] == expected


def test_index_wins_over_float_and_subclasses_give_their_own_value(impl, capsys):
    class Index(object):
        def __index__(self):
            return 2 ** 70

        def __float__(self):
            return 0.5

    class LyingInt(int):
        def __index__(self):
            return 0

        def __int__(self):
            return 0

        def __repr__(self):
            return "0"

    class LyingFloat(float):
        def __float__(self):
            return 0.0

        def __repr__(self):
            return "0.0"

    line = emitted(impl, capsys, collections.OrderedDict([
        (u"index", Index()), (u"int", LyingInt(7)), (u"float", LyingFloat(0.25)),
    ]))
    assert line == u'{"index":%d,"int":7,"float":0.25}' % 2 ** 70


@pytest.mark.skipif(numpy is None, reason="numpy is not installed for this interpreter")
def test_numpy_scalars(impl, capsys):
    metrics = collections.OrderedDict([
        (u"i64", numpy.int64(-3)), (u"u64", numpy.uint64(2 ** 64 - 1)), (u"i8", numpy.int8(7)),
        (u"f64", numpy.float64(0.1)), (u"f32", numpy.float32(0.1)), (u"f16", numpy.float16(1.5)),
        (u"zero_d", numpy.array(2.5)),
    ])
    line = emitted(impl, capsys, metrics)
    assert line == canonical(collections.OrderedDict([
        (u"i64", -3), (u"u64", 2 ** 64 - 1), (u"i8", 7), (u"f64", 0.1),
        (u"f32", float(numpy.float32(0.1))), (u"f16", 1.5), (u"zero_d", 2.5),
    ]))


def test_keys_keep_the_mappings_iteration_order(impl, capsys):
    names = [u"z%d" % i for i in range(30, 0, -1)] + [u"a", u"m", u"b"]
    ordered = collections.OrderedDict((name, i) for i, name in enumerate(names))
    assert list(json.loads(emitted(impl, capsys, ordered),
                           object_pairs_hook=collections.OrderedDict)) == names
    plain = dict(ordered)
    assert list(json.loads(emitted(impl, capsys, plain),
                           object_pairs_hook=collections.OrderedDict)) == list(plain)


def test_any_mapping_is_accepted(impl, capsys):
    class Gauges(Mapping):
        def __getitem__(self, name):
            return {u"gpu": 0.5, u"cpu": 2}[name]

        def __iter__(self):
            return iter([u"gpu", u"cpu"])

        def __len__(self):
            return 2

    assert emitted(impl, capsys, Gauges()) == u'{"gpu":0.5,"cpu":2}'


@pytest.mark.parametrize("name", [
    u"plain.name-with_chars/and:colons", u"quote\"backslash\\", u"back\\/slash//", u"\n\r\t\b\f\x00\x01\x1f\x7f",
    u"caf\u00e9 \u6e2c\u8a66", u"\U0001F600 astral", u"lone \ud800 and \udfff surrogates",
    u"\u2028\u2029", u"x" * 3000,
], ids=lambda name: repr(name[:20]))
def test_names_are_escaped_to_ascii_as_json_does(impl, capsys, name):
    line = emitted(impl, capsys, {name: 1})
    assert all(ord(ch) < 128 for ch in line)
    assert json.loads(line) == {name: 1}
    assert line == canonical({name: 1})  # ujson left DEL raw: no longer used


def test_names_are_escaped_right_every_step_and_past_any_cache(impl, capsys):
    """Names are written the same each time they come back, also after more distinct names
    than _fastemit keeps escaped (1024) and for names too long to be kept (over 100)."""
    names = [u"caf\u00e9.%d" % i for i in range(1500)] + [u"plain.%d" % i for i in range(10)]
    names += [u"\u00e9" * 99 + u"\"", u"\u00e9" * 101 + u"\n", u"\U0001F600" * 300]
    for step in range(2):
        for index in range(len(names)):
            metrics = collections.OrderedDict([(names[index], step), (names[-1 - index], 0.5)])
            line = emitted(impl, capsys, metrics)
            assert json.loads(line, object_pairs_hook=collections.OrderedDict) == metrics
            assert line == canonical(metrics)


# --- Drop-in for 0.1: what its json.dumps(metrics) wrote, the same bytes (compact) ---

TEXTS = [u"20.34", u"", u"plain text", u"quote\"backslash\\ /slash/", u"\n\r\t\b\f\x00\x1f\x7f",
         u"caf\u00e9 \u6e2c", u"\U0001F600", u"lone \ud800 \udfff", u"\u2028", u"x" * 5000,
         u"\u00e9" * 300, u"abcdefgh", u"abcdefg\x7f", u"12345678\"", u"tail-only-plain-\\"]
VALUES = TEXTS + [
    True, False, None, [], (), {}, [1, 2.5, u"x", None, True], (1, (2, [3])), [[[[]]]],
    {u"a": {u"b": [False, None, {u"c": u"d"}]}}, [1e-07, 1e16, float("nan"), -float("inf"), 2 ** 70, -0.0],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: repr(value)[:30])
def test_values_are_written_as_json_dumps_writes_them(impl, capsys, value):
    # Refused before: the metrics-extractor's emit({name: "20.34"}) killed it at its first match.
    metrics = collections.OrderedDict([(u"v", value), (u"after", 1)])
    assert emitted(impl, capsys, metrics) == canonical(metrics)


def test_many_str_values_in_a_plain_dict(impl, capsys):
    # The compiled fast path writes exact dicts of str values itself: every kind of text.
    metrics = dict((u"t%d" % i, text) for i, text in enumerate(TEXTS))
    metrics[u"n"] = None
    metrics[u"f"] = 0.5
    assert emitted(impl, capsys, metrics) == canonical(metrics)


@pytest.mark.parametrize("name", [
    1, -2 ** 70, 0, True, False, None, 0.5, -0.0, 1e-07, 1e16, float("nan"), float("inf"), u"",
], ids=repr)
def test_names_are_converted_as_the_running_python_s_json_converts_keys(impl, capsys, name):
    # 0.1 wrote them (True as "true" on Python 3, "True" on 2.7); they were refused.
    metrics = collections.OrderedDict([(name, 1), (u"other", 2)])
    assert emitted(impl, capsys, metrics) == json.dumps(metrics, separators=(",", ":"))


def test_nested_numbers_and_containers_follow_the_top_level_rules(impl, capsys):
    class Held(list):
        def __iter__(self):
            return iter([u"lie"])

    class Gauges(Mapping):
        def __getitem__(self, name):
            return {u"gpu": 0.5, 1: 2}[name]

        def __iter__(self):
            return iter([u"gpu", 1])

        def __len__(self):
            return 2

    class Text(six.text_type):
        def __str__(self):
            return u"lie"

    shared = [1, 2]  # twice, but not inside itself: json wrote it twice
    metrics = collections.OrderedDict([
        (u"numbers", [decimal.Decimal("2.5"), fractions.Fraction(1, 4), (2 ** 70, True)]),
        (u"held", Held([1.5])), (u"gauges", Gauges()), (u"text", [Text(u"truth")]),
        (u"order", collections.OrderedDict([(u"z", 1), (u"a", 2)])), (u"a", shared), (u"b", shared),
    ])
    assert emitted(impl, capsys, metrics) == (
        u'{"numbers":[2.5,0.25,[%d,true]],"held":[1.5],"gauges":{"gpu":0.5,"1":2},"text":["truth"],'
        u'"order":{"z":1,"a":2},"a":[1,2],"b":[1,2]}' % 2 ** 70)


@pytest.mark.skipif(numpy is None, reason="numpy is not installed for this interpreter")
def test_numpy_bools_and_nested_numpy_numbers(impl, capsys):
    # numpy.bool_ was written 1.0 (through __float__); a bool is what the user meant.
    metrics = collections.OrderedDict([
        (u"yes", numpy.bool_(True)), (u"no", numpy.bool_(False)),
        (u"list", [numpy.int64(3), numpy.float32(0.5), numpy.bool_(True)]),
    ])
    assert emitted(impl, capsys, metrics) == u'{"yes":true,"no":false,"list":[3,0.5,true]}'


# The fallback where json has no C encoder (c_make_encoder None): JSONEncoder.encode serves.
_WITHOUT_C_ENCODER = """
import collections, json, json.encoder, sys
json.encoder.c_make_encoder = None
from benchmarkai import _fallback
print(_fallback._json_text(json.loads(sys.argv[1], object_pairs_hook=collections.OrderedDict)))
"""


def test_the_json_fallback_writes_json_s_text_with_or_without_its_c_encoder():
    from benchmarkai import _fallback
    metrics = collections.OrderedDict([(u"caf\u00e9 \"/\\/", 0.1), (u"nan", float("nan")),
                                       (u"-inf", float("-inf")), (u"big", -2 ** 70), (u"small", 1e-07)])
    assert _fallback._json_text(metrics) == canonical(metrics)
    out = subprocess.check_output([sys.executable, "-c", _WITHOUT_C_ENCODER, canonical(metrics)])
    assert out.decode().strip() == canonical(metrics)


def test_a_str_subclass_name_is_written_as_its_characters(impl, capsys):
    class Name(six.text_type):
        def __str__(self):
            return u"lie"

        def __hash__(self):
            return 0

    assert emitted(impl, capsys, {Name(u"true.name"): 1}) == u'{"true.name":1}'


@pytest.mark.skipif(not six.PY2, reason="Python 2 byte-string names")
def test_python2_byte_string_names_are_utf8(impl, capsys):
    assert json.loads(emitted(impl, capsys, {b"caf\xc3\xa9": 1})) == {u"caf\u00e9": 1}


def test_one_emit_is_one_line_however_many_metrics_in_stdout_mode(impl, capsys):
    # Splitting at PIPE_BUF is for the FIFO; stdout gets the whole mapping on one line.
    metrics = collections.OrderedDict((u"metric.%04d" % i, i * 0.5) for i in range(1000))
    line = emitted(impl, capsys, metrics)
    assert len(line) > 4 * 4096
    assert json.loads(line, object_pairs_hook=collections.OrderedDict) == metrics


@pytest.mark.skipif(sys.version_info < (3,), reason="only Python 3 has a separate bytes type")
def test_the_line_is_text_on_python3(impl, capsys):
    assert isinstance(emitted(impl, capsys, {u"x": 1}), str)
