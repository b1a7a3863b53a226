"""``benchmarkai run`` when it cannot go ahead (a command that cannot be executed, a --jsonl
it cannot write, a Ctrl-C before its handler is in place) and at its edges (the descriptors
a run leaves, the longest line, a stderr gone, a SIGTERM as CMD starts, the terminal's
foreground). In process, so that what it leaves open or closed is seen. Each caught a
mutant of _sidecar that the end-to-end tests passed (docs/mutation.md)."""
import errno
import json
import os
import signal
import sys
import time

import pytest
from support.children import run

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
    # CMD is named by its program, not its last argument; nothing else is said of a run
    # without lines (a mutant said the tally covered the first 0 of the 0 lines read).
    assert len(sidecar.terminal.lines) == 1
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


def test_a_line_ended_in_a_later_read_is_malformed_only_past_one_mebibyte():
    """A line whose newline comes in a later read, with a line after it: of 1 MiB, a record;
    of 1 MiB + 1 byte, malformed. Mutants measured the read's last line instead of its first
    (and took the long one for a record), called 1 MiB too long, or called the next line
    the long one."""
    for size, records in [(1 << 20, ["x", "after"]), ((1 << 20) + 1, ["after"])]:
        sidecar = _sidecar.Sidecar(quiet=True)
        sidecar.terminal = Shown()
        line = b'{"x":"' + b"y" * (size - 8) + b'"}'
        sidecar._take_lines(line[:-2])
        sidecar._take_lines(line[-2:] + b'\n{"after":1}\n')
        assert (sidecar.tally.records, sidecar.tally.malformed) == (len(records), 2 - len(records))
        assert list(sidecar.tally.names) == records


def test_a_run_puts_back_the_signal_handlers_it_found(tmp_path):
    """A mutant left the sidecar's SIGINT and SIGTERM handlers in place after the run."""
    def ours(signum, frame):
        pass

    previous = [signal.signal(signum, ours) for signum in _sidecar.FORWARDED]
    try:
        sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"), quiet=True)
        sidecar.terminal = Shown()
        assert sidecar.run(["true"]) == 0
        assert [signal.getsignal(signum) for signum in _sidecar.FORWARDED] == [ours, ours]
    finally:
        for signum, handler in zip(_sidecar.FORWARDED, previous):
            signal.signal(signum, handler)


def test_a_record_without_its_newline_at_the_end_is_malformed(tmp_path):
    """CMD's last line is a whole JSON object without its newline: a malformed line, also with
    --quiet, where compact lines of numbers (as emit writes them) are tallied by a faster
    path (a mutant took it there, and counted the line as a record)."""
    sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"), quiet=True)
    sidecar.terminal = Shown()
    code = """
import os
fd = os.open(os.environ["BENCHMARK_AI_FIFO_FILEPATH"], os.O_WRONLY)
os.write(fd, b'{"x":1}\\n{"x":2}')
"""
    assert sidecar.run([sys.executable, "-c", code]) == 0
    assert sidecar.terminal.lines[0].startswith(u"benchmarkai: 1 record and 1 malformed line in ")
    assert u'  line 2, no newline at the end: "{\\"x\\":2}"' in sidecar.terminal.lines


def test_signals_are_named():
    assert _sidecar._signal_name(signal.SIGTERM) == u"SIGTERM (signal %d)" % signal.SIGTERM
    assert _sidecar._signal_name(1000) == u"signal 1000"


def test_a_command_killed_by_signal_1_gives_129(tmp_path):
    """128 + N for every signal, the first one too (SIGHUP: a returncode of -1), and the
    summary says so (a mutant said "exited with status -1")."""
    sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"), quiet=True)
    sidecar.terminal = Shown()
    # SIGHUP's default first: under nohup, CMD would inherit it ignored.
    code = "import os, signal\nsignal.signal(signal.SIGHUP, signal.SIG_DFL)\nos.kill(os.getpid(), signal.SIGHUP)\n"
    assert sidecar.run([sys.executable, "-c", code]) == 128 + signal.SIGHUP
    assert sidecar.terminal.lines[0].endswith(u" was killed by SIGHUP (signal %d)" % signal.SIGHUP)


def test_a_dangling_symlink_is_no_fifo(tmp_path):
    link = str(tmp_path / "link")
    os.symlink(str(tmp_path / "nowhere"), link)
    with pytest.raises(_sidecar.UsageError) as caught:
        _sidecar.FifoPlace(link)
    assert "exists and is not a FIFO" in str(caught.value)


def test_the_exit_of_a_command_is_noticed_at_once(tmp_path):
    """CMD's exit is checked for every CHECK_INTERVAL; a mutant checked every 1.05 s, and each
    run of a command that writes nothing then took that long. The quickest of three runs,
    for a loaded machine."""
    sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"), quiet=True)
    sidecar.terminal = Shown()
    durations = []
    for _ in range(3):
        started = time.time()
        assert sidecar.run(["true"]) == 0
        durations.append(time.time() - started)
    assert min(durations) < 0.8, durations


def test_a_live_line_says_the_seconds_since_the_start():
    """A mutant added the start time to the clock instead of taking it away."""
    sidecar = _sidecar.Sidecar()
    sidecar.terminal = Shown()
    started = time.time()
    sidecar._receive([b'{"x": 1}'])
    seconds = time.time() - started
    stamp, text = sidecar.terminal.lines[0].split(u"] ")
    assert text == u"x=1" and stamp.startswith(u"[benchmarkai +") and stamp.endswith(u"s")
    assert 0 <= float(stamp[len(u"[benchmarkai +"):-1]) <= seconds + 0.01


def test_live_lines_past_twenty_in_a_second_are_folded(monkeypatch):
    """20 live lines a second; the rest are folded into one line, shown when the second is
    over, on a clock of the test's. Mutants wrote "1 more lines", or "2 more line"."""
    now = [1000.0]
    monkeypatch.setattr(_sidecar, "_monotonic", lambda: now[0])
    sidecar = _sidecar.Sidecar()
    sidecar.terminal = Shown()

    def receive(first, last):
        sidecar._receive([('{"i":%d}' % i).encode("ascii") for i in range(first, last + 1)])

    receive(0, 20)
    now[0] += 0.5
    receive(21, 21)
    now[0] += 0.5
    receive(22, 42)
    now[0] += 1
    receive(43, 43)
    assert sidecar.terminal.lines == (
        [u"[benchmarkai +0.00s] i=%d" % i for i in range(20)]
        + [u"[benchmarkai +1.00s] ... 2 more lines, the last: i=21"]
        + [u"[benchmarkai +1.00s] i=%d" % i for i in range(22, 42)]
        + [u"[benchmarkai +2.00s] ... 1 more line, the last: i=42", u"[benchmarkai +2.00s] i=43"])


def test_lines_folded_are_told_once_their_second_is_over(tmp_path):
    """The line that folds those past 20 in a second is shown when the second is over, also
    if no more lines come (a mutant showed it only with the next line: 2 s later here)."""
    code = """
import os, time
fd = os.open(os.environ["BENCHMARK_AI_FIFO_FILEPATH"], os.O_WRONLY)
os.write(fd, b'{"i":1}\\n' * 21)
time.sleep(2)
os.write(fd, b'{"i":2}\\n')
"""
    sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"))
    sidecar.terminal = Shown()
    assert sidecar.run([sys.executable, "-c", code]) == 0
    fold, after = [line.split(u"s] ") for line in sidecar.terminal.lines[20:22]]
    assert (fold[1], after[1]) == (u"... 1 more line, the last: i=1", u"i=2")
    assert float(after[0][len(u"[benchmarkai +"):]) - float(fold[0][len(u"[benchmarkai +"):]) > 0.5


def test_nothing_to_read_yet_is_no_error(tmp_path):
    """A writer holds the FIFO but has written nothing (the EAGAIN of a wakeup that found the
    data taken): None, not an error and not the EOF that ends the run."""
    path = str(tmp_path / "metrics.fifo")
    os.mkfifo(path)
    read_fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    write_fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        assert _sidecar._read_some(read_fd) is None
        os.write(write_fd, b"x\n")
        assert _sidecar._read_some(read_fd) == b"x\n"
    finally:
        os.close(write_fd)
    try:
        assert _sidecar._read_some(read_fd) == b""
    finally:
        os.close(read_fd)


def test_once_stderr_is_gone_it_is_dev_null():
    """stderr failed to be written (a closed pipe): fd 2 becomes /dev/null, so that Python's
    flush of stderr at exit cannot fail, and fd 1, CMD's stdout, is left alone (a mutant put
    /dev/null on fd 1)."""
    class Gone(Shown):
        def write_lines(self, lines):
            raise IOError(errno.EPIPE, "Broken pipe")

    saved = [os.dup(fd) for fd in (1, 2)]
    try:
        before = [os.fstat(fd)[1:3] for fd in (1, 2)]
        sidecar = _sidecar.Sidecar()
        sidecar.terminal = Gone()
        sidecar._show([u"lost"])
        after = [os.fstat(fd)[1:3] for fd in (1, 2)]
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)
    assert sidecar.terminal is None
    assert after == [before[0], os.stat(os.devnull)[1:3]]


class TermOnStart(_sidecar.Sidecar):
    """A sidecar sent SIGTERM as CMD starts: just before (``early``), or by CMD itself."""

    def __init__(self, early, **options):
        _sidecar.Sidecar.__init__(self, **options)
        self.early = early

    def _start(self, command, path):
        if self.early:
            self._on_signal(signal.SIGTERM, None)  # as when it comes just before CMD started
        return _sidecar.Sidecar._start(self, command, path)


# CMD sends its sidecar SIGTERM (unless told it came already), and waits for it in turn.
SIGTERM_THE_SIDECAR = """
import os, signal, sys, time
if sys.argv[1] == "send":
    os.kill(os.getppid(), signal.SIGTERM)
time.sleep(10)
"""


@pytest.mark.parametrize("foreground", [False, True], ids=["own-group", "terminal-foreground"])
@pytest.mark.parametrize("early", [False, True], ids=["while-cmd-runs", "before-cmd-started"])
def test_a_sigterm_reaches_cmd(tmp_path, monkeypatch, early, foreground):
    """SIGTERM is forwarded to CMD, whether it runs in a group of its own or in the terminal's
    foreground with the sidecar (where only SIGINT is not forwarded), and also when it came
    before CMD started. Mutants never forwarded it in the foreground (``returncode is not
    None``), and dropped the signals that came early (their loop run zero times)."""
    monkeypatch.setattr(_sidecar, "_in_terminal_foreground", lambda: foreground)
    sidecar = TermOnStart(early, fifo=str(tmp_path / "metrics.fifo"), quiet=True)
    sidecar.terminal = Shown()
    command = [sys.executable, "-c", SIGTERM_THE_SIDECAR, "wait" if early else "send"]
    assert sidecar.run(command) == 128 + signal.SIGTERM
    assert sidecar.own_group is not foreground
    assert sidecar.terminal.lines[0].endswith(u" was killed by SIGTERM (signal %d)" % signal.SIGTERM)


# CMD leaves behind a process of a session of its own that holds the FIFO open and, once
# CMD has exited and been reaped, sends the sidecar (argv[2]) SIGTERM.
LEAVE_A_LINGERER = """
import os, subprocess, sys
lingerer = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], preexec_fn=os.setsid,
                            stdout=subprocess.PIPE)
lingerer.stdout.readline()  # it holds the FIFO open
"""
LINGERER = """
import os, signal, sys, time
fd = os.open(os.environ["BENCHMARK_AI_FIFO_FILEPATH"], os.O_WRONLY)
sys.stdout.write("holding\\n")
sys.stdout.flush()
time.sleep(0.5)
os.kill(int(sys.argv[1]), signal.SIGTERM)
"""


def test_a_sigterm_after_cmd_is_gone_is_no_error(tmp_path, monkeypatch):
    """Forwarded to CMD's process group, which is empty by then: the ESRCH is ignored (a
    mutant let it out of the signal handler, and the sidecar ended with a traceback)."""
    monkeypatch.setattr(_sidecar, "_in_terminal_foreground", lambda: False)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)  # one come late kills no pytest
    try:
        sidecar = _sidecar.Sidecar(fifo=str(tmp_path / "metrics.fifo"), quiet=True, drain_timeout=10)
        sidecar.terminal = Shown()
        assert sidecar.run([sys.executable, "-c", LEAVE_A_LINGERER, LINGERER, str(os.getpid())]) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)


# In a session of its own, with a pseudo-terminal as its controlling terminal: which of the
# standard streams are that terminal, another one, or /dev/null, and whether this process's
# group is the terminal's foreground; prints what _in_terminal_foreground() said each time.
TERMINAL_FOREGROUND = """
import json, os, pty, signal, sys, time
from benchmarkai._sidecar import _in_terminal_foreground
results = os.fdopen(os.dup(1), "w")
files = {"null": os.open(os.devnull, os.O_RDWR)}  # opened first: fd 3 is no terminal
_, files["ours"] = pty.openpty()
os.close(os.open(os.ttyname(files["ours"]), os.O_RDWR))  # a session leader's first: controlling
_, files["other"] = pty.openpty()
background = os.fork()  # a process group to put in the foreground instead of ours
if background == 0:
    os.setpgid(0, 0)
    time.sleep(30)
    os._exit(0)
os.setpgid(background, background)
signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may take the terminal back
answers = []
for streams, foreground in json.loads(sys.argv[1]):
    for fd, name in enumerate(streams):
        os.dup2(files[name], fd)
    os.tcsetpgrp(files["ours"], os.getpgrp() if foreground else background)
    answers.append(_in_terminal_foreground())
os.kill(background, signal.SIGKILL)
os.waitpid(background, 0)
results.write(json.dumps(answers))
"""


def test_the_terminal_foreground_is_told_from_any_standard_stream():
    """Whether CMD shares the sidecar's process group (and may read the terminal) turns on
    this. Mutants looked at the wrong descriptors (each of 0, 1 and 2 alone must be seen),
    negated isatty or the comparison of the groups, stopped at a terminal that is not ours
    (``break`` for ``continue``) or answered True without a terminal."""
    cases = [
        (("ours", "null", "null"), True, True),
        (("null", "ours", "null"), True, True),
        (("null", "null", "ours"), True, True),
        (("other", "null", "ours"), True, True),  # a terminal, not ours: passed over
        (("ours", "ours", "ours"), False, False),  # ours, but another group is its foreground
        (("other", "other", "null"), True, False),
        (("null", "null", "null"), True, False),
    ]
    returncode, out, err = run([sys.executable, "-c", TERMINAL_FOREGROUND,
                                json.dumps([[streams, foreground] for streams, foreground, _ in cases])])
    assert returncode == 0, err
    assert json.loads(out) == [expected for _, _, expected in cases]
