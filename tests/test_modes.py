"""BENCHMARK_AI, read once at import: stdout (the default) and fifo, and the public API."""
import io
import json
import os
import subprocess
import sys
import time

import pytest
from support.children import run
from support.implementations import PYPY

import benchmarkai
from benchmarkai import _config


def test_the_default_mode_prints_one_json_line_to_stdout(impl):
    code, out, err = impl.python("benchmarkai.emit({'loss': 0.25})\nbenchmarkai.emit({'step': 3})")
    assert (code, out, err) == (0, '{"loss":0.25}\n{"step":3}\n', "")


@pytest.mark.parametrize("mode", ["stdout", "STDOUT", "StdOut"])
def test_stdout_mode_is_matched_case_insensitively(impl, mode):
    code, out, err = impl.python("benchmarkai.emit({'x': 1})", BENCHMARK_AI=mode)
    assert (code, out, err) == (0, '{"x":1}\n', "")


@pytest.mark.parametrize("mode", ["fifo", "FIFO", "Fifo"])
def test_fifo_mode_is_matched_case_insensitively(impl, tmp_path, mode):
    # With no FIFO at the path, fifo mode shows itself by waiting, then raising.
    code, out, err = impl.python(
        "try:\n"
        "    benchmarkai.emit({'x': 1})\n"
        "except benchmarkai.FifoNotCreatedInTimeError as error:\n"
        "    print('not created' if 'was not created' in str(error) else 'other')\n",
        BENCHMARK_AI=mode, BENCHMARK_AI_FIFO_FILEPATH=str(tmp_path / "none"),
        BENCHMARK_AI_FIFO_MAX_WAIT_TIME="0.1", BENCHMARK_AI_FIFO_WAIT_TIME_STEP="0.05")
    assert (code, out) == (0, "not created\n"), err


@pytest.mark.parametrize("mode", ["", "kafka", "stdout ", "file"])
def test_an_unknown_mode_fails_the_import_naming_it(impl, mode):
    code, out, err = impl.python("", BENCHMARK_AI=mode)
    assert code != 0 and out == ""
    last_line = err.strip().splitlines()[-1]
    assert last_line.startswith("ValueError: BENCHMARK_AI=%r" % mode)
    assert "stdout, fifo" in last_line


def test_stdout_mode_follows_sys_stdout_at_call_time(impl, capsys):
    emit = impl.emitter().emit
    saved = sys.stdout
    sys.stdout = io.StringIO() if sys.version_info >= (3,) else io.BytesIO()
    try:
        emit({u"a": 1})
        redirected = sys.stdout.getvalue()
    finally:
        sys.stdout = saved
    emit({u"b": 2})
    assert redirected in (u'{"a":1}\n', b'{"a":1}\n')
    assert capsys.readouterr().out == '{"b":2}\n'


@pytest.mark.skipif(sys.version_info < (3, 4), reason="contextlib.redirect_stdout is Python 3.4+")
def test_stdout_mode_works_under_redirect_stdout(impl):
    import contextlib
    target = io.StringIO()
    with contextlib.redirect_stdout(target):
        impl.emitter().emit({u"a": 1.5})
    assert target.getvalue() == '{"a":1.5}\n'


class _Stdout(object):
    """A stand-in sys.stdout that records each write() and flush(), or raises ``error`` from
    the call named ``failing``."""

    def __init__(self, failing=None, error=None):
        self.calls = []
        self._failing = failing
        self._error = error

    def write(self, text):
        self.calls.append(("write", text))
        if self._failing == "write":
            raise self._error

    def flush(self):
        self.calls.append(("flush",))
        if self._failing == "flush":
            raise self._error


def _emit_to(stdout, emit, metrics):
    saved = sys.stdout
    sys.stdout = stdout
    try:
        emit(metrics)
    finally:
        sys.stdout = saved


def test_no_stdout_drops_the_line_as_print_does(impl, capsys):
    """Bug: with sys.stdout None (pythonw, some services) emit raised AttributeError; print()
    drops the line, and so must emit."""
    emit = impl.emitter().emit
    _emit_to(None, emit, {u"dropped": 1})
    emit({u"after": 2})
    assert capsys.readouterr().out == '{"after":2}\n'


def test_the_line_goes_to_stdout_in_one_write_then_a_flush(impl):
    """A stream that fails mid-line can never hold half of it: the whole line (its newline
    included) is one write() call, as print() would not do (it writes "\n" apart)."""
    stdout = _Stdout()
    _emit_to(stdout, impl.emitter().emit, {u"b": 0.5})
    assert [call[0] for call in stdout.calls] == ["write", "flush"]
    assert stdout.calls[0][1] in (u'{"b":0.5}\n', b'{"b":0.5}\n')


@pytest.mark.parametrize("failing", ["write", "flush"])
def test_a_failing_stdout_passes_its_own_error_on(impl, failing):
    """The stream's own exception, not one of ours (and not swallowed as for None)."""
    error = IOError(32, "Broken pipe")
    with pytest.raises(IOError) as caught:
        _emit_to(_Stdout(failing, error), impl.emitter().emit, {u"a": 1})
    assert caught.value is error


def test_a_closed_stdout_passes_its_error_on(impl):
    closed = io.StringIO() if sys.version_info >= (3,) else io.BytesIO()
    closed.close()
    with pytest.raises(ValueError) as caught:
        _emit_to(closed, impl.emitter().emit, {u"a": 1})
    assert "closed file" in str(caught.value)


def test_a_stdout_line_is_flushed_before_emit_returns(impl):
    # stdout is a pipe, so block-buffered: only a flush lets the line out while the child lives.
    # (Unless PYTHONUNBUFFERED is set, as it may be where the tests run: cleared for the child.)
    process = subprocess.Popen(
        [sys.executable, "-c", "import benchmarkai, sys, time\n"
         "benchmarkai.emit({'x': 1})\n"
         "time.sleep(30)\n"],
        env=impl.environ(PYTHONUNBUFFERED=""), stdout=subprocess.PIPE)
    try:
        started = time.time()
        line = process.stdout.readline()
        # The line came while the child still sleeps (not at its exit, 30 s on, flushed then).
        assert process.poll() is None and time.time() - started < 20
        assert line == b'{"x":1}\n'
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_fifo_mode_writes_nothing_to_stdout(impl, fifo_path):
    reader = subprocess.Popen([sys.executable, "-c", "import sys\n"
                               "sys.stdout.write(open(sys.argv[1]).read())", fifo_path],
                              stdout=subprocess.PIPE)
    code, out, err = impl.python("benchmarkai.emit({'x': 1})", BENCHMARK_AI="fifo",
                                 BENCHMARK_AI_FIFO_FILEPATH=fifo_path,
                                 BENCHMARK_AI_FIFO_MAX_WAIT_TIME="5")
    received = reader.communicate()[0]
    assert (code, out, err) == (0, "", "")
    assert received == b'{"x":1}\n'


def test_the_mode_is_read_once_at_import(impl):
    code, out, err = impl.python(
        "import os\n"
        "os.environ['BENCHMARK_AI'] = 'fifo'\n"
        "benchmarkai.emit({'still': 1})\n")
    assert (code, out, err) == (0, '{"still":1}\n', "")


def test_public_api():
    assert set(benchmarkai.__all__) == {"emit", "FifoNotCreatedInTimeError", "implementation", "__version__",
                                        "configured_emitter"}
    assert issubclass(benchmarkai.FifoNotCreatedInTimeError, Exception)
    assert benchmarkai.emit({u"api": 1}) is None


@pytest.mark.parametrize("mode,expected", [(None, "stdout"), ("stdout", "stdout"), ("FIFO", "fifo")])
def test_configured_emitter_names_the_mode_as_0_1_did(mode, expected):
    # 0.1 exposed it; code written for 0.1 that reads it failed with AttributeError.
    environ = dict(os.environ)
    environ.pop("BENCHMARK_AI", None)
    if mode:
        environ["BENCHMARK_AI"] = mode
    out = subprocess.check_output(
        [sys.executable, "-c", "import benchmarkai; print(benchmarkai.configured_emitter)"], env=environ)
    assert out.decode().strip() == expected


def test_the_extension_serves_unless_the_fallback_is_requested():
    """Catches a build that drops the extension, or one that builds it on PyPy."""
    expected = "python" if _config.pure_python_requested() or PYPY else "cython"
    assert benchmarkai.implementation == expected


def test_the_fallback_makes_its_text_as_suits_the_python_it_runs_on():
    """On PyPy the fallback's own one-pass text function (json's encoder is Python code
    there); elsewhere plain_metrics and json's C encoder, which are faster there. Catches the
    choice turned around: no byte changes, only the speed."""
    from benchmarkai import _fallback
    assert (_fallback._plain_and_text is _fallback._plain_and_json_text) is not PYPY


@pytest.mark.parametrize("value,expected", [("1", "python"), ("0", "cython"), ("", "cython")])
def test_benchmark_ai_pure_python_forces_the_fallback(value, expected):
    if expected == "cython" and _config.pure_python_requested():
        pytest.skip("a pure-Python install has no extension to choose")
    if expected == "cython" and PYPY:
        pytest.skip("PyPy: setup.py builds no extension there")
    environ = dict(os.environ, BENCHMARK_AI_PURE_PYTHON=value)
    out = subprocess.check_output(
        [sys.executable, "-c", "import benchmarkai; print(benchmarkai.implementation)"], env=environ)
    assert out.decode().strip() == expected


# A stand-in ujson that writes what json reads back the same, in other bytes ("1e-7"):
# the fallback must write json's bytes whether ujson is installed or not.
_OTHER_BYTES_UJSON = """
import json, sys, types
ujson = types.ModuleType("ujson")
ujson.__version__ = "5.10.0"
ujson.dumps = lambda value: json.dumps(value, separators=(",", ":")).replace("e-07", "e-7")
sys.modules["ujson"] = ujson
import benchmarkai
from collections import OrderedDict
benchmarkai.emit(OrderedDict([("small", 1e-07), ("del", u"\\x7f")]))
"""


def test_the_fallback_writes_json_s_bytes_with_ujson_installed():
    # ujson wrote 1e-7 for 1e-07 and a raw DEL: the text depended on whether it was installed.
    environ = dict(os.environ, BENCHMARK_AI_PURE_PYTHON="1")
    environ.pop("BENCHMARK_AI", None)
    out = subprocess.check_output([sys.executable, "-c", _OTHER_BYTES_UJSON], env=environ)
    assert out == b'{"small":1e-07,"del":"\\u007f"}\n'


def test_the_version_matches_the_installed_distribution():
    try:
        from importlib.metadata import version
    except ImportError:  # Python < 3.8
        import pkg_resources

        def version(name):
            return pkg_resources.get_distribution(name).version
    assert benchmarkai.__version__ == version("benchmarkai-client-lib")


def test_the_emitted_line_parses_in_the_reader_language(impl):
    # The infrastructure reads lines with Python's json; NaN and Infinity must load.
    code, out, err = impl.python("benchmarkai.emit({'nan': float('nan'), 'inf': float('inf')})")
    loaded = json.loads(out)
    assert loaded[u"nan"] != loaded[u"nan"] and loaded[u"inf"] == float("inf")


# Run before benchmarkai is imported: what a Python on Windows lacks, taken away.
_WITHOUT_POSIX = """
import os, select, sys
sys.modules["fcntl"] = None  # import fcntl: ImportError
if hasattr(select, "poll"):
    del select.poll
del os.mkfifo
"""


def test_import_and_stdout_mode_need_nothing_posix(impl):
    """Bug: _fifo imported fcntl at the top and __init__ imported _fifo, so import benchmarkai
    failed on Windows even in stdout mode, which 0.1 served there."""
    code, out, err = run([sys.executable, "-c", _WITHOUT_POSIX + impl.code("benchmarkai.emit({'x': 1})")],
                         env=impl.environ())
    assert (code, out, err) == (0, '{"x":1}\n', "")


def test_fifo_mode_without_named_pipes_fails_at_once_naming_the_fifo(impl, tmp_path):
    """Where named pipes do not exist (no os.mkfifo, fcntl), the import still works, and each
    emit in fifo mode raises at once an OSError naming the FIFO, instead of waiting the max
    wait for a FIFO that can never be there."""
    path = str(tmp_path / "metrics.fifo")
    child = impl.code("""
        import time
        for attempt in range(2):
            started = time.time()
            try:
                benchmarkai.emit({'x': 1})
            except OSError as error:
                print("%s %.2f %s" % (type(error).__name__, time.time() - started, error))
    """)
    code, out, err = run([sys.executable, "-c", _WITHOUT_POSIX + child], env=impl.environ(
        BENCHMARK_AI="fifo", BENCHMARK_AI_FIFO_FILEPATH=path, BENCHMARK_AI_FIFO_MAX_WAIT_TIME="5"))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2, out
    for line in lines:
        name, seconds, message = line.split(" ", 2)
        assert name in ("OSError", "IOError") and float(seconds) < 1, line
        # What is missing is named in its place (a mutant put the names after the message).
        assert path in message and "named pipes" in message and "(no os.mkfifo" in message, line
    assert not os.path.exists(path)
