"""What ``benchmarkai run`` makes of the lines it reads: records, the running tally of every
metric, and how both are shown (a live line per record, a table with sparklines at the end)."""
import array
import collections
import json
import math

import six

BARS = u"\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"  # the eight block heights, lowest first
ASCII_BARS = u"_.,-=+*#"  # for a stream that cannot encode the blocks (Python 2 into a pipe, say)
SPARKLINE_WIDTH = 24
MALFORMED_SHOWN = 5  # the summary quotes this many malformed lines; it counts all of them
QUOTED_CHARS = 80


def parse(line):
    """(record, None) for a line holding a JSON object, else (None, what is wrong with it)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:
        record = json.loads(text, object_pairs_hook=collections.OrderedDict)
    except ValueError:
        return None, "not JSON"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    return record, None


def quote(line):
    """A received line as short, printable ASCII: JSON string syntax, cut at QUOTED_CHARS."""
    text = line.decode("utf-8", "replace")
    cut = text[:QUOTED_CHARS]
    return json.dumps(cut) + (u"..." if len(text) > QUOTED_CHARS else u"")


def is_number(value):
    return isinstance(value, (float,) + six.integer_types) and not isinstance(value, bool)


def _as_float(number):
    try:
        return float(number)
    except OverflowError:  # an int beyond the doubles
        return float("inf") if number > 0 else -float("inf")  # copysign() would convert it too


def figure(number):
    """A number as the table shows it: 6 significant digits."""
    return u"%.6g" % _as_float(number)


def record_text(record):
    """One record as its live line shows it: ``name=value`` pairs in the record's order."""
    return u" ".join(
        u"%s=%s" % (name, figure(value) if is_number(value) else json.dumps(value))
        for name, value in record.items()
    ) or u"{}"


class Tally(object):
    """Everything received so far: the series of every numeric metric, the other values and
    the lines that were not JSON objects."""

    def __init__(self):
        self.lines = 0
        self.records = 0
        self.series = collections.OrderedDict()  # metric name -> array of its values as floats
        self.last = {}  # metric name -> its last value, as received
        self.not_numbers = collections.OrderedDict()  # metric name -> how many values were not numbers
        self.malformed = 0
        self.malformed_shown = []  # (line number, what is wrong, quoted line), the first few

    def add(self, record):
        self.lines += 1
        self.records += 1
        for name, value in record.items():
            if is_number(value):
                if name not in self.series:
                    self.series[name] = array.array("d")
                self.series[name].append(_as_float(value))
                self.last[name] = value
            else:
                self.not_numbers[name] = self.not_numbers.get(name, 0) + 1

    def add_malformed(self, problem, line):
        self.lines += 1
        self.malformed += 1
        if len(self.malformed_shown) < MALFORMED_SHOWN:
            self.malformed_shown.append((self.lines, problem, quote(line)))

    def table(self, bars):
        """The summary table, as lines of text; ``bars`` are the sparkline's eight levels."""
        rows = [(u"metric", u"count", u"last", u"min", u"mean", u"max", u"series")]
        for name, values in self.series.items():
            finite = [value for value in values if not (math.isinf(value) or math.isnan(value))]
            if finite:
                lowest, mean, highest = (figure(min(finite)), figure(math.fsum(finite) / len(finite)),
                                         figure(max(finite)))
            else:
                lowest = mean = highest = u"-"
            rows.append((name, u"%d" % len(values), figure(self.last[name]), lowest, mean, highest,
                         sparkline(values, bars)))
        widths = [max(len(row[column]) for row in rows) for column in range(6)]
        lines = []
        for row in rows:
            cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:6], widths[1:])]
            lines.append(u"  " + u"  ".join(cells + [row[6]]))
        return lines

    def notes(self):
        """Lines telling what the table leaves out: malformed lines, values that are not numbers."""
        lines = []
        if self.malformed:
            lines.append(u"%d line%s not a JSON object%s:" % (
                self.malformed, u" was" if self.malformed == 1 else u"s were",
                u"" if self.malformed <= MALFORMED_SHOWN else u" (the first %d are shown)" % MALFORMED_SHOWN))
            for number, problem, quoted in self.malformed_shown:
                lines.append(u"  line %d, %s: %s" % (number, problem, quoted))
        if self.not_numbers:
            lines.append(u"values that are not numbers, left out of the table: " + u", ".join(
                u"%s (%d)" % (name, count) for name, count in self.not_numbers.items()))
        return lines


def sparkline(values, bars):
    """``values`` drawn with ``bars``: one character for each of at most SPARKLINE_WIDTH equal
    slices of the series (the mean of the slice), from the lowest level to the highest; a
    slice with no finite value is a space."""
    count = len(values)
    width = min(count, SPARKLINE_WIDTH)
    means = []
    for index in range(width):
        piece = [value for value in values[index * count // width:(index + 1) * count // width]
                 if not (math.isinf(value) or math.isnan(value))]
        means.append(math.fsum(piece) / len(piece) if piece else None)
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
