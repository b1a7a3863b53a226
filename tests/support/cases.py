"""Values and mappings that several test modules hand emit(): every kind it accepts and every
error path (accepted(), rejected()), for the reference-count and memory audits, and the
objects they are made of. Each call makes them anew, at run time, so that none is immortal
(Python 3.12+) or shared with the interpreter."""
import collections
import decimal
import fractions
import sys

import six

try:
    import numpy
except ImportError:  # no numpy wheel for this interpreter
    numpy = None

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping


def text(*parts):
    """A new (not interned) text object."""
    return u"".join(parts)


def big(exponent):
    """10 ** exponent, made at run time (never a cached small int, except 1 for exponent 0)."""
    return 10 ** exponent


class Sink(object):
    """sys.stdout for the stdout-mode cases: takes every line, keeps none."""

    def __init__(self):
        self.written = 0

    def write(self, line):
        self.written += len(line)

    def flush(self):
        pass


class Convertible(object):
    """A number through its dunders, returning the objects given, or raising a new error of
    the exception class given (a raised instance would keep its traceback, and us in it)."""

    def __init__(self, index=None, to_float=None):
        self._index = index
        self._to_float = to_float

    def __float__(self):
        return _give(self._to_float)


class Indexable(Convertible):
    def __index__(self):
        return _give(self._index)


class IndexOnly(object):
    def __init__(self, index):
        self._index = index

    def __index__(self):
        return _give(self._index)


def _give(result):
    if isinstance(result, type) and issubclass(result, Exception):
        raise result("refused")
    return result


class Pairs(Mapping):
    """A Mapping that yields the pairs it is given, repeated names included."""

    def __init__(self, pairs):
        self._pairs = pairs

    def __getitem__(self, name):
        return dict(self._pairs)[name]

    def __iter__(self):
        return iter([name for name, _ in self._pairs])

    def __len__(self):
        return len(self._pairs)

    def items(self):
        return list(self._pairs)


class Names(dict):
    pass


class Name(six.text_type):
    pass


class Float(float):
    pass


class Int(int):
    pass


class BigInt(six.integer_types[-1]):  # long on Python 2, where an int holds no more than a C long
    pass


def accepted():
    """(label, mapping) for every kind of value emit() accepts, on the fast and the general path."""
    cases = [
        ("float", {text(u"loss"): float(text(u"0.1"))}),
        ("int", {text(u"step"): big(3) + 7}),
        ("long long edge", {text(u"a"): 2 ** 63 - 1 + big(0) - 1, text(u"b"): -2 ** 63 + big(0) - 1}),
        ("int past long long", {text(u"n"): 2 ** 63 + big(0)}),
        ("int past 2**64", {text(u"n"): big(40), text(u"m"): -big(30)}),
        ("escaped name", {text(u"\xe9\U0001F600\n\"\\\x00\udc00"): 1.5 + big(0)}),
        ("long line", {text(u"k%04d" % i): float(i) for i in range(800)}),  # past the 8 kB stack buffer
        ("float subclass", {text(u"f"): Float(2.5)}),
        ("int subclass", {text(u"i"): Int(big(2))}),
        ("str subclass name", {Name(u"name"): 1.0 + big(0)}),
        ("decimal", {text(u"d"): decimal.Decimal(text(u"0.3"))}),
        ("fraction", {text(u"q"): fractions.Fraction(1, 3)}),
        ("__index__", {text(u"x"): Indexable(index=big(25))}),
        ("__float__", {text(u"y"): Convertible(to_float=float(text(u"1.25")))}),
        ("__float__ gives a float subclass", {text(u"y"): Convertible(to_float=Float(3.5))}),
        ("__index__ refuses, __float__ serves", {text(u"z"): Indexable(index=TypeError, to_float=0.5 + big(0))}),
        ("OrderedDict", collections.OrderedDict([(text(u"a"), 1.0 + big(0)), (text(u"b"), big(1))])),
        ("dict subclass", Names({text(u"a"): 1.0 + big(0)})),
        ("Mapping", Pairs([(text(u"a"), 2.0 + big(0))])),
        # Drop-in for 0.1: str, bool, None and containers, on the fast path and off it.
        ("str value", {text(u"s"): text(u"20.34"), text(u"t"): text(u"caf\xe9 \U0001F600\n")}),
        ("bool and None", {text(u"yes"): True, text(u"no"): False, text(u"none"): None}),
        ("empty name", {text(u""): text(u"x")}),
        ("str subclass value", {text(u"s"): Name(u"held")}),
        ("list and tuple", {text(u"l"): [1.0 + big(0), text(u"x"), None, [big(30)]],
                            text(u"t"): (big(2), Float(0.5))}),
        ("nested mapping", {text(u"n"): {text(u"a"): {text(u"b"): [True, Indexable(index=big(25))]}}}),
        ("nested Mapping", {text(u"n"): Pairs([(text(u"a"), 2.0 + big(0))])}),
        ("int, float, bool and None names", collections.OrderedDict(
            [(big(3), 1.0 + big(0)), (0.5 + big(0), 1), (True, 2), (None, 3)])),
    ]
    # The compiled fast path's other numbers (issue 11): each conversion's result, a failure
    # left to _validation, a result too big or of a subclass.
    cases += [
        ("__index__ on the fast path", {text(u"x"): IndexOnly(big(3) + 1)}),
        ("__index__ gives an int subclass", {text(u"x"): IndexOnly(Int(big(2)))}),
        ("int subclass past long long", {text(u"i"): BigInt(big(30))}),
    ]
    if numpy is not None:
        cases += [
            ("numpy.float32", {text(u"f"): numpy.float32(big(0) + 0.5)}),
            ("numpy.int64", {text(u"i"): numpy.int64(big(2))}),
            ("numpy.uint64 past long long", {text(u"u"): numpy.uint64(2 ** 64 - 1)}),
            ("numpy.bool_", {text(u"t"): numpy.bool_(big(0)), text(u"f"): numpy.bool_(big(0) - 1)}),
            ("0-d arrays", {text(u"a"): numpy.array(big(0) + 0.5), text(u"b"): numpy.array(big(2))}),
            ("0-d arrays not read from their data", {
                text(u"h"): numpy.array(big(0) + 0.5, dtype=numpy.float16),
                text(u"u"): numpy.array(2 ** 64 - 1, dtype=numpy.uint64),
                text(u"s"): numpy.array(big(0) + 0.5, dtype=numpy.dtype("f8").newbyteorder("S"))}),
        ]
    if six.PY2:
        cases.append(("bytes name", {"".join(["by", "tes"]): 1.0 + big(0)}))
    return cases


class Recursive(list):
    pass


def recursive_list():
    value = Recursive()
    value.append(value)
    return value


def recursive_dict():
    value = Names({text(u"a"): 1.0 + big(0)})
    value[text(u"me")] = [value]
    return value


def rejected():
    """(label, mapping, the error emit() raises) for every error path."""
    cases = [
        ("not a mapping", [(text(u"a"), 1.0 + big(0))], TypeError),
        ("empty", {}, ValueError),
        ("empty OrderedDict", collections.OrderedDict(), ValueError),
        ("name not a string", {(text(u"a"),): 1.0 + big(0)}, TypeError),
        ("name not a string, after a good one", collections.OrderedDict(
            [(text(u"ok"), 1.0 + big(0)), ((text(u"a"),), 2.0 + big(0))]), TypeError),
        ("bytearray value", {text(u"b"): bytearray(b"0.5")}, TypeError),
        ("set value", {text(u"s"): set([1.0 + big(0)])}, TypeError),
        ("nested bad value", {text(u"l"): [1.0 + big(0), {text(u"x"): object()}]}, TypeError),
        ("recursive value", {text(u"r"): recursive_list()}, ValueError),
        ("recursive mapping", recursive_dict(), ValueError),
        ("two names of the same text", collections.OrderedDict(
            [(big(2), 1.0 + big(0)), (text(u"100"), 2.0 + big(0))]), ValueError),
        ("bad value after a good one", collections.OrderedDict(
            [(text(u"ok"), 1.0 + big(0)), (text(u"bad"), object())]), TypeError),
        ("__index__ raises", {text(u"x"): Indexable(index=ValueError)}, ValueError),
        ("__float__ raises", {text(u"x"): Convertible(to_float=ArithmeticError)}, ValueError),
        ("__float__ returns a str", {text(u"x"): Convertible(to_float=text(u"1.0"))}, TypeError),
        ("__index__ returns a str", {text(u"x"): Indexable(index=text(u"1"))}, TypeError),
        ("__index__ raises TypeError, no __float__", {text(u"x"): IndexOnly(TypeError)}, TypeError),
        ("__index__ raises TypeError, __float__ raises", {text(u"x"): Indexable(TypeError, ValueError)}, ValueError),
        ("__float__ raises TypeError", {text(u"x"): Convertible(to_float=TypeError)}, TypeError),
        ("no conversion", {text(u"x"): object()}, TypeError),
        ("duplicate name", Pairs([(text(u"a"), 1.0 + big(0)), (text(u"a"), 2.0 + big(0))]), ValueError),
    ]
    if hasattr(sys, "get_int_max_str_digits"):
        cases.append(("int with too many digits", {text(u"n"): big(5000)}, ValueError))
    return cases


class BadRepr(object):
    """An object whose repr() fails."""

    def __repr__(self):
        raise RuntimeError("no repr")
