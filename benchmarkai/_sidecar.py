"""``benchmarkai run -- CMD``: a local stand-in for the Benchmark AI sidecar.

It creates a FIFO, runs CMD in fifo mode, reads every line that CMD and the processes it
starts write to the FIFO, shows each record as it comes (on stderr) and sums them up at the
end. It never emits anything itself.
"""
import argparse
import errno
import io
import json
import os
import select
import signal
import stat
import subprocess
import sys
import tempfile
import time

from benchmarkai import _summary
from benchmarkai._fifo import _monotonic, _set_cloexec

DRAIN_TIMEOUT = 5.0  # seconds to wait, after CMD exited, for the last writer to close the FIFO
CHECK_INTERVAL = 0.05  # seconds between two checks of whether CMD has exited
LONGEST_LINE = 1 << 20  # bytes after which a line is called malformed, counted once, and the rest dropped
# Bytes read at once. No more than LONGEST_LINE: then only a line begun in an earlier read
# can be longer.
READ_SIZE = LONGEST_LINE
LIVE_PER_SECOND = 20  # live lines shown in a second; those that come faster are folded into one
TOO_LONG = u"longer than %d bytes" % LONGEST_LINE
# Each part of the work, and what is left undone once it failed.
PARTS = {
    "parsing": u"from now on the lines are only counted, not tallied, shown or recorded",
    "tallying": u"the summary covers only the lines before",
    "showing": u"no more lines are shown as they come",
    "recording": u"no more lines are written to the --jsonl file",
    "summing up": u"no summary",
}
FORWARDED = (signal.SIGINT, signal.SIGTERM)
EXIT_USAGE = 2
# As a shell's: CMD was not found, or could not be executed.
EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126


class UsageError(Exception):
    """A command line or a --fifo/--jsonl path that the sidecar cannot work with."""


def main(argv=None):
    """The ``benchmarkai`` command; returns the exit status."""
    stderr = None if 2 in _fill_closed_standard_fds() else sys.stderr
    parser, run_parser = _parsers()
    options = parser.parse_args(argv)
    if options.subcommand != "run":
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if not command:
        run_parser.error("give the command to run, after --")
    try:
        return Sidecar(options.fifo, options.jsonl, options.quiet, options.drain_timeout, stderr).run(command)
    except UsageError as error:
        if stderr is not None:
            stderr.write("benchmarkai: %s\n" % error)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C while our handler was not in place; what was created is removed
        return 128 + signal.SIGINT


def _parsers():
    """The ``benchmarkai`` parser, and that of its ``run`` command."""
    parser = argparse.ArgumentParser(
        prog="benchmarkai", description="Tools of the Benchmark AI client library.")
    commands = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run CMD in fifo mode and show the metrics it emits",
        description="Run CMD with BENCHMARK_AI=fifo, as the Benchmark AI sidecar would: read the "
                    "metrics it and its subprocesses emit, show them on stderr as they come and "
                    "sum them up at the end. Exits with CMD's exit status.")
    run.add_argument("--fifo", metavar="PATH",
                     help="the FIFO to use: created (and removed at the end) unless it exists; "
                          "default: a new one in a private temporary directory")
    run.add_argument("--jsonl", metavar="FILE",
                     help="also write every line received to FILE, as JSON with the time it came")
    run.add_argument("--quiet", action="store_true", help="show only the summary, not each record")
    run.add_argument("--drain-timeout", metavar="SECONDS", type=_seconds, default=DRAIN_TIMEOUT,
                     help="after CMD exits, how long to wait for processes it left behind to "
                          "close the FIFO (default: %(default)g)")
    run.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS ...]",
                     help="the command to run, and its arguments")
    return parser, run


class Sidecar(object):
    """One run: the FIFO, CMD, the read loop, the tally and what is shown of it."""

    def __init__(self, fifo=None, jsonl=None, quiet=False, drain_timeout=DRAIN_TIMEOUT, stderr=sys.stderr):
        self.fifo_option = fifo
        self.jsonl_path = jsonl
        self.drain_timeout = drain_timeout
        self.terminal = None if stderr is None else _summary.Terminal(stderr)
        self.tally = _summary.Tally()
        # The parts of the work still done: one that fails is said once and given up, and
        # the FIFO is read on, so that CMD is never left blocked.
        self.parts = set(["parsing", "tallying", "summing up"])
        if not quiet:
            self.parts.add("showing")
        if jsonl is not None:
            self.parts.add("recording")
        self.lines_read = 0
        self.pending = b""  # the start of a line whose newline has not come yet
        self.dropping = False  # the rest of a line longer than LONGEST_LINE is dropped up to its newline
        self.live_second = 0.0  # when the second began in which live lines are being counted
        self.live_shown = 0  # live lines shown in that second
        self.folded = 0  # lines not shown live in that second, and the last of them (parsed)
        self.last_folded = None
        self.child = None
        self.own_group = False  # CMD runs in a process group of its own
        self.signals = []  # the SIGINTs and SIGTERMs received, from just before CMD started
        self.early_signals = []  # those that came before CMD could be sent them
        self.jsonl = None
        self.hold_fd = -1  # our own write end of the FIFO, held while CMD runs
        self.start = _monotonic()

    def run(self, command):
        self.command_name = _command_name(command)
        place = FifoPlace(self.fifo_option)
        read_fd = -1
        previous = {}
        try:
            if self.jsonl_path is not None:
                self.jsonl = _open_jsonl(self.jsonl_path)
            read_fd = os.open(place.path, os.O_RDONLY | os.O_NONBLOCK)
            # A write end of our own: the read end sees no EOF while CMD runs, however often
            # its writers come and go, so a late writer loses nothing.
            self.hold_fd = os.open(place.path, os.O_WRONLY | os.O_NONBLOCK)
            for fd in (read_fd, self.hold_fd):
                _set_cloexec(fd)  # Python 2 would let CMD inherit them
            for signum in FORWARDED:
                previous[signum] = signal.signal(signum, self._on_signal)
            returncode = self._start(command, place.path)
            if returncode is not None:
                return returncode
            self._read(read_fd)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for fd in (read_fd, self.hold_fd):
                if fd >= 0:
                    os.close(fd)
            if self.jsonl is not None:
                try:
                    self.jsonl.close()
                except (IOError, OSError):
                    pass  # it failed to be written before, and that was said
            place.remove()
        returncode = self.child.wait()
        self._attempt("summing up", self._summarize, returncode)
        return 128 - returncode if returncode < 0 else returncode

    def _start(self, command, path):
        """Start CMD; None if it started, else the exit status to return (as a shell's)."""
        environ = dict(os.environ, BENCHMARK_AI="fifo", BENCHMARK_AI_FIFO_FILEPATH=path)
        # In the terminal's foreground, CMD stays in our process group: it may read the
        # terminal, and Ctrl-C reaches it directly. Elsewhere it gets a group of its own, so
        # that a signal sent to our group reaches it once, through us.
        self.own_group = not _in_terminal_foreground()
        try:
            self.child = subprocess.Popen(command, env=environ, close_fds=True,
                                          preexec_fn=os.setpgrp if self.own_group else None)
        except OSError as error:
            self._show([u"benchmarkai: cannot run %s: %s" % (command[0], error)])
            return EXIT_NOT_FOUND if error.errno == errno.ENOENT else EXIT_NOT_EXECUTABLE
        for signum in list(self.early_signals):  # from now on, _on_signal forwards them itself
            self._forward(signum)
        return None

    def _on_signal(self, signum, frame):
        self.signals.append(signum)
        if self.child is None:
            self.early_signals.append(signum)
        else:
            self._forward(signum)

    def _forward(self, signum):
        if signum == signal.SIGINT and not self.own_group:
            return  # the terminal sent it to CMD too: a second one could break CMD's cleanup
        try:
            if self.own_group:
                os.killpg(self.child.pid, signum)
            elif self.child.returncode is None:
                os.kill(self.child.pid, signum)
        except OSError:
            pass  # gone already

    def _read(self, read_fd):
        """Read the FIFO until CMD has exited and every writer has closed it (our own write
        end is closed once CMD has exited). A process CMD left behind that keeps the FIFO open
        is waited for at most the drain timeout, or until the next SIGINT or SIGTERM."""
        exited_at = None
        while True:
            if _readable(read_fd, CHECK_INTERVAL):
                chunk = _read_some(read_fd)
                if chunk == b"":
                    break  # EOF: CMD has exited and no process holds the FIFO any more
                if chunk:
                    self._take_lines(chunk)
            if self.folded and _monotonic() - self.live_second >= 1:
                self._next_live_second()
            if exited_at is None:
                if self.child.poll() is not None:
                    os.close(self.hold_fd)
                    self.hold_fd = -1
                    exited_at = _monotonic()
                    signals_before = len(self.signals)
            elif _monotonic() - exited_at >= self.drain_timeout or len(self.signals) > signals_before:
                self._show([u"benchmarkai: %s exited, but a process it started still holds the FIFO "
                            u"open; stopped reading %.1f s later: what it writes from now on is not read"
                            % (self.command_name, _monotonic() - exited_at)])
                break
        if self.pending:
            self._receive_malformed(self.pending, u"no newline at the end")
        if self.folded:
            self._next_live_second()

    def _take_lines(self, chunk):
        """Receive the lines that ``chunk`` completes; keep the start of the next one."""
        lines = chunk.split(b"\n")
        lines[0] = self.pending + lines[0]
        self.pending = lines.pop()
        if self.dropping:
            if not lines:
                self.pending = b""
                return
            del lines[0]  # the end of the line too long, which was counted already
            self.dropping = False
        elif lines and len(lines[0]) > LONGEST_LINE:  # begun in an earlier read
            self._receive_malformed(lines.pop(0)[:LONGEST_LINE], TOO_LONG)
        if lines:
            self._receive(lines)
        if len(self.pending) > LONGEST_LINE:
            self._receive_malformed(self.pending[:LONGEST_LINE], TOO_LONG)
            self.pending = b""
            self.dropping = True

    def _receive_malformed(self, line, problem):
        self._receive([line], [_summary.Malformed(problem, line)])

    def _receive(self, lines, results=None):
        """Tally, show and record complete lines (bytes, without their newline): the parts of
        the work that have not failed."""
        self.lines_read += len(lines)
        if "parsing" not in self.parts:
            return
        if results is None and "tallying" in self.parts and not self._each_line_wanted():
            if self._attempt("tallying", self.tally.add_same_shape, lines):
                return
        if results is None:
            results = self._attempt("parsing", _summary.parse_lines, lines)
            if results is None:
                self.parts.clear()
                return
        if "tallying" in self.parts:
            self._attempt("tallying", self.tally.add, results)
        if "showing" in self.parts and self.terminal is not None:
            self._attempt("showing", self._show_live, results)
        if "recording" in self.parts:
            self._attempt("recording", self._record, results, lines)

    def _each_line_wanted(self):
        """Whether a result for each line is needed, beyond the tally: to show or record it."""
        return "recording" in self.parts or ("showing" in self.parts and self.terminal is not None)

    def _attempt(self, part, action, *args):
        """``action(*args)``, for ``part`` of the work. If it raises, say so once and give up
        that part: the sidecar must go on reading, or CMD would be left blocked."""
        try:
            return action(*args)
        except Exception as error:  # any failure: a full disk, or a bug of ours
            self.parts.discard(part)
            self._show([u"benchmarkai: %s failed at line %d (%s: %s); %s" % (
                part, self.lines_read, type(error).__name__, error, PARTS[part])])
            return None

    def _show_live(self, results):
        """A live line for each result; those beyond LIVE_PER_SECOND in a second are folded."""
        if _monotonic() - self.live_second >= 1:
            self._next_live_second()
        room = max(0, LIVE_PER_SECOND - self.live_shown)
        if room:
            self.live_shown += min(room, len(results))
            self._show([self._live(_summary.result_text(result)) for result in results[:room]])
        if len(results) > room:
            self.folded += len(results) - room
            self.last_folded = results[-1]

    def _next_live_second(self):
        """Show the line that folds the lines not shown in the second that ends, if any, and
        begin the next second."""
        if self.folded and "showing" in self.parts:
            self._attempt("showing", self._show_folded)
        self.folded = 0
        self.last_folded = None
        self.live_second = _monotonic()
        self.live_shown = 0

    def _show_folded(self):
        self._show([self._live(u"... %d more line%s, the last: %s" % (
            self.folded, u"" if self.folded == 1 else u"s", _summary.result_text(self.last_folded)))])

    def _live(self, text):
        return u"[benchmarkai +%.2fs] %s" % (_monotonic() - self.start, text)

    def _record(self, results, lines):
        """Write each line to the --jsonl file, with the time it came: a JSON object as it was
        received, else the line as a JSON string."""
        received = b'{"received": ' + repr(time.time()).encode("ascii")
        entries = []
        for result, line in zip(results, lines):
            if type(result) is _summary.Malformed:
                line = json.dumps(line.decode("utf-8", "replace")).encode("ascii")
                entries.extend((received, b', "malformed": ', line, b"}\n"))
            else:
                entries.extend((received, b', "metrics": ', line, b"}\n"))
        self.jsonl.write(b"".join(entries))
        self.jsonl.flush()  # a crash of ours loses nothing

    def _summarize(self, returncode):
        if self.terminal is None:
            return
        tally = self.tally
        if returncode < 0:
            ending = u"was killed by %s" % _signal_name(-returncode)
        else:
            ending = u"exited with status %d" % returncode
        lines = [u"benchmarkai: %d record%s and %d malformed line%s in %.1f s; %s %s" % (
            tally.records, u"" if tally.records == 1 else u"s", tally.malformed,
            u"" if tally.malformed == 1 else u"s", _monotonic() - self.start,
            self.command_name, ending)]
        if tally.lines < self.lines_read:
            lines.append(u"(the tally covers the first %d of the %d lines read)" % (tally.lines, self.lines_read))
        if tally.series:
            lines.extend(tally.table(self.terminal.bars))
        lines.extend(tally.notes())
        self._show(lines)

    def _show(self, lines):
        """Write to stderr; if stderr is gone (a closed pipe), show nothing more, but go on
        reading: CMD must never be left blocked on a full FIFO."""
        if self.terminal is None:
            return
        try:
            self.terminal.write_lines(lines)
        except (IOError, OSError):
            self.terminal = None
            # What is left in sys.stderr's buffer then goes to /dev/null at exit, instead of
            # failing there and turning CMD's exit status into 120.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)


class FifoPlace(object):
    """Where the FIFO is, and what of it the sidecar created (and so removes at the end)."""

    def __init__(self, path=None):
        self.directory = None
        self.created = False
        if path is None:
            self.directory = tempfile.mkdtemp(prefix="benchmarkai-")  # mode 0700
            path = os.path.join(self.directory, "metrics.fifo")
        self.path = path
        try:
            os.mkfifo(path, 0o600)
            self.created = True
        except OSError as error:
            if error.errno != errno.EEXIST or not _is_fifo(path):
                self.remove()
                raise UsageError("cannot use %s as the FIFO: %s" % (
                    path, "it exists and is not a FIFO" if error.errno == errno.EEXIST else error.strerror))

    def remove(self):
        if self.created:
            os.unlink(self.path)
        if self.directory is not None:
            os.rmdir(self.directory)


def _is_fifo(path):
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:  # a dangling symlink, say
        return False


def _open_jsonl(path):
    try:
        return io.open(path, "wb")
    except (IOError, OSError) as error:
        raise UsageError("cannot write --jsonl %s: %s" % (path, error.strerror))


def _seconds(text):
    """--drain-timeout's value: a finite number of seconds, >= 0."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError("%r is not a finite number of seconds >= 0" % text)
    return seconds


def _fill_closed_standard_fds():
    """Open /dev/null on each of the fds 0, 1 and 2 that is closed (as under ``2>&-``), close
    on exec; return them. Else the first files the sidecar opens would take them: Python 2
    would write its stderr into the --jsonl file, and CMD inherit it. CMD still starts with
    them closed."""
    filled = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free fd: this one
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            _set_cloexec(fd)
            filled.append(fd)
    return filled


def _in_terminal_foreground():
    """True when a terminal's Ctrl-C reaches our process group: one of the standard streams is
    our controlling terminal and we are its foreground job."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


def _readable(fd, timeout):
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    except (select.error, OSError) as error:  # Python 2: a signal handler ran (EINTR)
        if error.args[0] != errno.EINTR:
            raise
        return False


def _read_some(fd):
    """What the FIFO holds (b"" at EOF), or None when a signal or a spurious wakeup left nothing."""
    try:
        return os.read(fd, READ_SIZE)
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EINTR):
            raise
        return None


def _command_name(command):
    name = os.path.basename(command[0])
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else name


def _signal_name(signum):
    for name in dir(signal):
        if name.startswith("SIG") and not name.startswith("SIG_") and getattr(signal, name) == signum:
            return u"%s (signal %d)" % (name, signum)
    return u"signal %d" % signum
