"""The fuzz target of tests/reliability/test_fuzz.py (hypothesis) and atheris_fastemit.py
(libFuzzer): mapping recipes of hostile input (support/hostile.py), and check_one, which
every implementation must pass for each, in stdout and in fifo mode: the same outcome, the
same lines (numbers bit for bit) or the same exception with the same message, and then
nothing written."""
import re

import six
from hypothesis import event
from hypothesis import strategies as st

from benchmarkai._fifo import PIPE_BUF
from support.hostile import ERRORS, MAPPINGS, mapping
from support.outcomes import fifo_outcome, parsed, stdout_outcome

ADDRESS = re.compile(r"0x[0-9a-f]+")
any_char = st.integers(0, 0x10FFFF).map(six.unichr)  # lone surrogates, NUL and controls too


def hashable(thing):
    return getattr(type(thing), "__hash__", None) is not None


texts = st.one_of(
    st.lists(any_char, min_size=0, max_size=12).map(u"".join),
    st.lists(st.sampled_from(u"\x00\x01\x1f\x7f\"\\\ud800\udfff\u2028\U0010ffff"), max_size=8).map(u"".join),
    st.integers(PIPE_BUF - 12, PIPE_BUF + 2).map(lambda n: u"n" * n),  # about one line long
    st.integers(1, 20000).map(lambda n: u"\xe9" * n),  # very long, six bytes a char escaped
)
huge_ints = st.one_of(
    st.integers(-2 ** 200, 2 ** 200), st.integers(-2 ** 66, 2 ** 66),
    st.sampled_from([2 ** 63 - 1, -2 ** 63, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -2 ** 64, -2 ** 64 - 1]),
    st.integers(4250, 4350).map(lambda digits: 10 ** digits - 1),  # Python 3.11's 4300-digit limit
    st.integers(5000, 20000).map(lambda digits: -10 ** digits),
)
floats = st.floats()  # NaN, infinities, -0.0, subnormals
other = st.sampled_from([None, True, False, u"1.0", b"1", complex(1, 2), (), object, Ellipsis, [], {}])
numbers = st.one_of(st.tuples(st.just("float"), floats), st.tuples(st.just("int"), huge_ints))
simple = st.one_of(numbers, st.tuples(st.just("other"), other))
behaviours = st.one_of(
    st.tuples(st.just("raise"), st.sampled_from(sorted(ERRORS))),
    st.tuples(st.just("return"), simple),
)
values = st.one_of(
    numbers, numbers, numbers, numbers, simple,
    st.tuples(st.just("float subclass"), floats, behaviours),
    st.tuples(st.just("int subclass"), huge_ints, behaviours),
    st.tuples(st.just("dunders"), st.one_of(st.none(), behaviours), behaviours),
    st.tuples(st.just("mutator"), st.sampled_from(["add", "delete", "clear"]), floats),
    st.tuples(st.sampled_from(["recursive list", "recursive dict", "the mapping"])),
)
names = st.one_of(
    st.tuples(st.just("text"), texts), st.tuples(st.just("text"), texts), st.tuples(st.just("text"), texts),
    st.tuples(st.just("str subclass"), texts, behaviours),
    st.tuples(st.just("not text"), st.one_of(numbers, st.tuples(st.just("other"), other.filter(hashable)))),
)
mappings = st.one_of(
    st.tuples(st.sampled_from(MAPPINGS[:-1]), st.lists(st.tuples(names, values), max_size=12)),
    st.tuples(st.just("lookup"), st.lists(st.tuples(names, values), max_size=6), behaviours),
)


def comparable_outcome(found):
    """An outcome (support/outcomes.py) of a mapping made from a recipe, as it compares with
    another call's: its lines parsed; in its message, the addresses of the objects that call
    made for itself (all that may differ) left out."""
    if found[0] == "error":
        return found[:2] + (ADDRESS.sub("0x?", found[2]),) + found[3:]
    return ("lines", parsed(found[1]))


def check_one(emitters, recipe):
    """The same outcome from every implementation, in both modes, each given a mapping of its
    own made from ``recipe``; nothing written on error. ``emitters``: every_emitter()'s."""
    stdout = [comparable_outcome(stdout_outcome(emitter, mapping(recipe), Exception)) for _, emitter, _ in emitters]
    fifo = [comparable_outcome(fifo_outcome(pipe, mapping(recipe), Exception)) for _, _, pipe in emitters]
    for (who, _, _), out, piped in zip(emitters, stdout, fifo):
        assert out == stdout[0], who
        assert piped == fifo[0], who
    for result in (stdout[0], fifo[0]):
        if result[0] == "error":
            assert result[3] == "", "an error, and yet something was written"
            event("%s: %s" % (result[1].__name__, result[2][:40].split(":")[0]))
        else:
            event("lines: %d" % min(len(result[1]), 3))
    if stdout[0][0] == "lines" and fifo[0][0] == "lines":
        # stdout gets one line; the FIFO the same pairs, cut at PIPE_BUF.
        assert [pair for line in fifo[0][1] for pair in line] == stdout[0][1][0]
