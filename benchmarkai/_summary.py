"""What ``benchmarkai run`` makes of the lines it reads: records, the running tally of every
metric, and how both are shown (a live line per record, a table with sparklines at the end)."""
import array
import collections
import decimal
import itertools
import json
import math
import operator
import random
import re
import sys

import six

BARS = u"\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"  # the eight block heights, lowest first
ASCII_BARS = u"_.,-=+*#"  # for a stream that cannot encode the blocks (Python 2 into a pipe, say)
SPARKLINE_WIDTH = 24
MALFORMED_SHOWN = 5  # the summary quotes this many malformed lines; it counts all of them
QUOTED_CHARS = 80
NUMBERS = frozenset(six.integer_types + (float,))  # what the table sums up: not bool, whose type is bool
_RecursionError = getattr(six.moves.builtins, "RecursionError", RuntimeError)  # Python 2: RuntimeError
_is_finite = getattr(math, "isfinite", lambda value: not (math.isinf(value) or math.isnan(value)))
# Since 3.7 every dict keeps its keys' order, and json.loads makes them faster than OrderedDicts.
_LOADS_OPTIONS = {} if sys.version_info >= (3, 7) else {"object_pairs_hook": collections.OrderedDict}
RECORD_TYPES = frozenset([dict, collections.OrderedDict])
# parse_lines parses many lines at once as one JSON array, in which this number, drawn anew for
# each run so that no line can hold it by design, stands between two lines.
_SEPARATOR_VALUE = random.SystemRandom().getrandbits(62)
_SEPARATOR = (",%d," % _SEPARATOR_VALUE).encode("ascii")
# Tally.add_same_shape: a value's bytes in a line, as a character class. It holds every JSON
# number, NaN, Infinity and -Infinity, and no other JSON value (no quote, bracket, comma, and
# none of the letters of true, false, null): json.loads, which reads the values, says which are
# numbers.
_VALUE = b"[-+.0-9eEINafinty]+"
# A field of a line in a shape add_same_shape takes: a name with no character that could stand
# for the JSON around it (nor an escape), then a value and what follows it.
_SIMPLE_FIELD = re.compile(br'"([^"\\{},:\n]+)":' + _VALUE + b"([,}])")
_SHAPES_KEPT = 32  # shapes (names in order) whose patterns are kept for the next reads


class Malformed(object):
    """A line that is not a JSON object, and what is wrong with it."""
    __slots__ = ("problem", "line")

    def __init__(self, problem, line):
        self.problem = problem
        self.line = line


def parse_lines(lines):
    """One result for each line (bytes, without its newline), in order: the JSON object it
    holds, as a dict, or a Malformed.

    One json.loads reads all of them, as the elements of an array with _SEPARATOR_VALUE
    between them: it is several times faster than a json.loads per line. The lines were each
    one JSON object when the array holds, in turn, a dict and the separator, and nothing else
    (a line cannot hide the separator, so no line can close another's brackets or add elements).
    Otherwise each half is parsed so, down to single lines, which are parsed alone."""
    if len(lines) <= 1:
        return [_parse_line(line) for line in lines]
    try:
        values = _loads((b"[" + _SEPARATOR.join(lines) + b"]").decode("utf-8"))
    except (ValueError, _RecursionError):  # UnicodeDecodeError is a ValueError
        values = ()
    records = values[::2]
    if (len(values) == 2 * len(lines) - 1 and values[1::2].count(_SEPARATOR_VALUE) == len(lines) - 1
            and RECORD_TYPES.issuperset(map(type, records))):
        return records
    half = len(lines) // 2
    return parse_lines(lines[:half]) + parse_lines(lines[half:])


def _parse_line(line):
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return Malformed(u"not UTF-8", line)
    try:
        record = _loads(text)
    except ValueError:
        return Malformed(u"not JSON", line)
    except _RecursionError:
        return Malformed(u"nested too deeply", line)
    if type(record) not in RECORD_TYPES:
        return Malformed(u"not a JSON object", line)
    return record


def _loads(text):
    return json.loads(text, **_LOADS_OPTIONS)


def quote(line):
    """A received line as short, printable ASCII: JSON string syntax, cut at QUOTED_CHARS."""
    text = line.decode("utf-8", "replace")
    cut = text[:QUOTED_CHARS]
    return json.dumps(cut) + (u"..." if len(text) > QUOTED_CHARS else u"")


def brief(value):
    """A value that is not a number as JSON text, cut at QUOTED_CHARS."""
    try:
        text = json.dumps(value)
    except _RecursionError:  # parsed nearer the bottom of the stack than it is shown
        return u"[...]" if isinstance(value, list) else u"{...}"
    return text if len(text) <= QUOTED_CHARS else text[:QUOTED_CHARS] + u"..."


def _as_float(number):
    try:
        return float(number)
    except OverflowError:  # an int beyond the doubles
        return float("inf") if number > 0 else float("-inf")


def figure(number):
    """A number as the table shows it: 6 significant digits."""
    try:
        return u"%.6g" % number
    except OverflowError:  # an int beyond the doubles: shown from its own digits
        return u"%s" % format(decimal.Decimal(number), ".6g")


def record_text(record):
    """One record as its live line shows it: ``name=value`` pairs in the record's order."""
    return u" ".join(
        u"%s=%s" % (name, figure(value) if type(value) in NUMBERS else brief(value))
        for name, value in record.items()
    ) or u"{}"


def result_text(result):
    """What parse_lines made of a line, as its live line shows it."""
    if type(result) is Malformed:
        return u"malformed line (%s): %s" % (result.problem, quote(result.line))
    return record_text(result)


class Tally(object):
    """Every line received so far: the series of every numeric metric, the other values and
    the lines that were not JSON objects."""

    def __init__(self):
        self.lines = 0
        self.records = 0
        self.names = collections.OrderedDict()  # every metric name, in the order they first came -> None
        self.series = {}  # metric name -> array of its values as floats
        self.last = {}  # metric name -> its last numeric value, as received
        self.others = {}  # metric name -> [how many values were not numbers, the last]
        self.malformed = 0
        self.malformed_shown = []  # (line number, what is wrong, quoted line), the first few

    def add(self, results):
        """Count in parse_lines' results for the lines that follow those counted so far."""
        if Malformed in set(map(type, results)):
            self._add_one_by_one(results)
        else:  # the common case, taken a column at a time: runs of records with as many metrics
            for _, run in itertools.groupby(results, len):
                self._add_run(list(run))
        self.lines += len(results)
        self.records = self.lines - self.malformed

    def add_same_shape(self, lines):
        """Count in lines (bytes, without their newline) if each is a compact JSON object of
        numbers with the same names in the same order as the first, written as the first
        writes them; then True. Else False, and nothing is counted: parse_lines and add will.

        It counts what they would, at a fraction of their time: one regular expression match
        proves that every line has the shape, the names are then cut out, and one json.loads
        reads all the values as one array, a column every len(names) values."""
        shape = _shape(lines[0])
        if shape is None:
            return False
        pattern, literals, names = shape
        text = b"\n".join(lines) + b"\n"
        if pattern.match(text).end() != len(text):
            return False
        # A line is now literals[0], a value, literals[1], ..., a value, "}\n". "{" and "}"
        # stand nowhere else, "," only before a name (no name holds a quote, none comes
        # twice): so each literal is found only where it stands, and the values are left
        # with a comma between two, one JSON array element each.
        text = text[len(literals[0]):-2].replace(b"}\n" + literals[0], b",")
        for literal in literals[1:]:
            text = text.replace(literal, b",")
        try:
            values = json.loads(b"[" + text + b"]")
        except ValueError:  # a value that is not a JSON number, such as 1. or 01
            return False
        for name in names:
            self.names.setdefault(name)
        for index, name in enumerate(names):
            column = values[index::len(names)]
            try:
                values_as_floats = array.array("d", column)
            except OverflowError:  # an int beyond the doubles
                values_as_floats = array.array("d", map(_as_float, column))
            self._add_numbers(name, column, values_as_floats)
        self.lines += len(lines)
        self.records = self.lines - self.malformed
        return True

    def _add_run(self, records):
        """Count in records that may all have the same names (the first one's)."""
        names = list(records[0])
        if not names:
            return
        for name in names:
            self.names.setdefault(name)
        try:
            rows = list(map(operator.itemgetter(*names), records))
        except KeyError:  # they have not
            return self._add_one_by_one(records)
        for name, column in zip(names, zip(*rows) if len(names) > 1 else [rows]):
            values = None
            if NUMBERS.issuperset(map(type, column)):
                try:
                    values = array.array("d", column)
                except OverflowError:  # an int beyond the doubles
                    pass
            if values is None:
                for value in column:
                    self._add_value(name, value)
                continue
            self._add_numbers(name, column, values)

    def _add_numbers(self, name, column, values):
        """Count in a column of numbers, as received, and ``values``, the same as floats."""
        if name in self.series:
            self.series[name].extend(values)
        else:
            self.series[name] = values
        self.last[name] = column[-1]

    def _add_one_by_one(self, results):
        for number, result in enumerate(results, self.lines + 1):
            if type(result) is Malformed:
                self._add_malformed(number, result)
            else:
                for name, value in result.items():
                    self._add_value(name, value)

    def _add_value(self, name, value):
        self.names.setdefault(name)
        if type(value) in NUMBERS:
            if name not in self.series:
                self.series[name] = array.array("d")
            self.series[name].append(_as_float(value))
            self.last[name] = value
        else:
            counted = self.others.get(name)
            if counted is None:
                self.others[name] = [1, value]
            else:
                counted[0] += 1
                counted[1] = value

    def _add_malformed(self, number, malformed):
        self.malformed += 1
        if len(self.malformed_shown) < MALFORMED_SHOWN:
            self.malformed_shown.append((number, malformed.problem, quote(malformed.line)))

    def table(self, bars):
        """The summary table, as lines of text; ``bars`` are the sparkline's eight levels."""
        rows = [(u"metric", u"count", u"last", u"min", u"mean", u"max", u"series")]
        for name in self.names:
            if name not in self.series:
                continue
            values = self.series[name]
            finite, total = _finite_values(values)
            if finite:
                lowest, mean, highest = figure(min(finite)), figure(total / len(finite)), figure(max(finite))
            else:
                lowest = mean = highest = u"-"
            rows.append((name, u"%d" % len(values), figure(self.last[name]), lowest, mean, highest,
                         sparkline(values, bars)))
        return _columns(rows)

    def notes(self):
        """Lines telling what the table leaves out: malformed lines, values that are not numbers."""
        lines = []
        if self.malformed:
            lines.append(u"%d line%s not a JSON object%s:" % (
                self.malformed, u" was" if self.malformed == 1 else u"s were",
                u"" if self.malformed <= MALFORMED_SHOWN else u" (the first %d are shown)" % MALFORMED_SHOWN))
            for number, problem, quoted in self.malformed_shown:
                lines.append(u"  line %d, %s: %s" % (number, problem, quoted))
        if self.others:
            lines.append(u"values that are not numbers, left out of the table:")
            lines.extend(_columns([(u"metric", u"values", u"last")] + [
                (name, u"%d" % self.others[name][0], brief(self.others[name][1]))
                for name in self.names if name in self.others]))
        return lines


_shapes = {}  # the raw names of a line, in order -> (the pattern of a read of such lines, its literals, the names)


def _shape(line):
    """The pattern, literals and names add_same_shape needs for lines like ``line``, or None
    if it cannot take them."""
    if line[:1] != b"{":
        return None
    raw_names = []
    end = 1
    follows = b","
    while follows == b",":
        field = _SIMPLE_FIELD.match(line, end)
        if field is None:
            return None
        raw_names.append(field.group(1))
        end = field.end()
        follows = field.group(2)
    if end != len(line):
        return None
    raw_names = tuple(raw_names)
    if raw_names not in _shapes:
        record = _parse_line(line)  # the names as JSON reads them: not UTF-8, or a control character?
        if type(record) is Malformed or len(record) != len(raw_names):  # or a name twice
            return None
        literals = [b'{"' + raw_names[0] + b'":'] + [b',"' + name + b'":' for name in raw_names[1:]]
        pattern = re.compile(b"(?:" + b"".join(re.escape(literal) + _VALUE for literal in literals) + b"\\}\n)*")
        if len(_shapes) >= _SHAPES_KEPT:
            _shapes.clear()
        _shapes[raw_names] = (pattern, literals, list(record))
    return _shapes[raw_names]


def _finite_values(values):
    """``values`` without their NaNs and infinities, and their exact sum (math.fsum):
    ``values`` itself when it has none, which that sum tells faster than a look at each value."""
    try:
        total = math.fsum(values)
        if _is_finite(total):
            return values, total
    except (OverflowError, ValueError):  # a sum beyond the doubles, or inf + -inf
        pass
    finite = list(filter(_is_finite, values))
    return finite, math.fsum(finite)


def _columns(rows):
    """Rows of cells as lines of text: the first column left-aligned, the last as it is, the
    others right-aligned."""
    last = len(rows[0]) - 1
    widths = [max(len(row[column]) for row in rows) for column in range(last)]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:last], widths[1:])]
        lines.append(u"  " + u"  ".join(cells + [row[last]]))
    return lines


def sparkline(values, bars):
    """``values`` drawn with ``bars``: one character for each of at most SPARKLINE_WIDTH equal
    slices of the series (the mean of the slice), from the lowest level to the highest; a
    slice with no finite value is a space."""
    count = len(values)
    width = min(count, SPARKLINE_WIDTH)
    means = []
    for index in range(width):
        piece, total = _finite_values(values[index * count // width:(index + 1) * count // width])
        means.append(total / len(piece) if piece else None)
    finite = [mean for mean in means if mean is not None]
    if not finite:
        return u" " * width
    lowest, highest = min(finite), max(finite)
    top = len(bars) - 1
    chars = []
    for mean in means:
        if mean is None:
            chars.append(u" ")
        elif highest == lowest:
            chars.append(bars[top // 2])
        else:
            chars.append(bars[int(round((mean - lowest) / (highest - lowest) * top))])
    return u"".join(chars)


class Terminal(object):
    """A text stream (stderr) that what it is given to show can never make fail: it takes the
    stream's encoding, escapes what the encoding lacks, and picks ASCII bars if it lacks the
    block characters."""

    def __init__(self, stream):
        self._stream = stream
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            BARS.encode(encoding)
            self.bars = BARS
        except LookupError:
            encoding = "ascii"
            self.bars = ASCII_BARS
        except UnicodeError:
            self.bars = ASCII_BARS
        self._encoding = encoding
        # Python 2's streams take bytes; Python 3's text streams have a byte stream beneath.
        self._bytes = stream if six.PY2 else getattr(stream, "buffer", None)

    def write_lines(self, lines):
        text = u"".join(line + u"\n" for line in lines)
        data = text.encode(self._encoding, "backslashreplace")
        if self._bytes is None:
            self._stream.write(data.decode(self._encoding))
            self._stream.flush()
        else:
            self._stream.flush()  # what went through the text layer comes first
            self._bytes.write(data)
            self._bytes.flush()
