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


def publish_match(metric_name: str, matched: str) -> None:
    """What the metrics-extractor sidecar does with the text its log pattern matched."""
    emit({metric_name: matched})


def publish_state(step: int) -> None:
    """Flags, a missing value and containers, as 0.1 took them; and the mode in force."""
    emit({"early_stop": step > 100, "best": None, "per_class": [0.5, 0.25], "config": {"lr": 0.1}})
    emit({step: benchmarkai.configured_emitter == "fifo"})


def main() -> None:
    compiled: bool = benchmarkai.implementation == "cython"
    version: str = benchmarkai.__version__
    for epoch in range(3):
        publish(epoch, [0.5 / (epoch + 1), 0.4 / (epoch + 1)])
        publish_match("accuracy", "20.34")
        publish_state(epoch)
    print("benchmarkai %s, compiled: %s" % (version, compiled))


if __name__ == "__main__":
    main()
