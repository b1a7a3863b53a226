"""Checking a metrics mapping. Shared by both implementations, so their errors are the same."""
import collections
import operator
import platform
import sys

import six
from six.moves import reprlib

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping

# Python 3.7+ dicts keep insertion order; earlier ones need OrderedDict to keep the user's order.
_OrderedDict = dict if sys.version_info >= (3, 7) else collections.OrderedDict

# Integers this small always format; bigger ones may trip Python 3.11+'s int-to-str digit limit.
_SMALL_INT = 2 ** 64

_text_type = six.text_type
_iteritems = dict.iteritems if six.PY2 else dict.items  # six.iteritems costs a Python call

_short_repr = reprlib.Repr()
_short_repr.maxstring = _short_repr.maxother = 60


def _shown(thing):
    """``thing``'s short repr for a message. A repr that fails (an int past Python 3.11+'s
    digit limit, a broken __repr__) must not replace the error being reported."""
    try:
        return _short_repr.repr(thing)
    except Exception:
        return "<%s object>" % type(thing).__name__


def plain_metrics(metrics):
    """Return ``metrics`` as a dict of text name -> exact int or float, in the mapping's order.

    An exact dict that already is one comes back as it is; anything else is checked
    and copied. Raises TypeError or ValueError naming the first bad metric.
    """
    if type(metrics) is dict and metrics:
        for name, value in _iteritems(metrics):
            if type(name) is not _text_type or not name:
                break
            if type(value) is not float and not (type(value) is int and -_SMALL_INT < value < _SMALL_INT):
                break
        else:
            return metrics
    return _checked_copy(metrics)


def pair_too_long(name, size, limit):
    """The ValueError for a metric whose pair alone makes a line longer than ``limit`` bytes."""
    return ValueError(
        "metric %s does not fit in one line: alone it makes a %d-byte line, and a FIFO line "
        "may have at most PIPE_BUF = %d bytes so that it is written atomically"
        % (_shown(name), size, limit)
    )


def _checked_copy(metrics):
    if not isinstance(metrics, Mapping):
        raise TypeError(
            "emit() takes a mapping of metric names to numbers, not %s %s"
            % (type(metrics).__name__, _shown(metrics))
        )
    pairs = list(metrics.items())  # one snapshot: a mapping that changes meanwhile is read once
    if not pairs:
        raise ValueError("emit() needs at least one metric, and the mapping is empty")
    plain = _OrderedDict()
    for name, value in pairs:
        text = _name(name)
        if text in plain:
            raise ValueError("metric %s appears twice in the mapping" % _shown(name))
        plain[text] = _number(name, value)
    return plain


def _name(name):
    if six.PY2 and isinstance(name, bytes):
        try:
            name = name.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("metric name %s is not valid UTF-8" % _shown(name))
    if not isinstance(name, six.text_type):
        raise TypeError(
            "metric name %s must be a string, not %s" % (_shown(name), type(name).__name__)
        )
    if not six.text_type.__len__(name):  # not len(): a str subclass may lie about it
        raise ValueError("metric name must not be empty (found %s)" % _shown(name))
    # The characters themselves: a str subclass's own methods are not asked.
    return six.text_type.__add__(u"", name)


def _number(name, value):
    """``value`` as an exact int or float, or the TypeError/ValueError that names ``name``."""
    if isinstance(value, float):
        return float.__float__(value)  # the double itself, whatever a subclass overrides
    if isinstance(value, bool) or isinstance(value, (six.string_types, bytes, bytearray)):
        raise _not_a_number(name, value)
    if isinstance(value, six.integer_types):
        integer = _exact_int(value)
    else:
        integer = _index(name, value)
        if integer is None:
            return _float(name, value)
    if not -_SMALL_INT < integer < _SMALL_INT:
        try:
            repr(integer)
        except ValueError as error:  # Python 3.11+: more digits than sys.get_int_max_str_digits()
            raise ValueError("metric %s: %s" % (_shown(name), error))
    return integer


def _index(name, value):
    """operator.index(value) as an exact int, or None when the type does not support it."""
    if not hasattr(type(value), "__index__"):
        return None
    try:
        integer = operator.index(value)
    except TypeError:
        return None  # e.g. a float tensor: it has __index__ but refuses, and __float__ may serve
    except Exception as error:
        raise _conversion_failed(ValueError, name, value, "__index__", error)
    return _exact_int(integer)


def _float(name, value):
    if not hasattr(type(value), "__float__"):
        raise _not_a_number(name, value)
    try:
        number = float(value)
    except TypeError as error:
        raise _conversion_failed(TypeError, name, value, "float()", error)
    except Exception as error:
        raise _conversion_failed(ValueError, name, value, "float()", error)
    return float.__float__(number)


if six.PY2:
    def _exact_int(value):
        return long.__long__(value) if isinstance(value, long) else int.__int__(value)  # noqa: F821
elif platform.python_implementation() == "PyPy":
    def _exact_int(value):
        return int.__add__(value, 0)  # PyPy's int.__index__ calls a subclass's own __index__
else:
    _exact_int = int.__index__


def _not_a_number(name, value):
    return TypeError(
        "metric %s: the value must be a number (int or float), not %s %s"
        % (_shown(name), type(value).__name__, _shown(value))
    )


def _conversion_failed(error_type, name, value, conversion, error):
    return error_type(
        "metric %s: %s of its %s value failed: %s: %s"
        % (_shown(name), conversion, type(value).__name__, type(error).__name__, error)
    )
