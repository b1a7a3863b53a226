# -*- coding: utf-8 -*-
"""The figures of ``benchmarkai run``'s summary, checked exactly on known series: counts, last,
min, mean, max, the sparkline's every character and the table's alignment. The end-to-end
tests (test_sidecar.py) check them only roughly (order, approximate values), so a wrong
rounding, slice or column passed them."""
from __future__ import unicode_literals

import collections

from benchmarkai import _sidecar, _summary

DIGITS = "01234567"  # eight levels that show which level each character is


def tally(*records):
    result = _summary.Tally()
    for record in records:
        result.add([collections.OrderedDict(record)])
    return result


def add_malformed(series, problem, line):
    series.add([_summary.Malformed(problem, line)])


def test_the_table_of_a_known_series():
    """Two series, one with a NaN (a blank in the sparkline, left out of min/mean/max)."""
    series = tally([("step", 1), ("loss", 2.0)], [("step", 2), ("loss", 1.0), ("note", "warm-up")],
                   [("step", 3), ("loss", 0.5)], [("step", 4), ("loss", float("nan"))],
                   [("step", 5), ("loss", 0.25)])
    assert series.table(_summary.BARS) == [
        "  metric  count  last   min    mean  max  series",
        "  step        5     5     1       3    5  ▁▃▅▆█",
        "  loss        5  0.25  0.25  0.9375    2  █▄▂ ▁",
    ]
    assert series.notes() == ["values that are not numbers, left out of the table:",
                              "  metric  values  last",
                              '  note         1  "warm-up"']


def test_figures_have_six_significant_digits_and_no_finite_value_is_a_dash():
    """Also an int beyond the doubles, which the sidecar took to float with a crash: shown
    from its own digits, and left out of min/mean/max as infinities are."""
    series = tally([("third", 1.0 / 3), ("huge", 10 ** 400), ("nan", float("nan"))],
                   [("third", 2.0 / 3), ("huge", -10 ** 400), ("nan", float("nan"))])
    assert series.table(DIGITS) == [
        "  metric  count           last       min  mean       max  series",
        "  third       2       0.666667  0.333333   0.5  0.666667  07",
        "  huge        2  -1.00000e+400         -     -         -    ",
        "  nan         2            nan         -     -         -    ",
    ]


def test_a_sparkline_is_the_mean_of_equal_slices_scaled_to_the_levels():
    assert _summary.sparkline(list(range(48)), DIGITS) == "001112222333444555566677"  # pairs
    assert _summary.sparkline(list(range(30)), DIGITS) == "000111222333444555566677"  # 1 or 2 each
    assert _summary.sparkline([2.5] * 5, DIGITS) == "33333"  # a flat series: the middle level
    assert _summary.sparkline([1.0, float("inf"), 3.0], DIGITS) == "0 7"
    assert _summary.sparkline([float("nan")] * 30, DIGITS) == " " * 24


def test_the_live_line_and_the_notes_on_malformed_lines():
    assert _summary.record_text(collections.OrderedDict([("step", 3), ("loss", 0.123456789), ("tag", "a")])) \
        == 'step=3 loss=0.123457 tag="a"'
    assert _summary.record_text({}) == "{}"
    series = tally()
    for number in range(7):
        add_malformed(series, "not JSON", b"x" * (number + 79))
    series.add([collections.OrderedDict([("ok", 1)])])
    assert (series.lines, series.records, series.malformed) == (8, 1, 7)
    assert series.notes() == [
        "7 lines were not a JSON object (the first 5 are shown):",
        '  line 1, not JSON: "%s"' % ("x" * 79),
        '  line 2, not JSON: "%s"' % ("x" * 80),
        '  line 3, not JSON: "%s"...' % ("x" * 80),
        '  line 4, not JSON: "%s"...' % ("x" * 80),
        '  line 5, not JSON: "%s"...' % ("x" * 80),
    ]
    single = tally()
    add_malformed(single, "not UTF-8", b"\xff")
    assert single.notes() == ['1 line was not a JSON object:', '  line 1, not UTF-8: "\\ufffd"']


def test_a_malformed_line_and_a_long_or_deep_value_as_the_live_line_shows_them():
    """Catches the live line of a malformed line made with + instead of % (a TypeError that
    stopped the sidecar), a value of exactly QUOTED_CHARS characters cut, and a value nested
    too deeply for json.dumps (parsed nearer the bottom of the stack) raising instead of
    being shown as [...] or {...}."""
    assert _summary.result_text(_summary.Malformed("not JSON", b"x\xff")) == 'malformed line (not JSON): "x\\ufffd"'
    assert _summary.brief("x" * 78) == '"%s"' % ("x" * 78)  # 80 characters: all shown
    assert _summary.brief("x" * 79) == '"%s...' % ("x" * 79)
    deep_list, deep_mapping = [], {}
    inner_list, inner_mapping = deep_list, deep_mapping
    for _ in range(10000):  # deeper than any recursion limit json.dumps meets here
        inner_list.append([])
        inner_list = inner_list[0]
        inner_mapping["k"] = {}
        inner_mapping = inner_mapping["k"]
    assert (_summary.brief(deep_list), _summary.brief(deep_mapping)) == ("[...]", "{...}")


class Shown(object):
    """The sidecar's terminal, keeping what it is given."""
    bars = DIGITS

    def __init__(self):
        self.lines = []

    def write_lines(self, lines):
        self.lines.extend(lines)


def test_the_summary_header(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(_sidecar, "_monotonic", lambda: clock[0])
    for records, malformed, returncode, header in [
        (1, 1, 0, "1 record and 1 malformed line in 2.3 s; train exited with status 0"),
        (2, 0, -15, "2 records and 0 malformed lines in 2.3 s; train was killed by SIGTERM (signal 15)"),
    ]:
        sidecar = _sidecar.Sidecar()
        sidecar.terminal = Shown()
        sidecar.command_name = "train"
        for number in range(records):
            sidecar.tally.add([{"x": number}])
        for _ in range(malformed):
            add_malformed(sidecar.tally, "not JSON", b"?")
        clock[0] += 2.34
        sidecar._summarize(returncode)
        assert sidecar.terminal.lines[0] == "benchmarkai: " + header
        assert sidecar.terminal.lines[2].split()[:2] == ["x", "%d" % records]


def test_the_summary_header_of_no_lines(monkeypatch):
    """Catches a tally that starts from another count than 0 records (the header of a run
    that wrote nothing said -1)."""
    monkeypatch.setattr(_sidecar, "_monotonic", lambda: 5.0)
    sidecar = _sidecar.Sidecar()
    sidecar.terminal = Shown()
    sidecar.command_name = "train"
    sidecar._summarize(0)
    header = "benchmarkai: 0 records and 0 malformed lines in 0.0 s; train exited with status 0"
    assert sidecar.terminal.lines == [header]


def test_five_malformed_lines_are_all_shown():
    """MALFORMED_SHOWN (5) lines are all shown: no "(the first 5 are shown)" yet."""
    series = tally()
    for _ in range(5):
        add_malformed(series, "not JSON", b"?")
    assert series.notes()[0] == "5 lines were not a JSON object:"


class TextOnly(object):
    """A text stream with no byte stream beneath (no ``buffer``), as some wrappers are."""
    encoding = "utf-8"

    def __init__(self):
        self.written = []

    def write(self, text):
        self.written.append(text)

    def flush(self):
        pass


def test_a_stream_without_a_byte_layer_is_written_as_text():
    stream = TextOnly()
    _summary.Terminal(stream).write_lines(["caf\u00e9 \u2581", "end"])
    written = "".join(part.decode("utf-8") if isinstance(part, bytes) else part for part in stream.written)
    assert written == "caf\u00e9 \u2581\nend\n"
