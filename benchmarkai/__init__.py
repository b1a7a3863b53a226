"""Publish benchmark metrics to the Benchmark AI infrastructure: ``emit({"loss": 0.25})``.

The compiled ``_fastemit`` serves when it imports, the pure-Python ``_fallback`` otherwise
(or when BENCHMARK_AI_PURE_PYTHON=1). BENCHMARK_AI picks stdout (default) or fifo mode.
"""
from benchmarkai import _config
from benchmarkai._fifo import Fifo as _Fifo
from benchmarkai._fifo import FifoNotCreatedInTimeError
from benchmarkai._version import __version__

if _config.pure_python_requested():
    from benchmarkai import _fallback as _implementation
else:
    try:
        from benchmarkai import _fastemit as _implementation
    except ImportError:
        from benchmarkai import _fallback as _implementation

implementation = _implementation.IMPLEMENTATION
configured_emitter = _config.mode()  # "stdout" or "fifo", named as 0.1 named it
emit = _implementation.Emitter(_Fifo() if configured_emitter == "fifo" else None).emit

__all__ = ["FifoNotCreatedInTimeError", "__version__", "configured_emitter", "emit", "implementation"]
