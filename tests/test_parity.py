"""The implementations agree on every input: the same bytes, or the same exception type and
message with nothing written; and what they write is what 0.1's json.dumps(metrics) wrote,
compact. Random inputs, valid and not, nested values and every kind of name included."""
import collections
import decimal
import fractions
import json
import os

import pytest
import six

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from support.implementations import Implementation, InProcessFifo, pypy_fallback
from support.outcomes import fifo_outcome, parsed, stdout_outcome

from benchmarkai import _fallback
from benchmarkai._fifo import PIPE_BUF
from benchmarkai._validation import plain_metrics

# Any code point, lone surrogates included (hypothesis's text() leaves those out).
any_char = st.integers(0, 0x10FFFF).map(six.unichr)
texts = st.one_of(
    st.text(max_size=20),
    st.lists(any_char, max_size=40).map(u"".join),
    st.text(alphabet=u"abc/\u00e9\U0001F600\x7f\n\"\\", min_size=100, max_size=600),
)
names = st.one_of(
    texts,
    st.integers(0, 40).map(lambda n: u"n" * (4050 + n)),  # around the largest pair a line holds
    # What json converts to text itself: True is "true" on Python 3, "True" on 2.7; two NaN
    # names, or 1 and "1", become the same text.
    st.integers(), st.floats(), st.booleans(), st.none(), st.sampled_from([u"1", u"NaN", u"true", u"null"]),
)
# bytes: refused on Python 3, UTF-8 text on 2.7
bad_names = st.one_of(st.binary(max_size=3), st.tuples(st.integers()), st.frozensets(st.integers(), max_size=1))
numbers = st.one_of(
    st.floats(),  # NaN, infinities and subnormals included
    st.floats(min_value=-1e-300, max_value=1e-300),
    st.integers(),
    st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.sampled_from([2 ** 63 - 1, -2 ** 63, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -2 ** 64]),
    st.decimals(allow_nan=False).map(decimal.Decimal),
    st.fractions().map(fractions.Fraction),
)
leaves = st.one_of(numbers, texts, st.booleans(), st.none())
values = st.one_of(leaves, st.recursive(leaves, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.lists(children, max_size=3).map(tuple),
    st.lists(st.tuples(names, children), max_size=4).map(collections.OrderedDict),
), max_leaves=10))
bad_values = st.one_of(st.binary(max_size=3), st.sets(st.integers(), max_size=2), st.just(complex(1, 1)),
                       st.binary(max_size=2).map(bytearray), st.lists(st.sets(st.none()), min_size=1, max_size=1))
pairs = st.lists(st.tuples(names, values), min_size=1, max_size=40)
mappings = st.one_of(  # mostly valid mappings, some of them long enough to split
    pairs.map(dict),
    pairs.map(collections.OrderedDict),
    pairs.map(dict),
    pairs.map(collections.OrderedDict),
    st.lists(st.tuples(st.one_of(names, bad_names), st.one_of(values, bad_values)), max_size=8).map(
        collections.OrderedDict),
    st.one_of(st.none(), st.lists(st.tuples(names, numbers), max_size=2), st.floats()),
)


def repeats_a_name(node):
    """Whether parsed() JSON has an object that holds a name twice."""
    if isinstance(node, list):
        if node and isinstance(node[0], tuple):  # an object's pairs
            names = [name for name, _ in node]
            return len(set(names)) < len(names) or any(repeats_a_name(value) for _, value in node)
        return any(repeats_a_name(item) for item in node)
    return False


# No example database: with one, Hypothesis 4 (the last for Python 2.7) spent over ten minutes
# optimising the "pareto front" of these nested examples it keeps.
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(metrics=mappings)
def test_every_implementation_gives_the_same_outcome(emitters, metrics):
    stdout = [stdout_outcome(emitter, metrics) for _, emitter, _ in emitters]
    fifo = [fifo_outcome(pipe, metrics) for _, _, pipe in emitters]
    for name, out, piped in zip([name for name, _, _ in emitters], stdout, fifo):
        assert out == stdout[0], name  # the same bytes, or the same error
        assert piped == fifo[0], name
    event(stdout[0][0] if stdout[0][0] == "error" else "fifo %s" % fifo[0][0]
          if fifo[0][0] == "error" else "fifo lines: %s" % min(fifo[0][1].count("\n"), 3))
    if stdout[0][0] == "error":
        assert stdout[0][3] == "" and fifo[0] == stdout[0]  # the same error, nothing written
    elif fifo[0][0] == "error":
        # Only the FIFO limits a line to PIPE_BUF: a pair that cannot fit is refused whole.
        assert "does not fit in one line" in fifo[0][2] and fifo[0][3] == ""
    else:
        # stdout gets one line; the FIFO the same pairs, cut at PIPE_BUF.
        lines = parsed(stdout[0][1])
        assert len(lines) == 1
        assert lines[0] == [pair for line in parsed(fifo[0][1]) for pair in line]
    assert_as_0_1_wrote(metrics, stdout[0])


def assert_as_0_1_wrote(metrics, found):
    """What 0.1's json.dumps(metrics) wrote, compact, is written the same, byte for byte
    (so parsed the same, order and repeated names kept), unless it repeats a name in an
    object, which is refused; or the mapping is empty (refused, as 0.1 refused it)."""
    if not isinstance(metrics, Mapping) or not metrics:
        return
    try:
        text = json.dumps(metrics, separators=(",", ":"))
    except (TypeError, ValueError):  # 0.1 refused it; more numbers are accepted now (Decimal...)
        return
    if repeats_a_name(json.loads(text, object_pairs_hook=list)):
        event("0.1 wrote a name twice: refused")
        assert found[:2] == ("error", ValueError) and "appears twice" in found[2]
    else:
        event("0.1 wrote it: the same bytes")
        assert found == ("lines", text + "\n")


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs=st.lists(st.tuples(names, st.one_of(st.floats(), st.integers(), numbers)), min_size=1, max_size=40))
@example(pairs=[(u"v%d" % i, value) for i, value in enumerate(  # repr() with one digit before "e", or none
    [1e-07, 5e-324, 1e+16, -2e-05, 1.5e-05, float("nan"), float("inf"), -float("inf"), -0.0])])
def test_the_pypy_text_is_json_text_byte_for_byte(pairs):
    """The line text PyPy's fallback makes itself (a Python function: every Python runs it
    here) is json's, byte for byte. Catches a float written otherwise than repr() writes it
    (NaN, Infinity, 1e-07, -0.0, 5e-324), an int or name escaped otherwise than json does."""
    try:
        plain = plain_metrics(collections.OrderedDict(pairs))
    except ValueError:  # two names that become the same text: refused before any text is made
        assume(False)
    assert pypy_plain_and_text()(plain)[1] == _fallback._json_text(plain)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(metrics=mappings)
def test_the_pypy_text_of_any_mapping_is_json_text_or_the_same_error(metrics):
    """PyPy's line function takes the user's mapping (its one pass checks the pairs it writes
    itself): for any mapping, it returns plain_metrics' result and json's text of it, or
    raises the same error; the user's mapping itself only where plain_metrics returns it.
    Catches a pair written as it is that plain_metrics would refuse or convert (a bool, a
    float or str subclass, a name that is not str), a mapping of another type read without
    plain_metrics, or the user's mapping returned where plain_metrics copies it (a split
    line would be made from it, and run its conversions again)."""
    assert_pypy_text_is_json_text_or_the_same_error(metrics)


def test_the_pypy_text_of_an_int_past_the_digit_limit_is_the_same_error():
    """Catches an int past Python 3.11+'s digit limit written as it is by PyPy's one pass
    (plain_metrics refuses it). Not a Hypothesis example: Hypothesis shows its examples with
    repr(), which raises for such an int (Python 3.7.14+ has the limit too)."""
    assert_pypy_text_is_json_text_or_the_same_error({u"loss": 0.5, u"huge": 10 ** 5000})


def pypy_plain_and_text():
    """PyPy's line function, made here on any Python (it is plain Python)."""
    return _fallback._pypy_text_functions()[0]


def assert_pypy_text_is_json_text_or_the_same_error(metrics):
    try:
        plain = plain_metrics(metrics)
        expected = ("line", _fallback._json_text(plain), plain is metrics)
    except (TypeError, ValueError) as error:
        expected = ("error", type(error), str(error))
    try:
        plain, text = pypy_plain_and_text()(metrics)
        found = ("line", _fallback._json_text(plain), text, plain is metrics)
    except (TypeError, ValueError) as error:
        found = ("error", type(error), str(error))
    if found[0] == "line":  # the text is the text of the mapping returned
        assert found[2] == found[1]
        found = found[:2] + found[3:]
    assert found == expected


@pytest.mark.parametrize("too_long", [False, True])
def test_the_pypy_fallback_splits_an_unchecked_dict_as_the_fallback_does(tmpdir, too_long):
    """An exact dict that PyPy's emit hands to its text function unchecked, too long for one
    line and holding names and values that plain_metrics converts (True, 1.5, Decimal, a
    tuple, a float subclass), is split into the same lines as the fallback writes, or
    refused with the same message when one pair cannot fit in a line. Catches the split made
    from the user's dict as it is (unconverted values; the name True, not "true", in the
    message) rather than plain_metrics' copy."""
    class Ratio(float):
        pass
    metrics = dict((u"metric %d %s" % (index, u"x" * 200), value) for index, value in enumerate(
        [decimal.Decimal("1.5"), (1, 2.5), Ratio(0.25), 7, 0.125] * 8))
    metrics[True] = u"y" * (PIPE_BUF if too_long else 200)
    metrics[1.5] = 0.5
    found = []
    for impl in (Implementation("python", _fallback.Emitter), pypy_fallback()):
        path = str(tmpdir.join(impl.name))
        os.mkfifo(path)
        pipe = InProcessFifo(path, impl)
        try:
            pipe.emit(metrics)
            found.append(("lines", pipe.read()))
        except ValueError as error:
            found.append(("error", str(error), pipe.read()))
        pipe.close()
    assert found[0][0] == ("error" if too_long else "lines")
    assert too_long or found[0][1].count(b"\n") > 1
    assert found[1] == found[0]


def test_the_pypy_fallback_splits_the_dict_a_conversion_changed_as_it_was(tmpdir):
    """A long exact dict holding a value whose conversion (written in Python) adds a metric:
    PyPy's emit writes the same split lines as the fallback, made from the mapping as it was,
    and converts the value once. Catches the split made from the user's dict as the
    conversion left it (the added metric written, the conversion run a second time), which
    the fuzz test's mutator found."""
    found = [emit_with_a_growing_value(tmpdir, Implementation("python", _fallback.Emitter)),
             emit_with_a_growing_value(tmpdir, pypy_fallback())]
    assert found[0][0].count(b"\n") > 1 and b"added" not in found[0][0]
    assert found[1] == found[0] == (found[0][0], 1)


def emit_with_a_growing_value(tmpdir, impl):
    """What ``impl`` writes of 40 long metrics and one whose __float__ adds a metric, into a
    real FIFO; and how many times that __float__ ran."""
    calls = []

    class Growing(object):
        def __float__(self):
            calls.append(1)
            metrics[u"added%d" % len(calls)] = 1.0
            return 0.25
    metrics = dict((u"metric %d %s" % (index, u"x" * 200), 0.5) for index in range(40))
    metrics[u"grows"] = Growing()  # an exact dict: the one PyPy's one pass looks at
    path = str(tmpdir.join(impl.name))
    os.mkfifo(path)
    pipe = InProcessFifo(path, impl)
    pipe.emit(metrics)
    written = pipe.read()
    pipe.close()
    return written, len(calls)


def test_the_pypy_fallback_reads_a_mapping_once(tmpdir):
    """A mapping that is not an exact dict is read once (one items() call), as the fallback
    reads it, also when its line is split. Catches PyPy's emit handing such a mapping on
    unread, so that the text and the split lines read it twice (it may change meanwhile)."""
    class Counted(collections.OrderedDict):
        reads = 0

        def items(self):
            Counted.reads += 1
            return collections.OrderedDict.items(self)
    metrics = Counted((u"metric %d %s" % (index, u"x" * 200), 0.5) for index in range(40))
    path = str(tmpdir.join("fifo"))
    os.mkfifo(path)
    pipe = InProcessFifo(path, pypy_fallback())
    pipe.emit(metrics)
    assert pipe.read().count(b"\n") > 1
    pipe.close()
    assert Counted.reads == 1


@pytest.mark.skipif(six.PY2, reason="a PyPy 3 path: unicode names and longs go to json on Python 2")
def test_the_pypy_text_writes_the_common_line_itself():
    """Text names to floats and ints below 2**64 either way are written without json (on
    PyPy its encoder is Python code, several times slower). Catches a check that sends such
    a pair to json: the same bytes, only slower."""
    def no_json(mapping):  # in _plain_and_json_text's place
        raise AssertionError("json was asked for %r" % (mapping,))
    metrics = {u"loss": 0.25, u"step": 7, u"low": -2 ** 64 + 1, u"high": 2 ** 64 - 1, u"nan": float("nan")}
    assert _fallback._pypy_text_functions(no_json)[0](metrics) == (metrics, _fallback._json_text(metrics))


@pytest.mark.skipif(six.PY2, reason="a PyPy 3 path: unicode names go to json on Python 2")
def test_the_pypy_text_escapes_a_name_once(monkeypatch):
    """The escaped text of up to 1024 names is kept between lines. Catches a cache emptied
    before it is full, which escapes every name of every line again: the same bytes, slower."""
    escaped = []
    escape = json.encoder.encode_basestring_ascii
    monkeypatch.setattr(json.encoder, "encode_basestring_ascii", lambda name: escaped.append(name) or escape(name))
    plain_and_text = pypy_plain_and_text()
    metrics = dict((u"m%d" % index, float(index)) for index in range(1000))
    for _ in range(3):
        assert plain_and_text(metrics)[1] == _fallback._json_text(metrics)
    assert len(escaped) == 1000


def test_the_pypy_text_keeps_names_right_past_its_cache():
    """Catches a name cache that, once full, serves a wrong or stale text (it empties itself
    at 1024 names)."""
    plain_and_text = pypy_plain_and_text()
    for start in (0, 1000, 2000, 0):
        plain = collections.OrderedDict((u"m\u00e9/%d" % i, float(i)) for i in range(start, start + 700))
        assert plain_and_text(plain)[1] == _fallback._json_text(plain)
