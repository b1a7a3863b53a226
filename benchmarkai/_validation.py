"""Checking a metrics mapping. Shared by both implementations, so their errors are the same."""
import abc
import collections
import json
import operator
import sys
import types

import six
from six.moves import reprlib

from benchmarkai import _config

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping

# Python 3.7+ dicts keep insertion order; earlier ones need OrderedDict to keep the user's order.
_OrderedDict = dict if sys.version_info >= (3, 7) else collections.OrderedDict

# Integers this small always format; bigger ones may trip Python 3.11+'s int-to-str digit limit.
SMALL_INT = 2 ** 64

_text_type = six.text_type
_iteritems = dict.iteritems if six.PY2 else dict.items  # six.iteritems costs a Python call
# Values json writes as they are, whatever their value (int is checked for its size too).
_PLAIN_LEAVES = frozenset([float, _text_type, bool, type(None)])
# Names json converts to text itself (bool is an int).
_CONVERTED_NAMES = (float, type(None)) + six.integer_types

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
    """Return ``metrics`` as plain JSON data: a dict of text name -> exact int, float, text,
    bool, None, list or such a dict, in the mapping's order, which json writes as 0.1 wrote
    ``metrics`` (see _value).

    An exact dict that already is one, holding no container, comes back as it is; anything
    else is checked and copied. Raises TypeError or ValueError naming the first bad metric.
    """
    if type(metrics) is dict and metrics:
        for name, value in _iteritems(metrics):
            if type(name) is not _text_type:
                break
            # float first: the common value, and "is" costs less than a set look-up.
            if (type(value) is not float and type(value) not in _PLAIN_LEAVES
                    and not (type(value) is int and -SMALL_INT < value < SMALL_INT)):
                break
        else:
            return metrics
    if type(metrics) is not dict and not isinstance(metrics, Mapping):  # an ABC's check costs
        raise TypeError(
            "emit() takes a mapping of metric names to values, not %s %s"
            % (type(metrics).__name__, _shown(metrics))
        )
    plain = _plain_mapping(metrics, None, set([id(metrics)]))
    if not plain:
        raise ValueError("emit() needs at least one metric, and the mapping is empty")
    return plain


def pair_too_long(name, size, limit):
    """The ValueError for a metric whose pair alone makes a line longer than ``limit`` bytes."""
    return ValueError(
        "metric %s does not fit in one line: alone it makes a %d-byte line, and a FIFO line "
        "may have at most PIPE_BUF = %d bytes so that it is written atomically"
        % (_shown(name), size, limit)
    )


def _plain_mapping(mapping, metric, holders):
    """A copy of ``mapping`` with text names and plain values. ``metric`` is the metric it is
    the value of (None for the metrics themselves); ``holders`` the ids of the containers
    being copied, which hold it."""
    pairs = list(mapping.items())  # one snapshot: a mapping that changes meanwhile is read once
    plain = _OrderedDict()
    for name, value in pairs:
        text = name if type(name) is _text_type else _name(name, metric)  # the common name: no call
        if text in plain:
            raise ValueError("%s appears twice in the mapping, as the text %s"
                             % (_named(name, metric), _shown(text)))
        plain[text] = _value(name if metric is None else metric, value, holders)
    return plain


def _named(name, metric):
    """How a message names ``name``: a metric, or a name inside ``metric``'s value."""
    if metric is None:
        return "metric %s" % _shown(name)
    return "metric %s: the name %s in its value" % (_shown(metric), _shown(name))


def _name(name, metric):
    """``name`` as the text json writes for it."""
    if isinstance(name, _text_type):
        # The characters themselves: a str subclass's own methods are not asked.
        return _text_type.__add__(u"", name)
    if six.PY2 and isinstance(name, bytes):
        return _utf8(name, _named(name, metric))
    if not isinstance(name, _CONVERTED_NAMES):
        raise TypeError("%s must be a string (or an int, float, bool or None), not %s"
                        % (_named(name, metric), type(name).__name__))
    # As the running Python's json converts it (True is "true" on Python 3, "True" on 2.7):
    # the KEY of '{"KEY":0}'.
    try:
        key = json.dumps({name: 0}, separators=(",", ":"))[2:-4]
    except ValueError as error:  # Python 3.11+: an int with more digits than it prints
        raise ValueError("%s: %s" % (_named(name, metric), error))
    if "\\" in key:  # escaped: only an int or float subclass's own str() or repr() on 2.7
        return json.loads(u'"%s"' % key)
    return _text_type(key)  # an ASCII str on 2.7


def _utf8(data, named):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("%s is not valid UTF-8: %s" % (named, _shown(data)))


def _value(metric, value, holders):
    """``value`` as plain JSON data, or the TypeError/ValueError that names ``metric``."""
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return value
    if isinstance(value, float):
        return float.__float__(value)  # the double itself, whatever a subclass overrides
    if isinstance(value, _text_type):
        return _text_type.__add__(u"", value)
    if isinstance(value, (bytes, bytearray)):
        if six.PY2 and isinstance(value, bytes):  # json 2.7 reads a str as UTF-8
            return _utf8(value, "metric %s: the value" % _shown(metric))
        raise _not_json(metric, value)
    if _numpy_type(kind, _NUMPY_BOOLS):
        return bool(value)
    if isinstance(value, (list, tuple, Mapping)):
        if id(value) in holders:
            raise ValueError("metric %s: its value holds itself (a %s inside itself), which "
                             "JSON cannot write" % (_shown(metric), kind.__name__))
        holders.add(id(value))
        if isinstance(value, Mapping):
            plain = _plain_mapping(value, metric, holders)
        else:  # what a subclass holds, as json reads it, not what its __iter__ says
            items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
            plain = [_value(metric, item, holders) for item in items]
        holders.remove(id(value))
        return plain
    return _number(metric, value)


_NUMPY_BOOLS = ("bool_", "bool")  # numpy.bool since numpy 2


def _numpy_type(kind, names):
    """Whether ``kind`` is numpy's own type of one of these names (numpy is never imported)."""
    return kind.__name__ in names and kind.__module__ == "numpy"


# What _value makes of every value of a type, for _fastemit's cache of types (type_kind).
OTHER, INT_SUBCLASS, NUMPY_BOOL, NUMBER, NUMPY_ARRAY = range(5)


def type_kind(kind):
    """What _value makes of every value of type ``kind``, which is not a float subclass
    (_fastemit takes their double itself): INT_SUBCLASS (its exact int), NUMPY_BOOL (true or
    false), NUMBER (operator.index, then float(), as _number takes them), NUMPY_ARRAY (an exact
    numpy.ndarray: a NUMBER whose 0-d float arrays _fastemit reads itself), or OTHER: anything
    else, or what the value itself decides (isinstance() asks a value for its __class__, which
    a class may make a property; Python 2's old-style instances all share one type). It holds
    until the type changes (its version tag) or an ABC is registered (abc_token)."""
    # First: a look-up on the type gives it a version tag, if it had none yet.
    number = hasattr(kind, "__index__") or hasattr(kind, "__float__")
    if six.PY2 and kind is types.InstanceType or any("__class__" in vars(base) for base in kind.__mro__[:-1]):
        return OTHER
    if issubclass(kind, (float, _text_type, bytes, bytearray, list, tuple, Mapping)):
        return OTHER
    if _numpy_type(kind, _NUMPY_BOOLS):
        return NUMPY_BOOL
    if _numpy_type(kind, ("ndarray",)):  # exact: a subclass may override __index__ or __float__
        return NUMPY_ARRAY
    if issubclass(kind, six.integer_types):
        return INT_SUBCLASS
    return NUMBER if number else OTHER


# A number that changes whenever a class is registered with an ABC (Mapping.register(kind)).
abc_token = getattr(abc, "get_cache_token", lambda: abc.ABCMeta._abc_invalidation_counter)  # 2.7: no function


def _number(name, value):
    """``value`` as an exact int or float, or the TypeError/ValueError that names ``name``."""
    if isinstance(value, six.integer_types):
        integer = _exact_int(value)
    else:
        integer = _index(name, value)
        if integer is None:
            return _float(name, value)
    if not -SMALL_INT < integer < SMALL_INT:
        try:
            repr(integer)
        except ValueError as error:  # Python 3.11+: more digits than sys.get_int_max_str_digits()
            raise ValueError("metric %s: %s" % (_shown(name), error))
    return integer


def _index(name, value):
    """operator.index(value) as an exact int, or None when the type does not support it or
    refuses it and has __float__ to try next."""
    if not hasattr(type(value), "__index__"):
        return None
    try:
        integer = operator.index(value)
    except TypeError as error:
        if hasattr(type(value), "__float__"):
            return None  # e.g. a float tensor: it has __index__ but refuses, and __float__ may serve
        raise _conversion_failed(TypeError, name, value, "__index__", error)
    except Exception as error:
        raise _conversion_failed(ValueError, name, value, "__index__", error)
    return _exact_int(integer)


def _float(name, value):
    if not hasattr(type(value), "__float__"):
        raise _not_json(name, value)
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
elif _config.on_pypy():
    def _exact_int(value):
        return int.__add__(value, 0)  # PyPy's int.__index__ calls a subclass's own __index__
else:
    _exact_int = int.__index__


def _not_json(name, value):
    return TypeError(
        "metric %s: the value must be a number, a string, a bool, None, a list or a mapping, "
        "not %s %s" % (_shown(name), type(value).__name__, _shown(value))
    )


def _conversion_failed(error_type, name, value, conversion, error):
    return error_type(
        "metric %s: %s of its %s value failed: %s: %s"
        % (_shown(name), conversion, type(value).__name__, type(error).__name__, error)
    )
