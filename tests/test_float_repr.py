"""_fastemit writes each float as repr() does, with its own shortest round-trip routine
(src/_float_repr.h): every special case listed below, random bit patterns (200k here; the
tox env ``floats`` sets BENCHMARKAI_FLOAT_PATTERNS to check millions), and in emitted lines
for every implementation."""
import json
import math
import os
import random
import struct
import sys
from fractions import Fraction

import pytest
from support import TESTS
from support.children import run
from support.implementations import fastemit_or_fail

from benchmarkai import _float_text

PATTERNS = int(os.environ.get("BENCHMARKAI_FLOAT_PATTERNS", "200000"))
CHUNK = 100000  # patterns formatted and compared at a time
SEED = 6
# What repr() says for the values json writes as a name (its sign dropped for NaN).
JSON_NAMES = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
MAX_BITS = 0x7FEFFFFFFFFFFFFF  # the largest finite double


def from_bits(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def to_bits(value):
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def around(value, steps=2):
    """The positive finite doubles within ``steps`` of |value|, itself included."""
    bits = to_bits(abs(value))
    return [from_bits(b) for b in range(max(bits - steps, 0), min(bits + steps, MAX_BITS) + 1)]


def midpoint_read(low):
    """The double that Python reads for the exact decimal halfway between ``low`` and the next
    double up: a tie, so the one of the two with an even significand."""
    middle = (Fraction(low) + Fraction(from_bits(to_bits(low) + 1))) / 2
    digits = middle.numerator * 10 ** 1100 // middle.denominator  # exact: a dyadic fraction
    return float("%de-1100" % digits)


def special_cases():
    values = [0.0, 1.0, 0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3.0, 2 / 3.0, math.pi, math.e, 123.456]
    # Powers of ten and two across the range, with their neighbours.
    for exponent in range(-323, 309):
        values += around(float("1e%d" % exponent))
    for exponent in range(-1074, 1024):
        values += around(math.ldexp(1.0, exponent))
    # Subnormals: the smallest ones one by one, the largest, and the normals next to them.
    values += [from_bits(bits) for bits in range(1, 2000)]
    values += around(from_bits(0x000FFFFFFFFFFFFF), 3) + around(sys.float_info.min, 3)
    values += around(sys.float_info.max, 3)  # clipped at the largest finite
    # Where repr switches between positional and exponent notation, a few steps either side.
    for switch in (1e-4, 1e-5, 1e15, 1e16, 1e17):
        values += around(switch, 50)
    values += [9999999999999998.0, 0.00009999999999999999, 1.2345678901234567e-5]
    # Seventeen significant digits at every scale.
    for exponent in range(-307, 309, 3):
        values += around(float("1.2345678901234567e%d" % exponent), 1)
        values += around(float("9.8765432109876543e%d" % exponent), 1)
    # Integers up to 2**53 and beyond it, where doubles stop holding every integer.
    for power in range(64):
        values += [float(2 ** power + delta) for delta in (-3, -1, 0, 1, 3)]
    for power in range(23):
        values += [float(10 ** power + delta) for delta in (-1, 0, 1)]
    values += [float(2 ** 53 + delta) for delta in range(-20, 21)]
    # Halfway between two doubles: what reading such a tie gives, at every scale.
    for exponent in range(-1074, 1024, 7):
        values += [midpoint_read(value) for value in around(math.ldexp(1.0, exponent), 1)]
    values += [midpoint_read(value) for value in around(1e16, 3) + around(1e-4, 3) + around(1e23, 3)]
    return values + [-value for value in values]


def expected_text(values):
    return [JSON_NAMES.get(text, text) for text in map(repr, values)]


def assert_formatted_as_repr(fastemit, packed):
    """``packed`` doubles (native order) come out of _fastemit as repr() writes them."""
    values = struct.unpack("=%dd" % (len(packed) // 8), packed)
    written = fastemit._format_floats(packed).split(u"\n")
    expected = expected_text(values)
    assert len(written) == len(values)
    if written != expected:
        wrong = [(hex(to_bits(value)), want, got)
                 for value, want, got in zip(values, expected, written) if want != got]
        pytest.fail("%d of %d floats differ from repr, e.g. (bits, repr, written): %r"
                    % (len(wrong), len(values), wrong[:10]))


def random_bytes(rng, size):
    if hasattr(int, "to_bytes"):
        return rng.getrandbits(8 * size).to_bytes(size, "little")
    return struct.pack("<%dQ" % (size // 8), *[rng.getrandbits(64) for _ in range(size // 8)])


@pytest.fixture(scope="module")
def fastemit():
    return fastemit_or_fail()


def test_the_examples_of_the_issue(fastemit):
    values = [1e-07, 1e+16, 0.1, 100.0, -0.0, 0.0, 5e-324, float("nan"), float("inf"), -float("inf")]
    written = fastemit._format_floats(struct.pack("=%dd" % len(values), *values)).split(u"\n")
    assert written == ["1e-07", "1e+16", "0.1", "100.0", "-0.0", "0.0", "5e-324",
                       "NaN", "Infinity", "-Infinity"]


def test_special_cases_are_written_as_repr(fastemit):
    values = special_cases()
    assert len(values) > 20000
    assert_formatted_as_repr(fastemit, struct.pack("=%dd" % len(values), *values))


def test_random_bit_patterns_are_written_as_repr(fastemit):
    rng = random.Random(SEED)
    left = PATTERNS
    while left > 0:
        size = min(left, CHUNK)
        assert_formatted_as_repr(fastemit, random_bytes(rng, 8 * size))
        left -= size


def test_random_metric_like_values_are_written_as_repr(fastemit):
    rng = random.Random(SEED)
    values = [rng.random() for _ in range(20000)]
    values += [math.exp(rng.uniform(-30, 40)) for _ in range(20000)]
    values += [round(rng.uniform(0, 100), rng.randint(0, 6)) for _ in range(20000)]
    assert_formatted_as_repr(fastemit, struct.pack("=%dd" % len(values), *values))


def test_emitted_lines_hold_the_floats_as_repr(impl, capsys):
    values = special_cases()[::7] + [float("nan"), float("inf"), -float("inf")]
    metrics = dict((u"x%d" % index, value) for index, value in enumerate(values))
    impl.emitter().emit(metrics)
    line = capsys.readouterr().out
    assert line.endswith("\n") and line.count("\n") == 1
    parsed = json.loads(line)
    assert [to_bits(parsed[name]) for name in metrics if not math.isnan(metrics[name])] == \
        [to_bits(value) for value in metrics.values() if not math.isnan(value)]
    # Every implementation, the fallback too: it writes json's text (ujson wrote 1e-7 for 1e-07).
    texts = expected_text(metrics.values())
    assert line == u"{%s}\n" % u",".join(u'"%s":%s' % pair for pair in zip(metrics, texts))


def test_the_table_is_what_its_generator_writes():
    # The generator also checks its logarithm approximations over every exponent, exactly.
    generator = os.path.join(TESTS, os.pardir, "src", "gen_float_table.py")
    returncode, out, err = run([sys.executable, generator, "--check"], timeout=300)
    assert (returncode, out, err) == (0, "", "")


def test_pypy_float_text_is_repr():
    """_float_text.float_repr (PyPy's fallback writes floats with it: a Python function, so
    every Python checks it here) is repr() for the special cases, random bit patterns and
    random values in the range it decides itself, [1e-4, 1e15). Catches a wrong digit count
    (15/16/17), a non-nearest or mis-rounded last digit, a power-of-two or tie decided by
    float arithmetic, a decimal point misplaced near a power of ten, a 16-digit decimal above
    2**53 taken or refused wrongly (no double holds it: its distance is checked instead)."""
    rng = random.Random(SEED)
    values = special_cases()
    values += [from_bits(rng.getrandbits(64)) for _ in range(PATTERNS // 4)]
    values += [rng.uniform(1e-4, 1e15) for _ in range(PATTERNS // 4)]
    values += [10 ** rng.uniform(-4.1, 15.1) for _ in range(PATTERNS // 4)]
    values += [round(rng.uniform(-1000, 1000), rng.randint(0, 12)) for _ in range(PATTERNS // 4)]
    values += above_2_53_at_16_digits(rng, PATTERNS // 4) + ties_at_15_digits(rng, PATTERNS // 4)
    values += [float("nan"), float("inf"), -float("inf")]
    found = [_float_text.float_repr(value) for value in values]
    expected = [repr(value) for value in values]
    mismatches = [(e, f) for e, f in zip(expected, found) if e != f]
    assert not mismatches[:10]


def above_2_53_at_16_digits(rng, count, top=14):
    """Floats whose 16-digit decimals, 9007199254740992 and up, no double holds exactly."""
    return [rng.uniform(0.9007199254740992, 1.0) * 10.0 ** rng.randint(-3, top) for _ in range(count)]


def ties_at_15_digits(rng, count):
    """Floats from 1e12 to 1e13 with 3 binary fraction digits: halfway between two 15-digit
    decimals (x.125, x.375 ...: 15 digits stop at 0.01) or exactly 15 digits (x.25)."""
    return [rng.randint(10 ** 12, 10 ** 13 - 1) + rng.randint(1, 7) / 8.0 for _ in range(count)]


def test_pypy_float_text_decides_itself(monkeypatch):
    """float_repr writes floats in its range itself, and hands repr() only a (near) tie at 16
    or 17 digits, which needs a float of few binary fraction digits, above 1e9 or so: on PyPy
    repr() costs a microsecond, 5 to 10 times float_repr. Catches 16 digits above 2**53
    (about one full-precision value in ten: 0.9007... to 0.9999...) or a tie at 15 digits
    (then nothing at 15 digits reads back) handed to repr()."""
    handed = []

    def counted_repr(value):
        handed.append(value)
        return repr(value)
    monkeypatch.setattr(_float_text, "_float_repr", counted_repr)
    rng = random.Random(SEED)
    values = above_2_53_at_16_digits(rng, 20000, top=8) + ties_at_15_digits(rng, 20000)
    values += [rng.uniform(1e-4, 1) for _ in range(20000)] + [10 ** rng.uniform(-4, 9) for _ in range(20000)]
    values += [round(rng.uniform(1, 1000), rng.randint(1, 6)) for _ in range(20000)]
    assert [_float_text.float_repr(value) for value in values] == [repr(value) for value in values]
    assert handed == []
