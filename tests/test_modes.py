"""BENCHMARK_AI, read once at import: stdout (the default) and fifo, and the public API."""
import io
import json
import os
import subprocess
import sys
import time

import pytest

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
    assert set(benchmarkai.__all__) == {"emit", "FifoNotCreatedInTimeError", "implementation", "__version__"}
    assert issubclass(benchmarkai.FifoNotCreatedInTimeError, Exception)
    assert benchmarkai.emit({u"api": 1}) is None


def test_the_extension_serves_unless_the_fallback_is_requested():
    expected = "python" if _config.pure_python_requested() else "cython"
    assert benchmarkai.implementation == expected


@pytest.mark.parametrize("value,expected", [("1", "python"), ("0", "cython"), ("", "cython")])
def test_benchmark_ai_pure_python_forces_the_fallback(value, expected):
    if expected == "cython" and _config.pure_python_requested():
        pytest.skip("a pure-Python install has no extension to choose")
    environ = dict(os.environ, BENCHMARK_AI_PURE_PYTHON=value)
    out = subprocess.check_output(
        [sys.executable, "-c", "import benchmarkai; print(benchmarkai.implementation)"], env=environ)
    assert out.decode().strip() == expected


# A stand-in ujson of the given version whose dumps() writes what json reads back exactly, so
# that only the version can make the fallback refuse it.
_UJSON_OF_VERSION = """
import json, sys, types
ujson = types.ModuleType("ujson")
ujson.__version__ = sys.argv[1]
ujson.dumps = lambda value: json.dumps(value, separators=(",", ":")).replace("/", "\\/")
sys.modules["ujson"] = ujson
from benchmarkai import _fallback
print("ujson" if _fallback._text is not _fallback._json_text else "json")
"""


@pytest.mark.parametrize("version,used", [("5.8.0", "json"), ("5.9.0", "ujson"), ("5.10.0", "ujson"),
                                          ("6.0", "ujson"), ("2.0.3", "json"), ("", "json")])
def test_the_fallback_uses_ujson_only_from_version_5_9(version, used):
    # Older ujson leaks a memory block for every int past 64 bits it writes.
    out = subprocess.check_output([sys.executable, "-c", _UJSON_OF_VERSION, version])
    assert out.decode().strip() == used


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
