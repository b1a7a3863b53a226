"""The write end of the metrics FIFO: opening it, and opening it again when its reader goes away.

Shared by both implementations; none of this runs on the hot path, which writes to ``fd``
and calls ``open()``, ``wait_for_room()`` and ``recover()`` only when they are needed.

The descriptor stays non-blocking: a write of at most PIPE_BUF bytes goes into the pipe whole
or fails with EAGAIN, so a writer needs to give up the GIL (to wait for room) only when the
pipe is full. Processes that share the descriptor after a fork use the same code.

Re-entrant: an emit from a signal handler may run in the middle of any of this, in the thread
whose emit it interrupted (Python runs handlers between two bytecodes of the main thread).
So the lock is an RLock, and whatever the interrupted call was doing (waiting for the FIFO or
a reader) it checks, after each wait, whether the handler's emit did it meanwhile.

Importing this needs nothing POSIX (stdout mode runs anywhere); fifo mode needs named pipes,
that is os.mkfifo, os.O_NONBLOCK and fcntl, and without them the first open fails at once.
"""
import errno
import os
import select
import stat
import sys
import threading
import time

from benchmarkai import _config

try:
    import fcntl
except ImportError:  # Windows: no named pipes either (see _require_named_pipes)
    fcntl = None

# The most bytes one write(2) to a pipe carries whole, never mixed with other writers' bytes.
PIPE_BUF = getattr(select, "PIPE_BUF", 512)

_PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031 if sys.platform.startswith("linux") else None)
# What fifo mode needs of the platform, by name, each missing where named pipes do not exist.
_NAMED_PIPES_MISSING = [name for name, present in [
    ("os.mkfifo", hasattr(os, "mkfifo")), ("os.O_NONBLOCK", hasattr(os, "O_NONBLOCK")),
    ("fcntl", fcntl is not None)] if not present]
_monotonic = getattr(time, "monotonic", time.time)
_poll = getattr(select, "poll", None)  # not on every macOS Python; select() serves there


class FifoNotCreatedInTimeError(Exception):
    """No usable reader appeared on the FIFO within BENCHMARK_AI_FIFO_MAX_WAIT_TIME."""


class Fifo(object):
    """The FIFO's write descriptor, opened on first use.

    Once open, the descriptor number never changes: a new reader's pipe is dup2()'ed onto it,
    so an emitter may keep the number, and no thread can write through a number that was
    closed and handed to another file meanwhile.
    """

    def __init__(self, settings=None):
        self._settings = settings  # None: read BENCHMARK_AI_FIFO_* on first open
        self._lock = threading.RLock()  # re-entered only by an emit from a signal handler
        self._lock_pid = os.getpid()
        self._first_fd = {}  # "fd": the descriptor the first open kept; set once, by setdefault
        self.fd = -1
        self.generation = 0  # counts recoveries, so concurrent callers recover once

    def _locked(self):
        """The lock, new in a forked child: a fork while another thread held it (waiting for
        a reader) must not leave the child a copy that nobody will ever release."""
        if self._lock_pid != os.getpid():
            self._lock = threading.RLock()
            self._lock_pid = os.getpid()
        return self._lock

    def open(self):
        """Return the write descriptor, waiting for the FIFO and its reader on first use."""
        start = _monotonic()
        with self._locked():
            if self.fd < 0:
                if self._settings is None:
                    self._settings = _config.fifo_settings()
                _require_named_pipes(self._settings.path)
                fd = _open_when_ready(self._settings, start, self._is_open)
                if fd is not None:
                    # A signal handler's emit may also have opened it after this call's
                    # open(2) (its own wait saw no descriptor yet): setdefault, one step no
                    # handler can cut in two, keeps one of the two; the other is closed.
                    kept = self._first_fd.setdefault("fd", fd)
                    if kept != fd:
                        os.close(fd)
                    self.fd = kept
        return self.fd

    def _is_open(self):
        return self.fd >= 0

    def recover(self, generation):
        """After EPIPE at ``generation``: wait for a new reader and move ``fd`` onto its pipe."""
        start = _monotonic()

        def recovered():  # by another thread, or by a signal handler's emit meanwhile
            return generation != self.generation

        with self._locked():
            new_fd = _open_when_ready(self._settings, start, recovered)
            if new_fd is None:
                return
            try:
                # The old pipe is released only now, with the new one in place, so the lines
                # still in it stay for the new reader.
                if not recovered():  # a handler's emit may have, while new_fd was opened
                    _dup2_non_inheritable(new_fd, self.fd)
                    # Not "+= 1": a handler's emit that recovered between the check and here
                    # moved fd onto the same new pipe, and the recovery still counts once.
                    self.generation = generation + 1
            finally:
                os.close(new_fd)


def wait_for_room(fd):
    """Wait until the pipe behind ``fd`` has room (or lost its reader: the next write fails
    with EPIPE). Python releases the GIL meanwhile; a signal returns early."""
    try:
        if _poll is not None:
            poller = _poll()
            poller.register(fd, select.POLLOUT)
            poller.poll()
        else:
            select.select([], [fd], [])
    except (OSError, select.error) as error:  # select.error is no OSError on Python 2
        if error.args[0] != errno.EINTR:
            raise


def _open_when_ready(settings, start, done):
    """A non-blocking write descriptor on the FIFO, once it exists and a reader has it open;
    or None, opening nothing, as soon as ``done()`` says the job is done: by another thread
    before this one had the lock, or by a signal handler's emit that ran during a wait here."""
    deadline = start + settings.max_wait
    while not done():
        try:
            return _open_for_writing(settings.path)
        except OSError as error:
            # ENOENT: not created yet; ENXIO: created, but nobody reads it yet.
            if error.errno not in (errno.ENOENT, errno.ENXIO):
                raise
            missing = error.errno
        remaining = deadline - _monotonic()
        if remaining <= 0:
            raise FifoNotCreatedInTimeError(_timeout_message(settings, missing))
        time.sleep(min(settings.step, remaining))
    return None


def _require_named_pipes(path):
    """Fail at once, naming the FIFO, where fifo mode cannot work (no waiting for it)."""
    if _NAMED_PIPES_MISSING:
        raise OSError(
            errno.ENOSYS,
            "BENCHMARK_AI=fifo needs named pipes, which this platform does not have (no %s); "
            "use stdout mode (leave BENCHMARK_AI unset) to emit metrics here"
            % ", ".join(_NAMED_PIPES_MISSING),
            path,
        )


def _open_for_writing(path):
    _refuse_unless_fifo(path, os.stat(path).st_mode)
    # O_NONBLOCK: fail with ENXIO instead of blocking forever while there is no reader; kept
    # for the writes (see the module's docstring).
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        _refuse_unless_fifo(path, os.fstat(fd).st_mode)  # it may have been replaced meanwhile
        _set_cloexec(fd)
        if _F_SETPIPE_SZ is not None:
            try:
                fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_SIZE)
            except (IOError, OSError):
                pass  # best effort: above /proc/sys/fs/pipe-max-size, the default size serves
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_unless_fifo(path, mode):
    if not stat.S_ISFIFO(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "a regular file" if stat.S_ISREG(mode) else "not a FIFO"
        raise OSError(
            errno.EINVAL,
            "BENCHMARK_AI_FIFO_FILEPATH names %s, not a named pipe (FIFO); "
            "benchmarkai writes metrics only to a FIFO" % kind,
            path,
        )


def _set_cloexec(fd):
    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)


def _dup2_non_inheritable(fd, fd2):
    if sys.version_info >= (3, 4):
        os.dup2(fd, fd2, inheritable=False)
    else:
        os.dup2(fd, fd2)
        _set_cloexec(fd2)  # Python 2's dup2 leaves fd2 inheritable


def _timeout_message(settings, missing):
    if missing == errno.ENOENT:
        what = "was not created"
    else:
        what = "exists, but no process opened it for reading"
    return (
        "the FIFO %r %s within %g seconds (BENCHMARK_AI_FIFO_MAX_WAIT_TIME); in fifo mode, "
        "the process that collects the metrics must create the FIFO and read it"
        % (settings.path, what, settings.max_wait)
    )
