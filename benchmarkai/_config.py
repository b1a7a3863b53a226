"""Settings read from the environment: the mode, the FIFO and the choice of implementation."""
import collections
import os
import platform

MODES = ("stdout", "fifo")

# Where the FIFO is and how long (seconds) to wait for it and between checks.
FifoSettings = collections.namedtuple("FifoSettings", "path max_wait step")


def pure_python_requested(environ=os.environ):
    """True when BENCHMARK_AI_PURE_PYTHON asks for the fallback (honoured at import and build time)."""
    return environ.get("BENCHMARK_AI_PURE_PYTHON", "") not in ("", "0")


def on_pypy():
    """True on PyPy: no extension is built there, and the fallback makes its common line itself."""
    return platform.python_implementation() == "PyPy"


def mode(environ=os.environ):
    """The mode named by BENCHMARK_AI, lower-cased: 'stdout' (the default) or 'fifo'."""
    value = environ.get("BENCHMARK_AI")
    if value is None:
        return "stdout"
    if value.lower() not in MODES:
        raise ValueError(
            "BENCHMARK_AI=%r is not a mode benchmarkai knows; use one of %s (any case), "
            "or leave it unset for stdout" % (value, ", ".join(MODES))
        )
    return value.lower()


def fifo_settings(environ=os.environ):
    """The FifoSettings the BENCHMARK_AI_FIFO_* variables give, with their documented defaults."""
    return FifoSettings(
        path=environ.get("BENCHMARK_AI_FIFO_FILEPATH", "/tmp/benchmark-ai-fifo"),
        max_wait=_seconds(environ, "BENCHMARK_AI_FIFO_MAX_WAIT_TIME", 10.0, zero_allowed=True),
        step=_seconds(environ, "BENCHMARK_AI_FIFO_WAIT_TIME_STEP", 0.5, zero_allowed=False),
    )


def _seconds(environ, variable, default, zero_allowed):
    text = environ.get(variable)
    if text is None:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    # NaN fails both comparisons, so it is refused with the rest.
    if not (0 < seconds < float("inf") or (zero_allowed and seconds == 0)):
        raise ValueError(
            "%s=%r is not valid: it must be a finite number of seconds, %s"
            % (variable, text, "0 or more" if zero_allowed else "more than 0")
        )
    return seconds
