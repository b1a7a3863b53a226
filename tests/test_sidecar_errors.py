"""``benchmarkai run`` when it cannot go ahead (a command that cannot be executed, a --jsonl
it cannot write, a Ctrl-C before its handler is in place) and at its edges (the descriptors
a run leaves, the longest line). In process, so that what it leaves open or closed is seen.
Each caught a mutant of _sidecar that the end-to-end tests passed (docs/mutation.md)."""
import os
import signal
import sys

import pytest

from benchmarkai import _sidecar


class Shown(object):
    """The sidecar's terminal, keeping what it is given."""
    bars = u"01234567"

    def __init__(self):
        self.lines = []

    def write_lines(self, lines):
        self.lines.extend(lines)


def open_descriptors():
    """This process's open descriptors (None where /proc or /dev/fd cannot tell)."""
    for listing in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(listing):
            return sorted(int(name) for name in os.listdir(listing) if _is_open(int(name)))
    return None


def _is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:  # the listing's own descriptor, closed once listed
        return False


def test_a_command_that_is_not_executable_exits_126_naming_it(tmp_path):
    program = tmp_path / "not-executable"
    program.write_text(u"#!/bin/sh\n")
    sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"))
    sidecar.terminal = Shown()
    assert sidecar.run([str(program), "an-argument"]) == 126
    assert sidecar.terminal.lines[0].startswith(u"benchmarkai: cannot run %s: " % program)
    assert not os.path.exists(str(tmp_path / "metrics.fifo"))


def test_a_jsonl_it_cannot_write_closes_nothing_of_the_process(tmp_path):
    """The --jsonl error comes before the FIFO is opened: the clean-up closes no descriptor
    (a mutant closed descriptor 0, taking the number its write end had not been given)."""
    standard = [os.fstat(fd)[1:3] for fd in (0, 1, 2)]  # inode and device
    sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"), jsonl=str(tmp_path / "no" / "such.jsonl"))
    with pytest.raises(_sidecar.UsageError):
        sidecar.run([sys.executable, "-c", "pass"])
    assert [os.fstat(fd)[1:3] for fd in (0, 1, 2)] == standard
    assert not os.path.exists(str(tmp_path / "metrics.fifo"))


def test_ctrl_c_before_the_handler_is_in_place_exits_130(monkeypatch):
    def interrupted(self, command):
        raise KeyboardInterrupt()

    monkeypatch.setattr(_sidecar.Sidecar, "run", interrupted)
    try:
        status = _sidecar.main(["run", "--", "cmd"])
    except KeyboardInterrupt:  # let out, it would stop pytest itself
        pytest.fail("main() let the KeyboardInterrupt out")
    assert status == 128 + signal.SIGINT


def test_a_run_leaves_the_descriptors_as_it_found_them(tmp_path):
    """A whole run, in process: descriptors 0 to 2 are those it started with (a mutant marked
    its closed write end as descriptor 0, which the clean-up then closed), and the FIFO's are
    closed (a mutant skipped closing them)."""
    standard = [os.fstat(fd)[1:3] for fd in (0, 1, 2)]
    opened = open_descriptors()
    sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"), quiet=True)
    sidecar.terminal = Shown()
    assert sidecar.run([sys.executable, "-c", "pass"]) == 0
    assert [os.fstat(fd)[1:3] for fd in (0, 1, 2)] == standard
    assert open_descriptors() == opened  # and both ends of the FIFO closed
    # CMD is named by its program, not its last argument.
    assert sidecar.terminal.lines[0].endswith(u"; %s exited with status 0" % os.path.basename(sys.executable))


def test_a_line_without_a_newline_is_malformed_past_one_mebibyte():
    """README: "a line still without a newline after 1 MiB" is counted as malformed."""
    sidecar = _sidecar.Sidecar(quiet=True)
    sidecar.terminal = Shown()
    sidecar._take_lines(b"x" * (1 << 20))
    assert len(sidecar.pending) == 1 << 20  # kept: its newline may come
    assert sidecar.tally.malformed == 0
    sidecar._take_lines(b"x")
    assert sidecar.pending == b""
    assert sidecar.tally.malformed == 1


def test_signals_are_named():
    assert _sidecar._signal_name(signal.SIGTERM) == u"SIGTERM (signal %d)" % signal.SIGTERM
    assert _sidecar._signal_name(1000) == u"signal 1000"


def test_a_command_killed_by_signal_1_gives_129(tmp_path):
    """128 + N for every signal, the first one too (SIGHUP: a returncode of -1)."""
    sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"), quiet=True)
    sidecar.terminal = Shown()
    code = "import os, signal\nos.kill(os.getpid(), signal.SIGHUP)\n"
    assert sidecar.run([sys.executable, "-c", code]) == 128 + signal.SIGHUP


def test_a_dangling_symlink_is_no_fifo(tmp_path):
    link = str(tmp_path / "link")
    os.symlink(str(tmp_path / "nowhere"), link)
    with pytest.raises(_sidecar.UsageError) as caught:
        _sidecar.FifoPlace(link)
    assert "exists and is not a FIFO" in str(caught.value)
