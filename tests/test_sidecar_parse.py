"""The sidecar's bulk parse and tally against doing the same one line at a time.

parse_lines reads a whole read's lines with one json.loads; these tests make sure that no mix
of lines can make it see other records than the lines hold one by one: a line holding two
objects beside lines that close each other's brackets or strings would otherwise be taken for
three records. In-process: what is tested is a pure function of the lines, whichever
implementation wrote them. Tally.add takes runs of records with the same names a column at a
time: it must count exactly what a record-by-record tally counts.
"""
import array
import json
import math

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from benchmarkai import _summary
from benchmarkai._summary import Malformed, Tally, _finite_values, parse_lines

# Lines that, joined with commas, make valid JSON of wrong lines: one line with two objects,
# two lines that make one; and good lines.
TRICKY = [b'{"a": 1}', b'{"a": 1}', b'{"a": 1},{"b": 2}', b'{"x": [1', b'2]}', b'{"s": "', b'"}']
# Deeper than the default recursion limit (1000), not than the 2048 Hypothesis sets while a
# test runs: a RecursionError there, with the limit raised, aborted Python 3.8 now and then
# ("Cannot recover from stack overflow"). test_what_is_wrong_with_a_line parses a line too deep
# for any limit, outside Hypothesis.
DEEP = b"[" * 1500 + b"]" * 1500
# And lines of every other kind.
ODD = [b"", b" ", b"1", b'"t"', b"null", b"[1, 2]", b'{"n": NaN, "i": -Infinity}', b'{"big": 1' + b"0" * 400 + b"}",
       b"\xff{}", b'{"caf\xc3\xa9": 0.5}', DEEP, b'{"d": ' + DEEP + b"}",
       b'{"a": 1} ', b'{"dup": 1, "dup": 2}', b'{"o": {"p": [true, false, null]}}', b"[", b"]", b"{", b"}", b","]


def one_by_one(line):
    """What a line holds, parsed alone, as the tests compare it."""
    try:
        value = json.loads(line.decode("utf-8"))
    except (ValueError, RuntimeError):  # not UTF-8, not JSON, nested too deeply
        return "malformed"
    return value if isinstance(value, dict) else "malformed"


def as_compared(result):
    return "malformed" if isinstance(result, Malformed) else result


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))  # a loaded machine is slow
@given(st.one_of(st.lists(st.sampled_from(TRICKY), max_size=8), st.lists(st.sampled_from(TRICKY + ODD), max_size=30)))
def test_bulk_parse_equals_parsing_each_line_alone(lines):
    """A line with two objects, beside lines that close each other's brackets, was counted as
    records (without the check that each line is one element of the array)."""
    assert [as_compared(result) for result in parse_lines(lines)] == [one_by_one(line) for line in lines]


def test_the_known_trick():
    lines = [b'{"a": 1},{"b": 2}', b'{"x": [1', b'2]}', b'{"ok": 1}']
    assert [as_compared(result) for result in parse_lines(lines)] == ["malformed"] * 3 + [{"ok": 1}]


def test_good_lines_are_parsed_by_one_json_loads(monkeypatch):
    """The reason parse_lines exists: a read of good lines is one json.loads. Catches a check
    of the array that never holds (the separators miscounted), which parses every line alone
    after halving the read down to single lines: the same records, several times slower."""
    calls = []
    loads = _summary._loads
    monkeypatch.setattr(_summary, "_loads", lambda text: calls.append(text) or loads(text))
    for count in (2, 16):  # two lines: the fewest it parses at once
        del calls[:]
        lines = [b'{"step": %d, "loss": 0.5}' % step for step in range(count)]
        assert parse_lines(lines) == [{"step": step, "loss": 0.5} for step in range(count)]
        assert len(calls) == 1


def test_what_is_wrong_with_a_line():
    lines = [b"\xff{}", b"not json", b"[1]", b"[" * 100000 + b"]" * 100000, b'{"k": "v"}']
    results = parse_lines(lines)
    assert [result.problem for result in results[:4]] == ["not UTF-8", "not JSON", "not a JSON object",
                                                          "nested too deeply"]
    assert [result.line for result in results[:4]] == lines[:4]
    assert results[4] == {"k": "v"}


VALUES = st.one_of(st.integers(), st.floats(), st.just(10 ** 400), st.just(-10 ** 400), st.booleans(), st.none(),
                   st.text(max_size=3), st.lists(st.integers(), max_size=2))
RECORDS = st.lists(st.one_of(st.dictionaries(st.sampled_from("abc"), VALUES),
                             st.builds(Malformed, st.just(u"not JSON"), st.binary(max_size=3))), max_size=40)


def tallied(tally):
    """What a tally holds, comparable (NaN compares equal to NaN as its repr)."""
    series = sorted((name, repr(list(values))) for name, values in tally.series.items())
    return (list(tally.names), tally.malformed, series, repr(sorted(tally.last.items())),
            repr(sorted(tally.others.items())), tally.malformed_shown)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))  # a loaded machine is slow
@given(RECORDS, st.lists(st.integers(0, 40), max_size=4))
def test_tally_by_columns_equals_record_by_record(results, cuts):
    """The column path must keep each series in order, leave bools and other values out of the
    numbers, turn an int beyond the doubles into an infinity, keep the last value as received."""
    by_columns, one_by_one = Tally(), Tally()
    bounds = [0] + sorted(set(cuts)) + [len(results)]
    for start, end in zip(bounds, bounds[1:]):
        by_columns.add(results[start:end])
    one_by_one._add_one_by_one(results)
    assert tallied(by_columns) == tallied(one_by_one)
    assert (by_columns.lines, by_columns.records) == (len(results), len(results) - one_by_one.malformed)


# Tally.add_same_shape: the fast path of `benchmarkai run --quiet`, which reads a read of lines
# of one shape without making a dict of each line.
NUMBER_TOKENS = st.one_of(
    st.integers().map(lambda number: b"%d" % number),
    st.floats().map(lambda number: json.dumps(number).encode("ascii")),
    st.sampled_from([b"-0", b"0.0", b"1e400", b"-1e400", b"1" + b"0" * 400, b"-1" + b"0" * 400, b"1E+2",
                     b"2e-3", b"NaN", b"Infinity", b"-Infinity", b"179769313486231580793728971405303415079934132710"
                     b"03782776036441183574010010453549837917024001127419891095836064493108148131883339567212"
                     b"3849233223932011178813920497913337312153939416318924318283659012306180726006880346716"
                     b"35797127286848327290369302226008553098393376434018193048124542765359939706896012549"]))
NOT_NUMBER_TOKENS = st.sampled_from([b"1.", b"01", b"+1", b"1e", b".5", b"-", b"Nan", b"infinity", b"1e5e5", b"--1",
                                     b"true", b"null", b'"1"', b"[1]", b"1 ", b""])
NAMES = st.one_of(st.sampled_from([u"loss", u"step", u"caf\xe9", u"a b", u"x-1.e"]), st.text(max_size=4))


def line_of(fields, ensure_ascii):
    """A line with ``fields`` (name, value bytes) as JSON text, names escaped as json escapes them."""
    return b"{" + b",".join(json.dumps(name, ensure_ascii=ensure_ascii).encode("utf-8") + b":" + value
                            for name, value in fields) + b"}"


@st.composite
def reads(draw):
    """A read's lines: mostly of one shape, with numbers of every kind; some with a value that is
    not a number, other names or order, or a malformed line."""
    names = draw(st.lists(NAMES, min_size=0, max_size=3))
    ensure_ascii = draw(st.booleans())
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["same"] * 6 + ["bad number", "other names", "odd"]))
        if kind == "odd":
            lines.append(draw(st.sampled_from(TRICKY + ODD)))
            continue
        line_names = names if kind != "other names" else draw(st.permutations(names + [u"z"]))
        values = [draw(NOT_NUMBER_TOKENS if kind == "bad number" else NUMBER_TOKENS) for _ in line_names]
        lines.append(line_of(zip(line_names, values), ensure_ascii))
    return lines


def tally_both_ways(chunks):
    """Tallies of the same reads: one through add_same_shape where it takes a read, one
    through parse_lines and add only; and how many reads add_same_shape took."""
    fast, slow = Tally(), Tally()
    taken = 0
    for lines in chunks:
        if fast.add_same_shape(lines):
            taken += 1
        else:
            fast.add(parse_lines(lines))
        slow.add(parse_lines(lines))
    return fast, slow, taken


# No target phase: Hypothesis 4.57 (Python 2.7) spent over 20 minutes of CPU in its Pareto
# optimisation on this test once, in a full run.
@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck),  # a loaded machine is slow
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(st.lists(reads(), min_size=1, max_size=4))
def test_same_shape_fast_path_equals_parsing(chunks):
    """add_same_shape must count exactly what parse_lines and add count, or leave the read to
    them: a value that JSON does not take as a number (1., 01, +1, a string), a name twice,
    names escaped otherwise or in another order, a malformed line among good ones, NaN, the
    infinities and ints beyond a double (which must become infinities, last kept as received)."""
    fast, slow, _ = tally_both_ways(chunks)
    assert tallied(fast) == tallied(slow)
    assert (fast.lines, fast.records) == (slow.lines, slow.records)


def test_same_shape_fast_path_takes_what_emit_writes():
    """The fast path must take the lines emit writes, numbers of every kind included, or
    `benchmarkai run --quiet` is as slow as before (issue 13, item 6)."""
    lines = [b'{"step":%d,"loss":%s,"caf\xc3\xa9":%s}' % (step, value, value)
             for step, value in enumerate([b"0.5", b"1e-07", b"NaN", b"Infinity", b"-Infinity", b"-3",
                                           b"1" + b"0" * 400, b"2"])]
    fast, slow, taken = tally_both_ways([lines[:5], lines[5:]])
    assert taken == 2
    assert tallied(fast) == tallied(slow)
    assert list(fast.names) == [u"step", u"loss", u"caf\xe9"] and fast.last[u"loss"] == 2
    assert repr(list(fast.series[u"loss"])) == "[0.5, 1e-07, nan, inf, -inf, -3.0, inf, 2.0]"


def test_same_shape_fast_path_leaves_a_name_twice():
    """{"a":1,"a":2} is one metric a=2 for json: cutting out names would count two values."""
    lines = [b'{"a":1,"a":2}', b'{"a":3,"a":4}']
    fast, slow, taken = tally_both_ways([lines])
    assert taken == 0 and list(fast.series[u"a"]) == [2.0, 4.0]


def test_the_patterns_of_shapes_are_kept_and_bounded(monkeypatch):
    """add_same_shape compiles a pattern for each shape of line it meets and keeps up to
    _SHAPES_KEPT of them. Catches a cache emptied before it is full (every read compiles
    its pattern again: the same tally, slower) and one that keeps every shape (memory
    growing with the names a run writes)."""
    monkeypatch.setattr(_summary, "_shapes", {})
    tally = Tally()
    for shape in range(3):
        assert tally.add_same_shape([b'{"m%d":1,"n":2}' % shape] * 2)
    assert len(_summary._shapes) == 3
    for shape in range(3 * _summary._SHAPES_KEPT):
        assert tally.add_same_shape([b'{"x%d":1}' % shape])
        assert 1 <= len(_summary._shapes) <= _summary._SHAPES_KEPT
    assert tally.lines == 6 + 3 * _summary._SHAPES_KEPT


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))  # a loaded machine is slow
@given(st.lists(st.one_of(st.floats(), st.sampled_from([1e308, -1e308])), max_size=12))
def test_finite_values_are_those_filtered(values):
    """The summary's min, mean, max and sparkline leave out NaN and the infinities: the fast
    check (a finite exact sum) must not let one through, nor fail on a sum beyond the doubles
    or inf + -inf."""
    finite = [value for value in values if not (math.isinf(value) or math.isnan(value))]
    try:
        finite_sum = math.fsum(finite)
    except OverflowError:  # the finite values' sum is beyond the doubles: the table said so before too
        with pytest.raises(OverflowError):
            _finite_values(array.array("d", values))
        return
    kept, total = _finite_values(array.array("d", values))
    assert (repr(list(kept)), total) == (repr(finite), finite_sum)
