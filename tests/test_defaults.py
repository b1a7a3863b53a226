"""The documented defaults (README, "Modes and environment variables"), read with none of the
variables set, and what a bad value is told. Every other test sets its own, so a changed
default passed them all: these catch one (a max wait of 1 s instead of 10, say)."""
import errno

import pytest

from benchmarkai import FifoNotCreatedInTimeError, _config, _fifo, _sidecar

FIFO_VARIABLES = ("BENCHMARK_AI_FIFO_FILEPATH", "BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "BENCHMARK_AI_FIFO_WAIT_TIME_STEP")


def test_the_defaults_of_an_empty_environment():
    assert _config.fifo_settings({}) == ("/tmp/benchmark-ai-fifo", 10.0, 0.5)
    assert _config.mode({}) == "stdout"
    assert not _config.pure_python_requested({})


class Clock(object):
    """time.monotonic() and time.sleep() for _fifo, with no real waiting: each sleep moves the
    clock on, and is recorded."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_first_emit_waits_the_default_times_for_the_default_path(impl, monkeypatch):
    """With no BENCHMARK_AI_FIFO_* set, the first emit looks for /tmp/benchmark-ai-fifo every
    0.5 s for 10 s, then gives up saying so (on a clock of the test's: no real waiting, and
    the real /tmp/benchmark-ai-fifo is never touched)."""
    for variable in FIFO_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    clock = Clock()
    tried = []

    def missing(path):
        tried.append(path)
        raise OSError(errno.ENOENT, "No such file or directory", path)

    monkeypatch.setattr(_fifo, "_monotonic", clock.monotonic)
    monkeypatch.setattr(_fifo, "time", clock)
    monkeypatch.setattr(_fifo, "_open_for_writing", missing)
    with pytest.raises(FifoNotCreatedInTimeError) as caught:
        impl.emitter(_fifo.Fifo()).emit({"loss": 0.5})
    assert set(tried) == {"/tmp/benchmark-ai-fifo"}
    assert clock.sleeps == [0.5] * 20 and len(tried) == 21
    assert "within 10 seconds" in str(caught.value)


def test_the_default_drain_timeout_is_five_seconds():
    parser, _ = _sidecar._parsers()
    assert parser.parse_args(["run", "--", "cmd"]).drain_timeout == 5.0
    # 0 is valid: "a finite number of seconds >= 0" (a mutant refused it).
    assert parser.parse_args(["run", "--drain-timeout", "0", "--", "cmd"]).drain_timeout == 0


def test_a_bad_setting_says_what_it_accepts():
    """The max wait may be 0, the step may not: each message says which (it said the
    opposite under a mutant that no test noticed)."""
    for variable, accepted in [("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "0 or more"),
                               ("BENCHMARK_AI_FIFO_WAIT_TIME_STEP", "more than 0")]:
        with pytest.raises(ValueError) as caught:
            _config.fifo_settings({variable: "-1"})
        assert str(caught.value) == (
            "%s='-1' is not valid: it must be a finite number of seconds, %s" % (variable, accepted))
