"""The sidecar's bulk parse and tally against doing the same one line at a time.

parse_lines reads a whole read's lines with one json.loads; these tests make sure that no mix
of lines can make it see other records than the lines hold one by one: a line holding two
objects beside lines that close each other's brackets or strings would otherwise be taken for
three records. In-process: what is tested is a pure function of the lines, whichever
implementation wrote them. Tally.add takes runs of records with the same names a column at a
time: it must count exactly what a record-by-record tally counts.
"""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarkai._summary import Malformed, Tally, parse_lines

# Lines that, joined with commas, make valid JSON of wrong lines: one line with two objects,
# two lines that make one; and good lines.
TRICKY = [b'{"a": 1}', b'{"a": 1}', b'{"a": 1},{"b": 2}', b'{"x": [1', b'2]}', b'{"s": "', b'"}']
# And lines of every other kind.
ODD = [b"", b" ", b"1", b'"t"', b"null", b"[1, 2]", b'{"n": NaN, "i": -Infinity}', b'{"big": 1' + b"0" * 400 + b"}",
       b"\xff{}", b'{"caf\xc3\xa9": 0.5}', b"[" * 5000 + b"]" * 5000, b'{"d": ' + b"[" * 5000 + b"]" * 5000 + b"}",
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
