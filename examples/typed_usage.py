"""A fully annotated caller of benchmarkai, checked by `mypy --strict` (tox -e typing).

It uses every public name the way typed code would: metrics built as a typed mapping, the
error caught by its class, the implementation compared with the values it can take.
"""
from decimal import Decimal
from fractions import Fraction
from typing import Dict, List, Union

import benchmarkai
from benchmarkai import FifoNotCreatedInTimeError, emit


def epoch_metrics(epoch: int, losses: List[float]) -> Dict[str, Union[int, float]]:
    return {"epoch": epoch, "loss": sum(losses) / len(losses), "batches": len(losses)}


def publish(epoch: int, losses: List[float]) -> bool:
    """Emit one epoch's metrics; False when the sidecar never opened the FIFO."""
    try:
        emit(epoch_metrics(epoch, losses))
        emit({"learning_rate": Decimal("0.001"), "warmup": Fraction(1, 3)})
    except FifoNotCreatedInTimeError as error:
        print("no sidecar: %s" % error)
        return False
    return True


def main() -> None:
    compiled: bool = benchmarkai.implementation == "cython"
    version: str = benchmarkai.__version__
    for epoch in range(3):
        publish(epoch, [0.5 / (epoch + 1), 0.4 / (epoch + 1)])
    print("benchmarkai %s, compiled: %s" % (version, compiled))


if __name__ == "__main__":
    main()
