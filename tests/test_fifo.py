"""Fifo mode, and what emit() promises in it, through a real FIFO (os.mkfifo) and real readers.

Every test runs against each implementation (the ``impl`` fixture). Child interpreters select
fifo mode from the environment and call the public ``benchmarkai.emit``, as a user's process
does; in-process tests drive ``impl.emitter(Fifo(FifoSettings(...)))``. Readers are
tests/fifo_reader.py processes. Every child and reader is killed if it outlives its timeout,
so a bug fails a test instead of hanging the suite.
"""
import fcntl
import inspect
import json
import os
import re
import select
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections import OrderedDict

import pytest
import six
from support import TESTS
from support.children import Background, daemon, fifo_env, run, run_child
from support.workload import big_every, fixed_lines, workload

from benchmarkai import FifoNotCreatedInTimeError
from benchmarkai._config import FifoSettings
from benchmarkai._fifo import Fifo

READER = os.path.join(TESTS, "fifo_reader.py")
PIPE_BUF = select.PIPE_BUF  # the platform's: 4096 on Linux, 512 on macOS
LINUX = sys.platform.startswith("linux")
F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
READER_TIMEOUT = 60  # seconds before a reader is killed, whatever happens
# Python 3.7+ dicts keep insertion order; emit must keep the order of both kinds of mapping.
MAPPING_TYPES = [OrderedDict] + ([dict] if sys.version_info >= (3, 7) else [])
# The pattern of a message saying the FIFO was never created.
NOT_CREATED = re.compile(r"\b(not|never)\b[\w ]*\bcreated\b", re.IGNORECASE)


# --- Helpers ---

class Reader(object):
    """tests/fifo_reader.py in its own process. Its stdout is collected as it comes (it never
    blocks on a full stdout pipe), and it is killed after READER_TIMEOUT whatever happens."""

    def __init__(self, path, *options):
        self.process = subprocess.Popen(
            [sys.executable, READER, path] + [str(option) for option in options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True)
        self._out = []
        self._err = []
        self._threads = [daemon(self._collect_stdout), daemon(self._collect_stderr)]
        self._watchdog = threading.Timer(READER_TIMEOUT, self.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _collect_stdout(self):
        fd = self.process.stdout.fileno()
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            self._out.append(chunk)

    def _collect_stderr(self):
        for line in iter(self.process.stderr.readline, b""):
            self._err.append(line)

    def kill(self):
        if self.process.poll() is None:
            try:
                self.process.kill()
            except OSError:
                pass

    def finish(self, timeout=20):
        """Wait for the reader to exit (EOF, or --exit-after); return the lines it got, as bytes."""
        deadline = time.time() + timeout
        while self.process.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        timed_out = self.process.poll() is None
        self.kill()
        self.process.wait()
        for thread in self._threads:
            thread.join(10)
        self._watchdog.cancel()
        self.process.stdout.close()
        self.process.stderr.close()
        errors = b"".join(self._err).decode("ascii", "replace")
        assert not timed_out, "the reader did not exit within %s s (a writer kept the FIFO open?)" % timeout
        assert self.process.returncode == 0, "the reader failed (killed?): %s" % errors
        data = b"".join(self._out)
        assert not data or data.endswith(b"\n"), data[-200:]
        return data.split(b"\n")[:-1]


class Writer(object):
    """An emitter of ``impl`` on its own Fifo(path), in this process."""

    def __init__(self, impl, path, max_wait, step):
        self.fifo = Fifo(FifoSettings(path, max_wait, step))
        self.emit = impl.emitter(self.fifo).emit

    def close(self):
        """Close the write end, so that a reader sees EOF once every writer did."""
        if self.fifo.fd >= 0:
            os.close(self.fifo.fd)
            self.fifo.fd = -1


@pytest.fixture
def start_reader():
    """start_reader(path, *options) -> a running Reader; all are killed at teardown."""
    readers = []

    def start(path, *options):
        reader = Reader(path, *options)
        readers.append(reader)
        return reader

    yield start
    for reader in readers:
        reader.kill()
        reader.process.wait()


@pytest.fixture
def new_writer(impl):
    """new_writer(path, max_wait, step) -> a Writer; all are closed at teardown."""
    writers = []

    def new(path, max_wait=3.0, step=0.02):
        writer = Writer(impl, path, max_wait, step)
        writers.append(writer)
        return writer

    yield new
    for writer in writers:
        writer.close()


def within(seconds, function, *args):
    """function(*args) in a thread: its result or its exception, or a failure if it is still
    running after ``seconds`` (for in-process calls that a bug could block forever)."""
    return Background(function, *args).result(seconds)


def wait_for_path(path, timeout=15):
    """Return once ``path`` exists; fail after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert time.time() < deadline, "%s did not appear within %s s" % (path, timeout)
        time.sleep(0.01)


def parse_lines(raw_lines):
    """Each line as its list of (name, value) pairs, after checking it is whole: one JSON
    object (never a mix of two writers' bytes), at most PIPE_BUF bytes with its newline."""
    parsed = []
    for raw in raw_lines:
        assert not raw.startswith(b"INCOMPLETE"), "a line was cut: %r" % raw[:200]
        assert len(raw) + 1 <= PIPE_BUF, "a %d-byte line: %r" % (len(raw) + 1, raw[:200])
        assert raw.startswith(b"{") and raw.endswith(b"}"), "not one JSON object: %r" % raw[:200]
        pairs = json.loads(raw.decode("ascii"), object_pairs_hook=list)
        assert isinstance(pairs, list) and pairs and all(isinstance(pair, tuple) for pair in pairs), raw[:200]
        parsed.append(pairs)
    return parsed


def flat(mappings):
    """All the (name, value) pairs of ``mappings``, in order."""
    return [pair for metrics in mappings for pair in metrics.items()]


def assert_same_pairs(got, expected, who):
    if got != expected:
        first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
        pytest.fail("%s: %d pairs received, %d emitted; first difference at %d: %r instead of %r" % (
            who, len(got), len(expected), first, got[first:first + 2], expected[first:first + 2]))


def assert_writers_intact(raw_lines, expected):
    """No line mixes writers, and each writer's pairs all arrived, once, in order.
    ``expected`` maps a writer's name prefix ("w0", "opened") to the mappings it emitted."""
    received = {}
    for pairs in parse_lines(raw_lines):
        writers = set(name.split(".")[0] for name, _ in pairs)
        assert len(writers) == 1, "a line mixes the pairs of writers %s" % sorted(writers)
        received.setdefault(writers.pop(), []).extend(pairs)
    assert sorted(received) == sorted(expected)
    for who in expected:
        assert_same_pairs(received[who], flat(expected[who]), who)


def fds_on(path):
    """This process's descriptors open on the file at ``path``."""
    target = os.stat(path)
    numbers = range(4096)
    for listing in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(listing):
            numbers = [int(name) for name in os.listdir(listing)]
            break
    found = []
    for fd in numbers:
        try:
            info = os.fstat(fd)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == (target.st_dev, target.st_ino):
            found.append(fd)
    return found


# Run by an exec'd child: the descriptors it has open on the file argv[1].
EXEC_PROBE = "import os, sys\n%s\nsys.stdout.write(repr(fds_on(sys.argv[1])))\n" % inspect.getsource(fds_on)


def assert_close_on_exec(path):
    """Each descriptor this process has on ``path`` is FD_CLOEXEC, and an exec'd child (even
    with close_fds=False) has none open on it."""
    fds = fds_on(path)
    assert fds
    for fd in fds:
        assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC, "fd %d is inherited by exec" % fd
    returncode, inherited, err = run([sys.executable, "-c", EXEC_PROBE, path], close_fds=False)
    assert returncode == 0, err
    assert inherited == "[]", "an exec'd child has the FIFO open on fds %s" % inherited


def pair_text(name, value):
    """``"name":value`` as the canonical line writes it."""
    return json.dumps(OrderedDict([(name, value)]), separators=(",", ":"))[1:-1]


# --- Settings: read when the FIFO is first opened ---

BAD_SETTINGS = [
    ("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "abc"),
    ("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", ""),
    ("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "-1"),
    ("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "nan"),
    ("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "inf"),
    ("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "-inf"),
    ("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "1e400"),
    ("BENCHMARK_AI_FIFO_WAIT_TIME_STEP", "abc"),
    ("BENCHMARK_AI_FIFO_WAIT_TIME_STEP", "0"),
    ("BENCHMARK_AI_FIFO_WAIT_TIME_STEP", "-0.5"),
    ("BENCHMARK_AI_FIFO_WAIT_TIME_STEP", "nan"),
    ("BENCHMARK_AI_FIFO_WAIT_TIME_STEP", "inf"),
]


@pytest.mark.parametrize("variable, value", BAD_SETTINGS)
def test_bad_wait_setting_is_a_value_error_naming_it(impl, tmp_path, monkeypatch, variable, value):
    """Not a finite non-negative number (or a zero step): ValueError naming the variable,
    from the first emit, with no waiting and nothing created."""
    path = str(tmp_path / "metrics.fifo")
    monkeypatch.setenv("BENCHMARK_AI_FIFO_FILEPATH", path)
    monkeypatch.setenv("BENCHMARK_AI_FIFO_MAX_WAIT_TIME", "3")
    monkeypatch.setenv("BENCHMARK_AI_FIFO_WAIT_TIME_STEP", "0.05")
    monkeypatch.setenv(variable, value)
    emit = impl.emitter(Fifo()).emit  # Fifo(): settings from the environment, at first open
    started = time.time()
    with pytest.raises(ValueError) as caught:
        within(5, emit, {"loss": 0.5})  # "inf" taken as a max wait would wait forever
    assert variable in str(caught.value)
    assert time.time() - started < 1.5
    assert not os.path.exists(path)


def test_bad_wait_setting_fails_the_first_emit_not_the_import(impl, tmp_path):
    """Through the public emit(): importing succeeds, the first emit raises the ValueError."""
    path = str(tmp_path / "metrics.fifo")
    result = run_child(impl, 'report(**timed_emit({"loss": 0.5}))', **fifo_env(path, max_wait="abc"))
    assert result["error"] == "ValueError", result
    assert "BENCHMARK_AI_FIFO_MAX_WAIT_TIME" in result["message"]


def test_settings_are_read_when_the_fifo_is_first_opened(impl, tmp_path):
    """Variables set after import, before the first emit, are the ones used."""
    code = '''
        os.environ["BENCHMARK_AI_FIFO_FILEPATH"] = os.environ["TEST_REAL_PATH"]
        os.environ["BENCHMARK_AI_FIFO_MAX_WAIT_TIME"] = "2"
        os.mkfifo(os.environ["TEST_REAL_PATH"])
        read_fd = os.open(os.environ["TEST_REAL_PATH"], os.O_RDONLY | os.O_NONBLOCK)
        result = timed_emit({"loss": 0.5})
        report(result=result, data=os.read(read_fd, 4096).decode("ascii"))
    '''
    result = run_child(impl, code, TEST_REAL_PATH=str(tmp_path / "real.fifo"),
                       **fifo_env(str(tmp_path / "not-this-one"), max_wait="abc"))
    assert result["result"]["error"] is None, result
    assert result["data"] == '{"loss":0.5}\n'


def test_zero_max_wait_is_valid_and_tries_once(impl, tmp_path):
    """MAX_WAIT_TIME=0 is a valid setting: one attempt, no waiting."""
    code = '''
        missing = timed_emit({"try": 1})
        os.mkfifo(PATH)
        read_fd = os.open(PATH, os.O_RDONLY | os.O_NONBLOCK)
        present = timed_emit({"try": 2})
        report(missing=missing, present=present, data=os.read(read_fd, 4096).decode("ascii"))
    '''
    result = run_child(impl, code, **fifo_env(str(tmp_path / "metrics.fifo"), max_wait="0", step="0.5"))
    assert result["missing"]["fifo_error"], result
    assert result["missing"]["seconds"] < 1
    assert result["present"]["error"] is None, result
    assert result["data"] == '{"try":2}\n'


# --- Opening: wait for the FIFO and its reader, for at most the max wait ---

@pytest.mark.parametrize("late", ["created", "opened"])
def test_first_emit_waits_for_a_late_fifo_or_reader(impl, tmp_path, start_reader, late):
    """The first emit waits, checking every step, until the FIFO exists (--create-after) and a
    reader has it open (--open-after); then the line goes through."""
    path = str(tmp_path / "metrics.fifo")
    waiting = str(tmp_path / "waiting")
    if late == "opened":
        os.mkfifo(path)
    child = Background(run_child, impl, '''
        open(os.environ["TEST_WAITING"], "w").close()
        report(**timed_emit({"late": 1}))
    ''', TEST_WAITING=waiting, **fifo_env(path, max_wait=10, step=0.02))
    wait_for_path(waiting)  # the child is in emit() now, before any reader exists
    reader = start_reader(path, "--create-after" if late == "created" else "--open-after", 0.3)
    result = child.result()
    assert result["error"] is None, result
    assert result["seconds"] >= 0.25  # it did wait for the reader
    assert parse_lines(reader.finish()) == [[("late", 1)]]


@pytest.mark.parametrize("situation, max_wait, step", [
    ("never created", 0.5, 0.02),
    ("never created", 0.4, 30),  # a step longer than the max wait does not stretch it
    ("no reader", 0.5, 0.02),
])
def test_no_usable_fifo_raises_after_the_max_wait(impl, tmp_path, situation, max_wait, step):
    """FifoNotCreatedInTimeError after about the max wait (never a hang in open()), whose
    message says which never happened: the FIFO's creation, or a reader."""
    path = str(tmp_path / "metrics.fifo")
    if situation == "no reader":
        os.mkfifo(path)
    result = run_child(impl, 'report(**timed_emit({"loss": 0.5}))', **fifo_env(path, max_wait, step))
    assert result["fifo_error"], result
    assert max_wait - 0.05 <= result["seconds"] < max_wait + 2.5, result
    if situation == "never created":
        assert NOT_CREATED.search(result["message"]), result["message"]
        assert not os.path.exists(path)
    else:
        assert not NOT_CREATED.search(result["message"]), result["message"]
        assert "read" in result["message"].lower(), result["message"]


def _not_a_fifo(kind, tmp_path):
    """Make a ``kind`` of non-FIFO; return its path and a function giving its observable state."""
    if kind == "character device":
        return os.devnull, lambda: None
    target = str(tmp_path / "target")
    if kind.endswith("directory"):
        os.mkdir(target)
        state = lambda: os.listdir(target)  # noqa: E731
    else:
        with open(target, "wb") as out:
            out.write(b"precious data\n")

        def state():
            with open(target, "rb") as content:
                return content.read()
    if not kind.startswith("symlink"):
        return target, state
    link = str(tmp_path / "link")
    os.symlink(target, link)
    return link, lambda: (os.readlink(link), state())


@pytest.mark.parametrize("kind", [
    "regular file", "directory", "symlink to a regular file", "symlink to a directory", "character device",
])
def test_path_that_is_not_a_fifo_is_refused(impl, tmp_path, new_writer, kind):
    """A path that exists but is not a FIFO: a clear error at once (no waiting), nothing written."""
    path, state = _not_a_fifo(kind, tmp_path)
    before = state()
    writer = new_writer(path, max_wait=5)
    for _ in range(2):  # and again: a refusal leaves nothing half-open
        started = time.time()
        with pytest.raises(Exception) as caught:
            within(10, writer.emit, {"loss": 0.5})
        assert time.time() - started < 2, "it waited instead of refusing"
        assert not isinstance(caught.value, FifoNotCreatedInTimeError), caught.value
        message = str(caught.value).replace(str(tmp_path), "")  # its name has "fifo" in it
        assert re.search(r"fifo|named pipe", message, re.IGNORECASE), caught.value
    assert state() == before


# --- Lines: at most PIPE_BUF bytes, a long mapping split greedily ---

def _long_mapping(mapping_type):
    """Hundreds of metrics, long names (some with characters escaped to 6 or 12 bytes)."""
    pairs = []
    for i in range(300):
        name = u"metric.%03d.%s" % (i, u"x" * (i % 60))
        if i % 37 == 0:
            name += u"\u00e9" * (PIPE_BUF // 10)  # 409 characters, 2454 bytes escaped (Linux)
        if i % 41 == 0:
            name += u"\U0001f600" * (PIPE_BUF // 256)  # a surrogate pair each: 192 bytes escaped
        pairs.append((name, i * 1.1 if i % 3 else (-1) ** i * 2 ** (i % 70)))
    return mapping_type(pairs)


def test_long_mapping_is_split_into_greedy_lines(impl, in_process_fifo):
    """Each line at most PIPE_BUF bytes and a JSON object; the pairs, read back line after line,
    are the mapping's in order; and no line could have taken the next line's first pair."""
    for mapping_type in MAPPING_TYPES:
        metrics = _long_mapping(mapping_type)
        in_process_fifo.emit(metrics)
        raw = in_process_fifo.read().split(b"\n")
        assert raw.pop() == b""
        lines = parse_lines(raw)
        assert len(lines) >= 5
        assert_same_pairs([pair for line in lines for pair in line], list(metrics.items()), "the lines")
        for line, following in zip(raw, lines[1:]):
            # This line, a ",", the next pair and the "\n" would have passed PIPE_BUF.
            assert len(line) + 1 + len(pair_text(*following[0])) + 1 > PIPE_BUF


def test_line_of_exactly_pipe_buf_bytes_is_not_split(impl, in_process_fifo):
    """PIPE_BUF bytes ("\\n" included) is one line; one more byte makes two, also for the
    lines after the first (caught: a split line's size counted from 0, not its "{")."""
    name = u"a" * (PIPE_BUF - 13)  # {"a...":1,"b":2}\n is len(name) + 13 bytes
    cases = [
        ([(u"s" * (PIPE_BUF - 7), 1)], [PIPE_BUF]),  # {"s...":1}\n
        ([(name, 1), (u"b", 2)], [PIPE_BUF]),
        ([(name + u"a", 1), (u"b", 2)], [PIPE_BUF - 5, 8]),
        ([(name, 1), (u"b", 2), (u"c", 3)], [PIPE_BUF, 8]),  # split, its first line full to the byte
        # After a split too: a line counted a byte short (its "{") would be PIPE_BUF + 1 bytes.
        ([(u"s" * (PIPE_BUF - 7), 1), (name + u"a", 1), (u"b", 2)], [PIPE_BUF, PIPE_BUF - 5, 8]),
    ]
    for mapping_type in MAPPING_TYPES:
        for pairs, sizes in cases:
            in_process_fifo.emit(mapping_type(pairs))
            raw = in_process_fifo.read()
            assert [len(line) + 1 for line in raw.split(b"\n")[:-1]] == sizes
            assert [pair for line in parse_lines(raw.split(b"\n")[:-1]) for pair in line] == pairs


TOO_LONG = {  # name, value, what the message must show of the name
    "long name": (u"too_long_metric_" + u"x" * PIPE_BUF, 1.0, u"too_long_metric_"),
    "name long once escaped": (u"accented_metric_" + u"\u00e9" * (PIPE_BUF // 6 + 1), 1.0, u"accented_metric_"),
    "name with surrogate pairs": (u"emoji_metric_" + u"\U0001f600" * (PIPE_BUF // 12 + 1), 1.0, u"emoji_metric_"),
    "huge int": (u"huge_int", 10 ** PIPE_BUF, u"huge_int"),
    "long str value": (u"log_line", u"x" * PIPE_BUF, u"log_line"),
    "str value long once escaped": (u"accented", u"\u00e9" * (PIPE_BUF // 6 + 1), u"accented"),
    "big nested value": (u"histogram", {u"bins": [[float(i)] * 10 for i in range(100)]}, u"histogram"),
}


def test_str_and_nested_values_are_split_between_pairs_never_inside(impl, in_process_fifo):
    """A mapping of str and nested values too long for one line is split as numbers are:
    each line a whole JSON object of at most PIPE_BUF bytes, each pair whole, in order."""
    pairs = [(u"text.%03d" % i, u"\u00e9 value %d" % i * 5) for i in range(60)]
    pairs += [(u"nested.%03d" % i, {u"list": [i, None, True, u"x" * i]}) for i in range(60)]
    in_process_fifo.emit(OrderedDict(pairs))
    lines = in_process_fifo.read().splitlines()
    assert len(lines) > 2
    # As parse_lines reads them: objects as lists of pairs, nested ones too.
    expected = [json.loads(json.dumps({name: value}), object_pairs_hook=list)[0] for name, value in pairs]
    assert [pair for line in parse_lines(lines) for pair in line] == expected


@pytest.mark.parametrize("case", sorted(TOO_LONG))
def test_pair_too_long_for_a_line_is_a_value_error_and_nothing_is_written(impl, in_process_fifo, case):
    """One pair that alone passes PIPE_BUF: ValueError naming the metric, and nothing written,
    not even the lines of the pairs before it."""
    name, value, shown = TOO_LONG[case]
    pairs = [(u"fine.%03d" % i, i) for i in range(400)] + [(name, value), (u"fine.after", 1)]
    for mapping_type in MAPPING_TYPES:
        with pytest.raises(ValueError) as caught:
            in_process_fifo.emit(mapping_type(pairs))
        assert shown in u"%s" % caught.value
        assert in_process_fifo.read() == b""
    in_process_fifo.emit({u"after": 1})  # the FIFO is still fine
    assert in_process_fifo.lines() == [{u"after": 1}]


def test_a_reader_process_gets_str_nested_and_extractor_style_values(impl, fifo_path, start_reader):
    """Drop-in for 0.1, through a reader process: the metrics-extractor sidecar's
    emit({metric_name: "20.34"}) (refused before, which killed the sidecar at its first
    match), the horovod sample's str values, and a nested value with lists, tuples, bools,
    None and non-str names arrive exactly as 0.1's json.dumps wrote them, compact."""
    reader = start_reader(fifo_path)
    code = r'''
        metric_name = "accuracy"
        benchmarkai.emit({metric_name: "20.34"})
        benchmarkai.emit(OrderedDict([("batch", str(0)), ("train_loss", "%.6f" % 0.25),
                                      ("note", u"caf\u00e9 \"quoted\"/\n\x7f\U0001F600")]))
        benchmarkai.emit(OrderedDict([("nested", OrderedDict([("a", [1, 2.5, None, True]),
                                                              ("b", {"c": (False, "x", [])})])),
                                      (3, None), ("", {})]))
    '''
    run_child(impl, code, **fifo_env(fifo_path))
    expected = [
        {u"accuracy": u"20.34"},
        OrderedDict([(u"batch", u"0"), (u"train_loss", u"0.250000"),
                     (u"note", u"caf\u00e9 \"quoted\"/\n\x7f\U0001F600")]),
        OrderedDict([(u"nested", OrderedDict([(u"a", [1, 2.5, None, True]), (u"b", {u"c": (False, u"x", [])})])),
                     (3, None), (u"", {})]),
    ]
    assert reader.finish() == [json.dumps(metrics, separators=(",", ":")).encode("ascii") for metrics in expected]

def test_a_reader_process_gets_only_the_good_lines_whole(impl, fifo_path, start_reader):
    """Through a reader process: every bad input (a bad last value, an oversized pair after
    good ones, a non-mapping, an empty mapping, a bad name, a bad nested value, a container
    holding itself, two names of the same text) raises and writes no byte; a line
    of exactly PIPE_BUF bytes arrives as one line; a longer mapping arrives split, in order."""
    reader = start_reader(fifo_path)
    code = '''
        PIPE_BUF = %d
        cycle = []
        cycle.append(cycle)
        bad = [
            OrderedDict([("ok", 1.0), ("bad", set([1]))]),
            OrderedDict([("k%%d" %% i, i) for i in range(400)] + [("n" * PIPE_BUF, 1)]),
            [("a", 1)], {}, {(1, 2): 1.0}, {"b": [1, {"c": bytearray(b"x")}]}, {"c": [cycle]},
            OrderedDict([(1, 1.0), ("1", 2.0)]),
        ]
        errors = []
        for number, metrics in enumerate(bad):
            try:
                benchmarkai.emit(metrics)
            except (TypeError, ValueError) as error:
                errors.append(type(error).__name__)
            benchmarkai.emit({"good.%%d" %% number: number})
        benchmarkai.emit({"x" * (PIPE_BUF - 7): 1})  # '{"' + name + '":1}' + newline: PIPE_BUF bytes
        benchmarkai.emit(OrderedDict(("split.%%04d" %% i, i + 0.5) for i in range(600)))
        report(errors=errors)
    ''' % PIPE_BUF
    result = run_child(impl, code, **fifo_env(fifo_path))
    assert result["errors"] == ["TypeError", "ValueError", "TypeError", "ValueError", "TypeError",
                                "TypeError", "ValueError", "ValueError"]
    lines = reader.finish()
    parsed = parse_lines(lines)  # each whole, one JSON object, at most PIPE_BUF bytes
    assert parsed[:8] == [[("good.%d" % number, number)] for number in range(8)]
    assert len(lines[8]) + 1 == PIPE_BUF and parsed[8] == [("x" * (PIPE_BUF - 7), 1)]
    assert len(parsed) > 10  # 600 pairs of about 17 bytes do not fit in one line
    assert [pair for line in parsed[9:] for pair in line] == [("split.%04d" % i, i + 0.5) for i in range(600)]


def test_threads_share_the_fifo_without_interleaving_or_loss(impl, fifo_path, start_reader, new_writer):
    """Threads of one process on one emitter, all starting before the reader opens: the first
    open happens once, and every thread's pairs arrive whole, once, in order."""
    threads_count, count, every = 6, 60, 6
    reader = start_reader(fifo_path, "--open-after", 0.3)
    writer = new_writer(fifo_path, max_wait=10)
    go = threading.Event()
    errors = []

    def write(number):
        go.wait(10)
        try:
            for metrics in workload("w%d" % number, count, big_every(every)):
                writer.emit(metrics)
        except Exception as error:
            errors.append(error)

    threads = [daemon(write, number) for number in range(threads_count)]
    go.set()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(fds_on(fifo_path)) == 1, "the FIFO was opened more than once"
    writer.close()
    assert_writers_intact(reader.finish(), dict(
        ("w%d" % number, workload("w%d" % number, count, big_every(every))) for number in range(threads_count)))


def test_processes_share_the_fifo_without_interleaving_or_loss(impl, fifo_path, start_reader):
    """Several processes emitting at once (waiting together for a late reader): lines never
    interleave, none is lost, each process's arrive in order."""
    processes, count, every = 4, 120, 8
    reader = start_reader(fifo_path, "--open-after", 0.3)
    code = '''
        for metrics in workload("w" + os.environ["TEST_WRITER"], %d, big_every(%d)):
            benchmarkai.emit(metrics)
    ''' % (count, every)
    # A write end of the test's own, as a sidecar holds: a child that finishes before a slow
    # one (on a loaded machine) has even opened must not end the reader with an EOF.
    keeper = Background(os.open, fifo_path, os.O_WRONLY)  # opens with the reader
    children = [Background(run_child, impl, code, TEST_WRITER=str(number), **fifo_env(fifo_path, max_wait=10))
                for number in range(processes)]
    for child in children:
        child.result()
    os.close(keeper.result())
    assert_writers_intact(reader.finish(), dict(
        ("w%d" % number, workload("w%d" % number, count, big_every(every))) for number in range(processes)))


# --- The reader goes away (EPIPE) ---

@pytest.mark.parametrize("before_bytes", [
    256 << 10,  # what the writer emits before the first reader leaves fits in the pipe
    1536 << 10,  # it overfills the pipe: the writer is blocked when the reader leaves
])
def test_new_reader_gets_every_line_the_first_one_left(impl, tmp_path, start_reader, before_bytes):
    """The first reader exits after one read (--exit-after 1) with lines still in the pipe; the
    writer meets EPIPE, waits for a new reader and writes that line again: across the two
    readers every line arrives exactly once, in order (the old pipe stays open until the new
    descriptor is in place, so what it held reaches the new reader)."""
    path = str(tmp_path / "metrics.fifo")
    go = str(tmp_path / "go")
    size = PIPE_BUF // 4
    before, after = before_bytes // size, 100
    os.mkfifo(path)
    # The reader reads 64 KiB at a time: with lines of a size that divides it, its first read
    # ends on a line's end and it exits, leaving the rest in the pipe.
    first = start_reader(path, "--stall", 0.5, "--exit-after", 1)
    child = Background(run_child, impl, '''
        for metrics in fixed_lines("w0", %d, %d):
            benchmarkai.emit(metrics)
        deadline = time.time() + 20
        while not os.path.exists(os.environ["TEST_GO"]):  # until the first reader is gone
            assert time.time() < deadline
            time.sleep(0.01)
        for metrics in workload("w0", %d, big_every(10)):  # EPIPE at the first emit, if not met already
            benchmarkai.emit(metrics)
    ''' % (before, size, after), TEST_GO=go, **fifo_env(path, max_wait=10))
    first_lines = first.finish()
    open(go, "w").close()
    second = start_reader(path, "--open-after", 0.2)
    child.result()
    second_lines = second.finish()
    assert 0 < len(first_lines) < before
    assert b".f" in second_lines[0], "the lines the pipe held were lost"
    assert_writers_intact(first_lines + second_lines,
                          {"w0": fixed_lines("w0", before, size) + workload("w0", after, big_every(10))})


def test_reader_gone_for_good_raises_within_the_max_wait(impl, fifo_path, new_writer):
    """EPIPE and no new reader: FifoNotCreatedInTimeError after about the max wait, saying no
    reader came; a later emit still finds a reader that came meanwhile."""
    read_fd = os.open(fifo_path, os.O_RDONLY | os.O_NONBLOCK)
    writer = new_writer(fifo_path, max_wait=0.5)
    try:
        writer.emit({"before": 1})
        assert os.read(read_fd, 4096) == b'{"before":1}\n'
    finally:
        os.close(read_fd)
    started = time.time()
    with pytest.raises(FifoNotCreatedInTimeError) as caught:
        within(10, writer.emit, {"lost": 1})  # a blocking open() would never return
    assert 0.45 <= time.time() - started < 2.5
    assert not NOT_CREATED.search(str(caught.value)) and "read" in str(caught.value).lower(), caught.value
    read_fd = os.open(fifo_path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        writer.emit({"after": 1})
        assert os.read(read_fd, 4096).splitlines()[-1] == b'{"after":1}'
    finally:
        os.close(read_fd)


# --- The descriptor: fork, close-on-exec, pipe size ---

def test_forked_child_keeps_writing_through_the_inherited_descriptor(impl, fifo_path, start_reader):
    """After os.fork() both processes write on; the FIFO's path is removed before the fork, so
    only the inherited descriptor can reach the reader. It gets every line of both."""
    reader = start_reader(fifo_path)
    code = '''
        benchmarkai.emit({"opened": 1})
        os.unlink(PATH)  # from now on, only the descriptor opened above reaches the reader
        pid = os.fork()
        try:
            for metrics in workload("w2" if pid == 0 else "w1", 80, big_every(10)):
                benchmarkai.emit(metrics)
        except BaseException:
            if pid == 0:
                import traceback
                traceback.print_exc()
                os._exit(1)
            raise
        if pid == 0:
            os._exit(0)
        report(child_status=os.waitpid(pid, 0)[1])
    '''
    result = run_child(impl, code, **fifo_env(fifo_path))
    assert result["child_status"] == 0
    assert_writers_intact(reader.finish(), {
        "opened": [{"opened": 1}], "w1": workload("w1", 80, big_every(10)),
        "w2": workload("w2", 80, big_every(10))})


def test_fork_while_another_thread_waits_for_the_reader(impl, fifo_path, start_reader):
    """A fork while another thread is inside the first open (holding the FIFO's lock, waiting
    for a reader) must not leave the forked child a lock nobody will release: both the
    thread and the forked child get their line through once the reader comes."""
    # The forked child may write and exit before the thread opens: only a reader that holds
    # a write end of its own (as a sidecar does) sees no EOF in between.
    reader = start_reader(fifo_path, "--open-after", 1.0, "--keep-open", "--exit-after", 2)
    code = '''
        import threading
        waiting = threading.Thread(target=benchmarkai.emit, args=({"thread": 1},))
        waiting.start()
        time.sleep(0.3)  # the thread now waits for a reader inside the first open
        pid = os.fork()
        if pid == 0:
            try:
                benchmarkai.emit({"forked": 1})
            finally:
                os._exit(0)
        waiting.join()
        report(child_status=os.waitpid(pid, 0)[1])
    '''
    result = run_child(impl, code, timeout=15, **fifo_env(fifo_path, max_wait=5))
    assert result["child_status"] == 0
    assert_writers_intact(reader.finish(), {"thread": [{"thread": 1}], "forked": [{"forked": 1}]})


def test_descriptor_is_close_on_exec_also_after_a_new_reader(impl, fifo_path, start_reader, new_writer):
    """The write descriptor has FD_CLOEXEC, an exec'd child (close_fds=False) does not have it,
    and both still hold once a new reader replaced the first (after EPIPE)."""
    first = start_reader(fifo_path, "--exit-after", 1)
    writer = new_writer(fifo_path)
    writer.emit({"first": 1})
    assert_close_on_exec(fifo_path)
    assert parse_lines(first.finish()) == [[("first", 1)]]
    second = start_reader(fifo_path, "--open-after", 0.2)
    writer.emit({"second": 1})  # EPIPE, then the new reader
    assert_close_on_exec(fifo_path)
    writer.close()
    assert parse_lines(second.finish()) == [[("second", 1)]]


@pytest.mark.skipif(not LINUX, reason="the pipe size is asked for on Linux only")
def test_pipe_is_given_one_mebibyte_on_linux(impl, in_process_fifo):
    """On Linux the pipe is asked for 1 MiB of buffer (best effort: skipped if not allowed)."""
    with open("/proc/sys/fs/pipe-max-size") as limit:
        if int(limit.read()) < 1 << 20 and os.geteuid() != 0:
            pytest.skip("pipe-max-size is below 1 MiB here")
    in_process_fifo.emit({"loss": 0.5})
    assert fcntl.fcntl(in_process_fifo.read_fd, F_GETPIPE_SZ) == 1 << 20


# --- A full pipe: emit waits, the process runs on, signals do no harm ---

def test_full_pipe_makes_emit_wait_and_nothing_is_lost(impl, fifo_path, start_reader):
    """A reader stalled while more than the pipe holds is written: emit waits for room (it
    neither fails nor drops), then completes; the reader gets everything."""
    reader = start_reader(fifo_path, "--stall", 0.8)
    code = '''
        benchmarkai.emit({"opened": 1})  # back once the reader has the FIFO open: its stall begins
        started = time.time()
        for metrics in workload("w0", 200, big_every(1)):  # 1.4 MB
            benchmarkai.emit(metrics)
        report(seconds=time.time() - started)
    '''
    result = run_child(impl, code, **fifo_env(fifo_path))
    assert result["seconds"] >= 0.4, "emit did not wait for the stalled reader"
    assert_writers_intact(reader.finish(), {"opened": [{"opened": 1}], "w0": workload("w0", 200, big_every(1))})


def test_blocked_write_does_not_stall_other_threads(impl, tmp_path):
    """While a thread's emit is blocked in write(2) on a full pipe, the process's other threads
    run (the GIL is released). Were it held, the main thread could not wake up to drain the
    pipe, and the child would be killed at its timeout."""
    path = str(tmp_path / "metrics.fifo")
    output = str(tmp_path / "received")
    os.mkfifo(path)
    code = '''
        import errno
        read_fd = os.open(PATH, os.O_RDONLY | os.O_NONBLOCK)
        benchmarkai.emit({"opened": 1})
        writer, progress = blocked_writer(workload("w0", 200, big_every(1)))  # 1.4 MB: more than the pipe holds
        blocked_at, blocked = progress(), writer.is_alive()
        spins = sum(1 for _ in range(100000))  # pure-Python work meanwhile
        chunks = []
        while True:  # drain the pipe until the writer is done and nothing is left
            done = not writer.is_alive()
            try:
                chunks.append(os.read(read_fd, 1 << 16))
            except OSError as error:
                if error.errno != errno.EAGAIN:
                    raise
                if done:
                    break
                time.sleep(0.002)
        writer.join(10)
        with open(os.environ["TEST_OUTPUT"], "wb") as out:
            out.write(b"".join(chunks))
        report(blocked_at=blocked_at, blocked=blocked, spins=spins, finished=not writer.is_alive())
    '''
    result = run_child(impl, code, timeout=20, TEST_OUTPUT=output, **fifo_env(path))
    assert result["blocked"] and result["blocked_at"] < 200, result
    assert result["spins"] == 100000 and result["finished"], result
    with open(output, "rb") as received:
        lines = received.read().split(b"\n")
    assert lines.pop() == b""
    assert_writers_intact(lines, {"opened": [{"opened": 1}], "w0": workload("w0", 200, big_every(1))})


def test_signals_interrupting_a_blocked_write_lose_and_duplicate_nothing(impl, fifo_path, start_reader):
    """SIGALRM every 10 ms (setitimer) while emit is blocked on a full pipe: EINTR is retried,
    each line arrives exactly once, whole."""
    reader = start_reader(fifo_path, "--stall", 0.8)
    code = '''
        import signal
        hits = [0]

        def on_alarm(signum, frame):
            hits[0] += 1

        signal.signal(signal.SIGALRM, on_alarm)
        benchmarkai.emit({"opened": 1})  # back once the reader has the FIFO open: its stall begins
        started = time.time()
        signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
        for metrics in workload("w0", 200, big_every(1)):  # 1.4 MB: emit blocks until the stall ends
            benchmarkai.emit(metrics)
        signal.setitimer(signal.ITIMER_REAL, 0)
        report(hits=hits[0], seconds=time.time() - started)
    '''
    result = run_child(impl, code, **fifo_env(fifo_path))
    assert result["seconds"] >= 0.4 and result["hits"] >= 10, result  # signals came while blocked
    assert_writers_intact(reader.finish(), {"opened": [{"opened": 1}], "w0": workload("w0", 200, big_every(1))})


def test_fifo_mode_writes_nothing_to_stdout(impl, fifo_path, start_reader):
    """In fifo mode (BENCHMARK_AI matched in any case) the lines go to the FIFO, none to stdout."""
    reader = start_reader(fifo_path)
    code = '''
        for metrics in workload("w0", 20, big_every(5)):
            benchmarkai.emit(metrics)
        sys.stdout.flush()
    '''
    run_child(impl, code, **fifo_env(fifo_path, mode="FiFo"))  # checks that stdout stayed empty
    assert_writers_intact(reader.finish(), {"w0": workload("w0", 20, big_every(5))})


# --- Re-entrant: an emit from a signal handler while the interrupted emit waits ---

# Child code: fds_on, and a SIGALRM handler that emits HANDLER_METRICS through the public emit
# and keeps what came of it (error, seconds) in ``handled``. It first creates the file
# TEST_MARK names: a reader started with --after-file waits for it, so the interrupted emit
# is still waiting when the handler runs, however slowly the machine starts processes.
SIGNAL_PRELUDE = inspect.getsource(fds_on) + '''
import signal
handled = []
HANDLER_METRICS = {"handler": 1}


def on_alarm(signum, frame):
    if os.environ.get("TEST_MARK"):
        open(os.environ["TEST_MARK"], "w").close()
    handled.append(timed_emit(HANDLER_METRICS))


signal.signal(signal.SIGALRM, on_alarm)
'''


def run_signal_child(impl, code, **variables):
    """run_child with SIGNAL_PRELUDE; a deadlock fails it when the child is killed."""
    return run_child(impl, SIGNAL_PRELUDE + textwrap.dedent(code), timeout=20, **variables)


@pytest.mark.parametrize("late", ["created", "opened"])
def test_emit_from_a_signal_handler_during_the_first_open(impl, tmp_path, start_reader, late):
    """Bug: the handler's emit blocked on the FIFO lock that the interrupted first open held
    (waiting for a late FIFO or reader), and the process hung. Now the handler's emit waits
    for the reader itself, the interrupted open takes its descriptor (one, not two), and both
    lines arrive: the handler's first, within the max wait."""
    path = str(tmp_path / "metrics.fifo")
    if late == "opened":
        os.mkfifo(path)
    mark = str(tmp_path / "handler-ran")
    reader = start_reader(path, "--after-file", mark,
                          "--create-after" if late == "created" else "--open-after", 0.3)
    result = run_signal_child(impl, '''
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        main = timed_emit({"main": 1})
        report(main=main, handled=handled, fds=len(fds_on(PATH)))
    ''', TEST_MARK=mark, **fifo_env(path, max_wait=8, step=0.05))
    assert result["main"]["error"] is None and len(result["handled"]) == 1, result
    assert result["handled"][0]["error"] is None, result
    assert result["handled"][0]["seconds"] >= 0.2, result  # the handler ran while no reader was there
    assert result["main"]["seconds"] < 8, result
    assert result["fds"] == 1, "two descriptors on the FIFO: %s" % result
    assert parse_lines(reader.finish()) == [[("handler", 1)], [("main", 1)]]


def test_emit_from_a_signal_handler_while_waiting_for_a_new_reader(impl, tmp_path, start_reader):
    """Bug: after EPIPE the interrupted emit held the FIFO lock while waiting for a new reader,
    and the handler's emit (EPIPE too) blocked on it forever. Now the handler's emit recovers,
    the interrupted one sees that it did (and does not switch pipes again), and the new reader
    gets both lines."""
    path = str(tmp_path / "metrics.fifo")
    go = str(tmp_path / "go")
    os.mkfifo(path)
    first = start_reader(path, "--exit-after", 1)
    child = Background(run_signal_child, impl, '''
        benchmarkai.emit({"first": 1})
        deadline = time.time() + 15
        while not os.path.exists(os.environ["TEST_GO"]):  # until the first reader is gone
            assert time.time() < deadline
            time.sleep(0.01)
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        main = timed_emit({"main": 1})  # EPIPE, then a wait for the second reader
        report(main=main, handled=handled, fds=len(fds_on(PATH)))
    ''', TEST_GO=go, TEST_MARK=str(tmp_path / "handler-ran"), **fifo_env(path, max_wait=8, step=0.05))
    assert parse_lines(first.finish()) == [[("first", 1)]]
    second = start_reader(path, "--after-file", str(tmp_path / "handler-ran"), "--open-after", 0.3)
    open(go, "w").close()
    result = child.result()
    assert result["main"]["error"] is None and len(result["handled"]) == 1, result
    assert result["handled"][0]["error"] is None and result["handled"][0]["seconds"] >= 0.2, result
    assert result["fds"] == 1, result
    assert parse_lines(second.finish()) == [[("handler", 1)], [("main", 1)]]


def test_emit_from_a_signal_handler_while_waiting_for_room(impl, fifo_path, start_reader):
    """An emit from a signal handler while the interrupted emit waits for room in a full pipe
    (a stalled reader): it waits for room too, and every line of both arrives whole, once.
    The timer ticks until a tick finds emit waiting for room (the interrupted frame); the
    handler's line is PIPE_BUF bytes, so it cannot slip into room too small for that line."""
    handler_metrics = {"handler." + "x" * (PIPE_BUF - 15): 1}
    reader = start_reader(fifo_path, "--stall", 2.0)
    result = run_signal_child(impl, '''
        HANDLER_METRICS = {"handler." + "x" * (%d - 15): 1}

        def on_alarm_while_waiting(signum, frame):
            if frame.f_code.co_name == "wait_for_room" and not handled:
                signal.setitimer(signal.ITIMER_REAL, 0)
                on_alarm(signum, frame)

        signal.signal(signal.SIGALRM, on_alarm_while_waiting)
        benchmarkai.emit({"opened": 1})  # back once the reader has the FIFO open: its stall begins
        signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        for metrics in workload("w0", 200, big_every(1)):  # 1.4 MB: more than the pipe holds
            benchmarkai.emit(metrics)
        signal.setitimer(signal.ITIMER_REAL, 0)
        report(handled=handled)
    ''' % PIPE_BUF, **fifo_env(fifo_path))
    assert len(result["handled"]) == 1 and result["handled"][0]["error"] is None, result
    assert_writers_intact(reader.finish(), {
        "opened": [{"opened": 1}], "w0": workload("w0", 200, big_every(1)), "handler": [handler_metrics]})


def test_emit_from_a_signal_handler_while_another_thread_opens(impl, fifo_path, start_reader):
    """The lock still keeps threads apart: a thread waits for the reader inside the first
    open, the main thread's emit waits for the lock, and a signal handler's emit interrupts
    that wait. All three lines arrive, through one descriptor."""
    mark = fifo_path + ".handler-ran"
    if six.PY2:
        # Python 2's lock.acquire() cannot be interrupted: the handler runs only once main has
        # the lock, after the reader came, so the reader cannot wait for the handler's mark.
        reader = start_reader(fifo_path, "--open-after", 1.0)
    else:
        reader = start_reader(fifo_path, "--after-file", mark, "--open-after", 0.3)
    result = run_signal_child(impl, '''
        import threading
        thread = threading.Thread(target=benchmarkai.emit, args=({"thread": 1},))
        thread.start()
        time.sleep(0.2)  # the thread now waits for the reader, holding the lock
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        main = timed_emit({"main": 1})
        thread.join()
        report(main=main, handled=handled, fds=len(fds_on(PATH)))
    ''', TEST_MARK=mark, **fifo_env(fifo_path, max_wait=8, step=0.05))
    assert result["main"]["error"] is None and len(result["handled"]) == 1, result
    assert result["handled"][0]["error"] is None and result["fds"] == 1, result
    assert_writers_intact(reader.finish(), {
        "thread": [{"thread": 1}], "main": [{"main": 1}], "handler": [{"handler": 1}]})


@pytest.mark.parametrize("step", ["open", "recover"])
def test_signal_handler_emit_between_open_and_keeping_the_descriptor(impl, tmp_path, step):
    """A signal sent by the process to itself right after the FIFO was opened (the first open,
    or a recovery's open after EPIPE), before the interrupted call has kept the descriptor:
    the handler's emit, seeing no descriptor yet (or still the dead pipe), opens one too.
    Bugs: two descriptors left on the FIFO (one leaked), a line lost, a recovery made twice.
    The recovery is from a reader that made a new FIFO at the path, as a restarted sidecar
    does (a new reader of the same FIFO would revive the old descriptor's pipe)."""
    code = '''
        from benchmarkai import _fifo
        from benchmarkai._config import FifoSettings

        read_fds = [os.open(PATH, os.O_RDONLY | os.O_NONBLOCK)]
        armed = []
        real_open_for_writing = _fifo._open_for_writing

        def open_then_signal(path):
            if armed and not read_fds:  # the new reader, on a FIFO of its own
                os.mkfifo(PATH)
                read_fds.append(os.open(PATH, os.O_RDONLY | os.O_NONBLOCK))
            fd = real_open_for_writing(path)
            if armed:
                armed.pop()
                os.kill(os.getpid(), signal.SIGALRM)  # the handler runs before this returns
            return fd

        _fifo._open_for_writing = open_then_signal
        fifo = _fifo.Fifo(FifoSettings(PATH, 5.0, 0.01))
        emit = type(benchmarkai.emit.__self__)(fifo).emit  # this implementation's Emitter

        def on_alarm(signum, frame):
            handled.append(emit({"handler": 1}))

        signal.signal(signal.SIGALRM, on_alarm)
        if os.environ["TEST_STEP"] == "recover":
            emit({"before": 1})
            os.close(read_fds.pop())  # the next write meets EPIPE
            os.unlink(PATH)
        armed.append(True)
        emit({"main": 1})
        report(handled=len(handled), generation=fifo.generation, fds=len(fds_on(PATH)),
               data=os.read(read_fds[0], 4096).decode("ascii"))
    '''
    path = str(tmp_path / "metrics.fifo")
    os.mkfifo(path)
    result = run_signal_child(impl, code, TEST_STEP=step, **fifo_env(path))
    recovered = step == "recover"
    assert result["handled"] == 1 and result["fds"] == 2, result  # the reader's, and one to write
    assert result["generation"] == int(recovered), result
    assert result["data"] == '{"handler":1}\n{"main":1}\n'


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts this process's descriptors in /proc")
def test_a_fifo_replaced_as_it_is_opened_is_refused_and_its_descriptor_closed(impl, tmp_path, monkeypatch):
    """The path is checked before it is opened, and what was opened after: a FIFO replaced by a
    regular file in between (here os.stat sees a FIFO where the file stands) is refused, and
    the descriptor closed. Catches that descriptor left open: one more for every emit that
    fails so, until the process runs out."""
    path = str(tmp_path / "swapped")
    with open(path, "w"):
        pass
    real_stat = os.stat

    def stat_as_fifo(name, *args, **kwargs):
        found = real_stat(name, *args, **kwargs)
        if name != path:
            return found
        return os.stat_result((stat.S_IFIFO | 0o600,) + tuple(found)[1:])
    monkeypatch.setattr(os, "stat", stat_as_fifo)
    emit = impl.emitter(Fifo(FifoSettings(path, max_wait=1.0, step=0.01))).emit
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(OSError) as caught:
            emit({u"loss": 0.5})
        assert "names a regular file, not a named pipe" in str(caught.value)
    assert len(os.listdir("/proc/self/fd")) == before
    assert os.path.getsize(path) == 0
