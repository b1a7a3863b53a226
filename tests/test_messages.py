"""The parts of error messages that the other tests only search for a word of: what they
show of the metric, filled in where it belongs. Each caught a mutant that survived the suite
(docs/mutation.md), as did test_validation's exact message for a repeated name."""
import sys

import pytest
import six
from support.cases import BadRepr

from benchmarkai._config import FifoSettings
from benchmarkai._fifo import Fifo


def unprintable():
    """A name whose repr() fails past reprlib's own guard: an int past Python 3.11+'s digit
    limit; on Python 2 any failing __repr__ (Python 3.6-3.10's reprlib catches those)."""
    if hasattr(sys, "set_int_max_str_digits"):
        return 10 ** 5000
    if six.PY2:
        return BadRepr()
    pytest.skip("reprlib shows any object here")


def test_an_unprintable_name_is_shown_as_its_type(impl):
    # An int name is converted as json converts it, and this one has too many digits for
    # that (ValueError); any other object is no name at all (TypeError).
    name = unprintable()
    error = ValueError if isinstance(name, int) else TypeError
    with pytest.raises(error) as caught:
        impl.emitter().emit({name: 1.0})
    assert str(caught.value).startswith("metric <%s object>" % type(name).__name__)


@pytest.mark.skipif(not hasattr(sys, "set_int_max_str_digits"), reason="Python 3.11+ digit limit")
@pytest.mark.parametrize("sign", [1, -1], ids=["positive", "negative"])
def test_an_int_too_long_to_print_is_named_whatever_its_sign(impl, sign):
    """The digit limit's ValueError names the metric for a negative int too: the bound that
    lets small ints skip the check was mutated to let every negative one skip it, unnoticed."""
    with pytest.raises(ValueError) as caught:
        impl.emitter().emit({u"huge": sign * 10 ** 5000})
    assert str(caught.value).startswith("metric %r: " % u"huge")


@pytest.mark.parametrize("kind", ["directory", "regular file"])
def test_a_path_that_is_not_a_fifo_is_told_what_it_is(impl, tmp_path, kind):
    path = tmp_path / "not-a-fifo"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_text(u"")
    emit = impl.emitter(Fifo(FifoSettings(str(path), max_wait=1.0, step=0.01))).emit
    with pytest.raises(OSError) as caught:
        emit({u"loss": 0.5})
    assert "BENCHMARK_AI_FIFO_FILEPATH names a %s, not a named pipe" % kind in str(caught.value)
