"""Hostile input for emit(), described by plain data ("recipes") and built fresh for each
call: an object that mutates its mapping must meet every implementation in the same state.

A mapping recipe is (kind, [(name recipe, value recipe), ...]); see MAPPINGS, NAMES, VALUES.
"""
import collections

import six

try:
    from collections.abc import Mapping
except ImportError:  # Python 2
    from collections import Mapping

ERRORS = {
    "TypeError": TypeError, "ValueError": ValueError, "OverflowError": OverflowError,
    "ZeroDivisionError": ZeroDivisionError, "KeyError": KeyError, "RuntimeError": RuntimeError,
    "AttributeError": AttributeError, "IndexError": IndexError,
}


def result(behaviour):
    """What a sabotaged method does: ("raise", error name) or ("return", value recipe)."""
    action, payload = behaviour
    if action == "raise":
        raise ERRORS[payload]("hostile %s" % payload)
    return value(payload, None)


# --- Names ---

class Str(six.text_type):
    """A str subclass whose methods lie; emit must use the characters it holds."""
    behaviour = ("return", ("int", 0))

    def __str__(self):
        return result(self.behaviour)

    def __len__(self):
        return 0

    def __iter__(self):
        return iter(u"lie")

    def __hash__(self):
        return 1

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def encode(self, *args):
        return result(self.behaviour)


def name(recipe):
    kind = recipe[0]
    if kind == "text":
        return recipe[1]
    if kind == "str subclass":
        made = Str(recipe[1])
        made.behaviour = recipe[2]
        return made
    return value(recipe[1], None)  # ("not text", value recipe): an int, None, a float...


# --- Values ---

class Float(float):
    def __float__(self):
        return result(self.behaviour)

    def __repr__(self):
        return "lie"

    __str__ = __repr__

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class Int(int):
    def __index__(self):
        return result(self.behaviour)

    __int__ = __float__ = __index__

    def __repr__(self):
        return "lie"

    __str__ = __repr__

    def __format__(self, spec):
        return "lie"

    __hash__ = int.__hash__


class Shown(object):
    """The same repr in every call (an error message may hold it), unlike object's address."""

    def __repr__(self):
        return "<%s>" % type(self).__name__


class Dunders(Shown):
    """A number only through __index__ and/or __float__, each doing what its behaviour says."""

    def __init__(self, index, to_float):
        self._index = index
        self._to_float = to_float

    def __index__(self):
        return result(self._index)

    def __float__(self):
        return result(self._to_float)


class FloatOnly(Dunders):
    __index__ = None


class Mutator(Shown):
    """A number whose __float__ changes the mapping being emitted, then returns ``number``."""

    def __init__(self, action, number):
        self.action = action
        self.number = number
        self.target = None  # the mapping, set once it is built

    def __float__(self):
        target = self.target
        if self.action == "add":
            target[u"added%d" % len(target)] = 1.0
        elif self.action == "delete" and target:
            del target[next(iter(target))]
        elif self.action == "clear":
            target.clear()
        return self.number


def value(recipe, mapping):
    kind = recipe[0]
    if kind in ("float", "int", "other"):
        return recipe[1]
    if kind == "float subclass":
        made = Float(recipe[1])
    elif kind == "int subclass":
        made = Int(recipe[1])
    elif kind == "dunders":
        return (FloatOnly if recipe[1] is None else Dunders)(recipe[1], recipe[2])
    elif kind == "mutator":
        made = Mutator(recipe[1], recipe[2])
        made.target = mapping
        return made
    elif kind == "recursive list":
        made = []
        made.append(made)
        return made
    elif kind == "recursive dict":
        made = {}
        made[u"self"] = made
        return made
    elif kind == "the mapping":
        return mapping
    else:
        raise AssertionError(recipe)
    made.behaviour = recipe[2]
    return made


# --- Mappings ---

class LyingItems(dict):
    """items() gives other pairs than the dict holds, reversed."""

    def items(self):
        return list(reversed(list(dict.items(self))))


class LyingIter(dict):
    def __iter__(self):
        return iter([u"absent"] + list(dict.keys(self)))

    def keys(self):
        return list(self)

    def __len__(self):
        return 0


class SelfChanging(collections.OrderedDict):
    """items() adds a pair on each call, then answers."""

    def items(self):
        self[u"grown%d" % len(self)] = 2.5
        return collections.OrderedDict.items(self)


class Lookup(Shown, Mapping):
    """A Mapping whose __getitem__ disagrees with its iteration: missing keys or errors."""

    def __init__(self, pairs, behaviour):
        self._pairs = collections.OrderedDict(pairs)
        self.behaviour = behaviour

    def __iter__(self):
        return iter(list(self._pairs) + [u"phantom"])

    def __len__(self):
        return len(self._pairs) + 1

    def __getitem__(self, key):
        if key in self._pairs:
            return self._pairs[key]
        return result(self.behaviour)


MAPPINGS = ("dict", "OrderedDict", "lying items", "lying iter", "self-changing", "lookup")


def mapping(recipe):
    kind, pairs = recipe[0], recipe[1]
    made = {
        "dict": dict, "OrderedDict": collections.OrderedDict, "lying items": LyingItems,
        "lying iter": LyingIter, "self-changing": SelfChanging,
    }.get(kind)
    made = made() if made else collections.OrderedDict()
    for name_recipe, value_recipe in pairs:
        made[name(name_recipe)] = value(value_recipe, made)
    if kind == "lookup":
        made = Lookup(list(made.items()), recipe[2])
        for held in made._pairs.values():
            if isinstance(held, Mutator):
                held.target = made._pairs
    return made

