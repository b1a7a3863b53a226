# The public API's types, for type checkers only: Python never reads a .pyi file, so the
# package still imports on Python 2.7. What emit() accepts at run time is narrower than any
# static type can say (bytes are a Sequence of ints here, but emit() refuses them).
from typing import Literal, Mapping, Sequence, SupportsFloat, SupportsIndex, Union, overload

__all__ = ["FifoNotCreatedInTimeError", "__version__", "configured_emitter", "emit", "implementation"]

__version__: str
implementation: Literal["cython", "python"]
configured_emitter: Literal["stdout", "fifo"]

# A metric value, as 0.1's json.dumps took it: a number (int, float, or what has __index__,
# as numpy integers, or __float__, as numpy floats, 0-d arrays, Decimal, Fraction), a str, a
# bool, None, or a list, tuple or mapping of values.
_Value = Union[SupportsFloat, SupportsIndex, str, None, Sequence["_Value"], Mapping[str, "_Value"]]
# A name: a str, or what json converts to text (a bool is an int).
_Name = Union[str, int, float, None]

class FifoNotCreatedInTimeError(Exception): ...

# Two signatures: a mapping's key type must match exactly, so Dict[str, float] needs its own.
@overload
def emit(metrics: Mapping[str, _Value]) -> None: ...
@overload
def emit(metrics: Mapping[_Name, _Value]) -> None: ...
