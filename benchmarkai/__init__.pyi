# The public API's types, for type checkers only: Python never reads a .pyi file, so the
# package still imports on Python 2.7. What emit() accepts at run time is narrower than any
# static type can say (bool is an int here, but emit() refuses it).
from typing import Literal, Mapping, SupportsFloat, SupportsIndex, Union

__all__ = ["FifoNotCreatedInTimeError", "__version__", "emit", "implementation"]

__version__: str
implementation: Literal["cython", "python"]

# A metric value: int, float, or what has __index__ (numpy integers) or __float__ (numpy
# floats, 0-d arrays, Decimal, Fraction).
_Number = Union[SupportsFloat, SupportsIndex]

class FifoNotCreatedInTimeError(Exception): ...

def emit(metrics: Mapping[str, _Number]) -> None: ...
