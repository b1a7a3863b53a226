"""``benchmarkai run -- CMD``, the local sidecar, end to end through real processes.

Each test runs ``python -m benchmarkai run ... -- python -c CODE``, where CODE uses the
implementation of the ``impl`` fixture, and checks what the sidecar shows, writes and
returns, and that it removed what it created. The sidecar's TMPDIR is the test's own
directory, so a FIFO directory left behind is seen. Every sidecar is started in a session of
its own and killed, with its process group, if it outlives its timeout or the test.
"""
import json
import math
import os
import pty
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict

import pytest

from benchmarkai._summary import ASCII_BARS, BARS

TIMEOUT = 30  # seconds before a sidecar still running is killed
LIVE = "[benchmarkai +"  # how a live record line starts
TRAIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "train.py")
# For tests of what the sidecar does around CMD (signals, paths), where how CMD's lines are
# serialized does not matter: the compiled module and the fallback, not its json variant too.
COMPILED_AND_FALLBACK = pytest.mark.parametrize("impl", ["cython", "python"], indirect=True)


class Sidecar(object):
    """One ``benchmarkai run`` process, with CMD = a Python running ``code`` under ``impl``."""

    def __init__(self, impl, tmp_path, code, options=(), encoding="utf-8", **variables):
        self.tmp = str(tmp_path)
        variables.setdefault("PYTHONIOENCODING", encoding)
        self.environ = impl.environ(TMPDIR=self.tmp, **variables)
        self.args = ([sys.executable, "-m", "benchmarkai", "run"] + list(options)
                     + ["--", sys.executable, "-c", impl.code(code)])
        self.process = None
        self.timer = threading.Timer(TIMEOUT, self.kill)
        self.groups = []  # process groups and processes to kill at the end, whatever happens
        self.pids = []

    def start(self):
        with open(os.devnull) as nothing:
            self.process = subprocess.Popen(self.args, env=self.environ, stdin=nothing, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, preexec_fn=os.setsid)
        self.groups.append(self.process.pid)
        self.timer.start()
        return self

    def finish(self):
        """(returncode, stdout, stderr) once the sidecar has exited; stdout and stderr as text."""
        out, err = self.process.communicate()
        self.timer.cancel()
        return self.process.returncode, out.decode("utf-8"), err and err.decode("utf-8")

    def result(self):
        return self.start().finish()

    def kill(self):
        for kill, pid in [(os.killpg, group) for group in self.groups] + [(os.kill, pid) for pid in self.pids]:
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass  # gone already

    def leftovers(self):
        return [name for name in os.listdir(self.tmp) if name.startswith("benchmarkai-")]


@pytest.fixture
def sidecars():
    """Sidecar objects to kill at the end of the test, with what they started."""
    started = []
    yield started
    for sidecar in started:
        sidecar.timer.cancel()
        sidecar.kill()


def summary(err):
    """The summary table of ``err``: metric name -> [count, last, min, mean, max, sparkline]."""
    lines = err.splitlines()
    start = [i for i, line in enumerate(lines) if line.split()[:2] == ["metric", "count"]]
    assert len(start) == 1, err
    rows = OrderedDict()
    for line in lines[start[0] + 1:]:
        if not line.startswith("  "):
            break
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return rows


def live_lines(err):
    return [line for line in err.splitlines() if line.startswith(LIVE)]


def live_records(err):
    """(the texts of the records shown live, how many more were folded, the texts of the lines
    that fold them)."""
    shown, folded, folds = [], 0, []
    for line in live_lines(err):
        text = line.split("] ", 1)[1]
        match = re.match(r"\.\.\. (\d+) more lines?, the last: ", text)
        if match:
            folded += int(match.group(1))
            folds.append(text)
        else:
            shown.append(text)
    return shown, folded, folds


# CMD reports where its FIFO is, and what it is, as the first line of its stdout.
REPORT_FIFO = """
import json, os, stat, sys
path = os.environ["BENCHMARK_AI_FIFO_FILEPATH"]
sys.stdout.write(json.dumps({
    "mode": os.environ["BENCHMARK_AI"], "path": path, "is_fifo": stat.S_ISFIFO(os.stat(path).st_mode),
    "fifo_mode": stat.S_IMODE(os.stat(path).st_mode),
    "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)}) + "\\n")
sys.stdout.flush()
"""


def test_records_live_lines_summary_and_jsonl(impl, tmp_path, sidecars):
    rng = random.Random(3)
    losses = [round(rng.uniform(-5, 5), rng.randint(0, 6)) for _ in range(40)]
    code = REPORT_FIFO + """
from collections import OrderedDict
sys.stderr.write("CMD stderr\\n")
for step, loss in enumerate(%r, 1):
    benchmarkai.emit(OrderedDict([("step", step), ("loss", loss)]))
benchmarkai.emit(OrderedDict([("accuracy", 0.5), ("label", 1)]))
sys.stdout.write("CMD stdout\\n")
""" % (losses,)
    jsonl = str(tmp_path / "metrics.jsonl")
    # The sidecar's own BENCHMARK_AI (any valid value) is not CMD's.
    sidecar = Sidecar(impl, tmp_path, code, ["--jsonl", jsonl], BENCHMARK_AI="fifo",
                      BENCHMARK_AI_FIFO_FILEPATH=str(tmp_path / "elsewhere"))
    sidecars.append(sidecar)
    before = time.time()
    returncode, out, err = sidecar.result()
    after = time.time()
    assert returncode == 0, err

    # CMD ran in fifo mode on a private FIFO, and its stdout is all the sidecar's stdout.
    report_line, rest = out.split("\n", 1)
    report = json.loads(report_line)
    assert rest == "CMD stdout\n"
    assert report["mode"] == "fifo" and report["is_fifo"]
    assert os.path.dirname(report["path"]) != str(tmp_path)
    assert (report["fifo_mode"], report["dir_mode"]) == (0o600, 0o700)
    assert "CMD stderr\n" in err and "Traceback" not in err
    assert not os.path.exists(report["path"]) and sidecar.leftovers() == []
    assert not os.path.exists(str(tmp_path / "elsewhere"))

    emitted = [OrderedDict([("step", step), ("loss", loss)]) for step, loss in enumerate(losses, 1)]
    emitted.append(OrderedDict([("accuracy", 0.5), ("label", 1)]))
    # 41 records at once: the first 20 are shown, the rest folded into one line.
    shown, folded, folds = live_records(err)
    assert len(shown) == 20 and folded == len(emitted) - 20
    assert shown[1] == "step=2 loss=%.6g" % losses[1]
    assert folds[-1].endswith("the last: accuracy=0.5 label=1")

    rows = summary(err)
    assert list(rows) == ["step", "loss", "accuracy", "label"]
    for name, series in [("step", list(range(1, 41))), ("loss", losses), ("accuracy", [0.5])]:
        count, last, lowest, mean, highest, sparkline = rows[name]
        assert int(count) == len(series)
        expected = [series[-1], min(series), math.fsum(series) / len(series), max(series)]
        assert [float(cell) for cell in (last, lowest, mean, highest)] == pytest.approx(expected, rel=1e-5)
        assert len(sparkline) == min(len(series), 24) and set(sparkline) <= set(BARS)
    step_line = rows["step"][5]
    assert step_line[0] == BARS[0] and step_line[-1] == BARS[-1] and list(step_line) == sorted(step_line)

    with open(jsonl) as lines:
        entries = [json.loads(line, object_pairs_hook=OrderedDict) for line in lines]
    assert [entry["metrics"] for entry in entries] == emitted
    assert [list(entry) for entry in entries] == [["received", "metrics"]] * len(emitted)
    times = [entry["received"] for entry in entries]
    assert before <= times[0] and times == sorted(times) and times[-1] <= after


def test_malformed_lines_are_counted_and_shown(impl, tmp_path, sidecars):
    code = """
import os, sys, time
fd = os.open(os.environ["BENCHMARK_AI_FIFO_FILEPATH"], os.O_WRONLY)
os.write(fd, b"not json\\n[1, 2]\\n\\xff{}\\n")
os.write(fd, b'{"split": ')
time.sleep(0.1)  # the sidecar reads the first half alone
os.write(fd, b'1}\\n')
benchmarkai.emit({u"d\\u00e9j\\u00e0": 1.5})
os.write(fd, b'{"cut": 2')
sys.exit(3)
"""
    # An ASCII stderr: the table falls back to ASCII bars and escapes the name.
    sidecar = Sidecar(impl, tmp_path, code, ["--quiet"], encoding="ascii")
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 3, err
    assert "Traceback" not in err and live_lines(err) == []
    err.encode("ascii")
    assert "2 records and 4 malformed lines" in err
    for problem in ['line 1, not JSON: "not json"', 'line 2, not a JSON object: "[1, 2]"',
                    "line 3, not UTF-8: ", 'line 6, no newline at the end: "{\\"cut\\": 2"']:
        assert "  " + problem in err
    rows = summary(err)
    assert list(rows) == ["split", "d\\xe9j\\xe0"]
    assert rows["split"][:5] == ["1"] * 5 and set(rows["split"][5]) <= set(ASCII_BARS)
    assert sidecar.leftovers() == []


def test_writers_that_come_and_go(impl, tmp_path, sidecars):
    """A grandchild that writes and exits, another that opens the FIFO only after the first
    closed it, CMD writing last, and a forked child: no line is lost, no EOF ends the run."""
    grandchild = impl.code("import sys\nbenchmarkai.emit({'writer': int(sys.argv[1])})\n")
    code = """
import os, subprocess, sys, time
def grandchild(writer):
    assert subprocess.call([sys.executable, "-c", %r, str(writer)]) == 0
grandchild(1)
time.sleep(0.1)  # nobody has the FIFO open for writing now, but the sidecar
grandchild(2)
benchmarkai.emit({"writer": 3})
pid = os.fork()
if pid == 0:
    benchmarkai.emit({"writer": 4})
    os._exit(0)
os.waitpid(pid, 0)
""" % grandchild
    sidecar = Sidecar(impl, tmp_path, code)
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 0, err
    assert [line.split("] ", 1)[1] for line in live_lines(err)] == ["writer=%d" % n for n in (1, 2, 3, 4)]
    assert summary(err)["writer"][:5] == ["4", "4", "1", "2.5", "4"]


def test_a_process_left_holding_the_fifo_is_waited_for_a_bounded_time(impl, tmp_path, sidecars):
    lingering = impl.code("""
import sys, time
benchmarkai.emit({"lingering": 1})
sys.stdout.write("emitted\\n")
sys.stdout.flush()
time.sleep(60)
""")
    code = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", %r], stdin=open(os.devnull), stdout=subprocess.PIPE,
                         stderr=open(os.devnull, "w"))
assert child.stdout.readline() == b"emitted\\n"
sys.stdout.write("%%d\\n" %% child.pid)
""" % lingering
    sidecar = Sidecar(impl, tmp_path, code, ["--drain-timeout", "0.5"])
    sidecars.append(sidecar)
    sidecar.start()
    sidecar.pids.append(int(sidecar.process.stdout.readline()))
    returncode, out, err = sidecar.finish()
    assert returncode == 0, err
    assert "still holds the FIFO open" in err
    assert summary(err)["lingering"][0] == "1"
    assert sidecar.leftovers() == []


COUNT_SIGINT = REPORT_FIFO + """
import signal, time
seen = []
signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
sys.stdout.write("ready\\n")
sys.stdout.flush()
deadline = time.time() + 20
while not seen and time.time() < deadline:
    time.sleep(0.01)
time.sleep(0.2)  # a second SIGINT, if any, comes now
benchmarkai.emit({"sigint_seen": len(seen)})
sys.exit(20 + len(seen))
"""


@COMPILED_AND_FALLBACK
@pytest.mark.parametrize("to", ["sidecar", "process-group"])
def test_sigint_reaches_cmd_once(impl, tmp_path, sidecars, to):
    sidecar = Sidecar(impl, tmp_path, COUNT_SIGINT).start()
    sidecars.append(sidecar)
    report = json.loads(sidecar.process.stdout.readline())
    assert sidecar.process.stdout.readline() == b"ready\n"
    (os.kill if to == "sidecar" else os.killpg)(sidecar.process.pid, signal.SIGINT)
    returncode, out, err = sidecar.finish()
    assert returncode == 21, err
    assert summary(err)["sigint_seen"][1] == "1"
    assert not os.path.exists(report["path"]) and sidecar.leftovers() == []


@COMPILED_AND_FALLBACK
def test_ctrl_c_on_a_terminal_reaches_cmd_once(impl, tmp_path, sidecars):
    """The sidecar in the foreground of a terminal (a pty): Ctrl-C sends SIGINT to it and CMD."""
    sidecar = Sidecar(impl, tmp_path, COUNT_SIGINT)
    sidecars.append(sidecar)
    pid, terminal = pty.fork()
    if pid == 0:  # the child: a session leader whose controlling terminal is the pty
        try:
            os.execve(sys.executable, sidecar.args, sidecar.environ)
        finally:
            os._exit(127)
    sidecar.groups.append(pid)
    output = b""
    typed = False
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        if select.select([terminal], [], [], 0.1)[0]:
            try:
                chunk = os.read(terminal, 1 << 16)
            except OSError:  # EIO: the terminal's last user is gone
                break
            if not chunk:
                break
            output += chunk
            if b"ready\r\n" in output and not typed:
                os.write(terminal, b"\x03")  # Ctrl-C, as typed
                typed = True
    else:
        sidecar.kill()
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    text = output.decode("utf-8").replace("\r\n", "\n")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 21, text
    assert summary(text)["sigint_seen"][1] == "1"
    assert not os.path.exists(json.loads(text.split("\n", 1)[0])["path"]) and sidecar.leftovers() == []


@COMPILED_AND_FALLBACK
def test_sigterm_is_forwarded_and_a_signal_death_gives_128_plus_n(impl, tmp_path, sidecars):
    code = REPORT_FIFO + """
import time
benchmarkai.emit({"before_sigterm": 1})
sys.stdout.write("ready\\n")
sys.stdout.flush()
time.sleep(20)
"""
    sidecar = Sidecar(impl, tmp_path, code).start()
    sidecars.append(sidecar)
    report = json.loads(sidecar.process.stdout.readline())
    assert sidecar.process.stdout.readline() == b"ready\n"
    os.kill(sidecar.process.pid, signal.SIGTERM)
    returncode, out, err = sidecar.finish()
    assert returncode == 128 + signal.SIGTERM, err
    assert "was killed by SIGTERM" in err and summary(err)["before_sigterm"][0] == "1"
    assert not os.path.exists(report["path"]) and sidecar.leftovers() == []


@COMPILED_AND_FALLBACK
def test_a_closed_stderr_stops_the_showing_not_the_reading(impl, tmp_path, sidecars):
    """As under ``... 2>&1 | head -1``: the sidecar's stderr has no reader any more."""
    jsonl = str(tmp_path / "metrics.jsonl")
    code = "import sys\nfor i in range(300):\n    benchmarkai.emit({'i': i})\nsys.exit(5)\n"
    sidecar = Sidecar(impl, tmp_path, code, ["--jsonl", jsonl]).start()
    sidecars.append(sidecar)
    sidecar.process.stderr.close()
    sidecar.process.stderr = None
    returncode, out, _ = sidecar.finish()
    assert returncode == 5
    with open(jsonl) as lines:
        assert [json.loads(line)["metrics"] for line in lines] == [{"i": i} for i in range(300)]
    assert sidecar.leftovers() == []


@COMPILED_AND_FALLBACK
def test_fifo_option(impl, tmp_path, sidecars):
    given = str(tmp_path / "given.fifo")
    code = REPORT_FIFO + "benchmarkai.emit({'x': 1})\n"
    for existing in (False, True):
        if existing:
            os.mkfifo(given)
        sidecar = Sidecar(impl, tmp_path, code, ["--fifo", given])
        sidecars.append(sidecar)
        returncode, out, err = sidecar.result()
        assert returncode == 0, err
        assert json.loads(out)["path"] == given and summary(err)["x"][0] == "1"
        # Removed only if the sidecar created it.
        assert os.path.exists(given) == existing

    regular = str(tmp_path / "regular")
    with open(regular, "w") as file:
        file.write("keep")
    sidecar = Sidecar(impl, tmp_path, code, ["--fifo", regular])
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert (returncode, out) == (2, "")
    assert "exists and is not a FIFO" in err
    with open(regular) as file:
        assert file.read() == "keep"


@COMPILED_AND_FALLBACK
def test_the_readme_example(impl, tmp_path, sidecars):
    """README's main job: examples/train.py under the sidecar."""
    sidecar = Sidecar(impl, tmp_path, "", ["--quiet"])
    sidecar.args[sidecar.args.index("--") + 1:] = [sys.executable, TRAIN]
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 0, err
    assert out.startswith("trained 80 steps in 5 epochs")
    rows = summary(err)
    assert [rows[name][0] for name in ("epoch", "step", "loss", "lr", "val_accuracy")] == ["85", "80", "80", "80", "5"]
    assert float(rows["loss"][1]) < 0.5 < 0.69 < float(rows["loss"][4])  # it learns, from log(2)


@COMPILED_AND_FALLBACK
def test_the_console_script(impl, tmp_path, sidecars):
    script = os.path.join(os.path.dirname(sys.executable), "benchmarkai")
    if not os.path.exists(script):
        pytest.skip("benchmarkai is not installed beside %s" % sys.executable)
    sidecar = Sidecar(impl, tmp_path, "import sys\nbenchmarkai.emit({'x': 2})\nsys.exit(4)\n", ["--quiet"])
    sidecar.args[:3] = [script]
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 4, err
    assert summary(err)["x"][:2] == ["1", "2"]


@COMPILED_AND_FALLBACK
def test_a_command_that_cannot_run(impl, tmp_path, sidecars):
    sidecar = Sidecar(impl, tmp_path, "")
    sidecar.args[sidecar.args.index("--") + 1] = str(tmp_path / "no-such-program")
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 127
    assert "cannot run" in err and "no-such-program" in err
    assert sidecar.leftovers() == []


# --- What CMD writes must never stop the sidecar (issue 13, 10) ---

OPEN_FIFO = "import os, sys, time\nfd = os.open(os.environ['BENCHMARK_AI_FIFO_FILEPATH'], os.O_WRONLY)\n"


def test_an_int_beyond_the_doubles(impl, tmp_path, sidecars):
    """An OverflowError in the summary ended the sidecar, CMD abandoned, at 10**400."""
    code = """
import sys
from collections import OrderedDict
benchmarkai.emit(OrderedDict([("big", 10 ** 400), ("small", -10 ** 400), ("x", 1)]))
benchmarkai.emit({"big": 2, "x": 2})
sys.exit(6)
"""
    sidecar = Sidecar(impl, tmp_path, code)
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 6, err
    assert "Traceback" not in err and "failed" not in err
    assert live_records(err)[0][0] == "big=1.00000e+400 small=-1.00000e+400 x=1"
    rows = summary(err)
    assert rows["big"][:5] == ["2", "2", "2", "2", "2"]  # infinity, as 10**400 is as a float, is left out
    assert rows["small"][:5] == ["1", "-1.00000e+400", "-", "-", "-"]
    assert rows["x"][0] == "2"


@COMPILED_AND_FALLBACK
def test_a_line_nested_too_deeply(impl, tmp_path, sidecars):
    """A RecursionError in json.loads ended the sidecar, CMD abandoned."""
    code = OPEN_FIFO + """
os.write(fd, b"[" * 100000 + b"]" * 100000 + b"\\n")
os.write(fd, b'{"deep": ' + b"[" * 100000 + b"]" * 100000 + b'}\\n{"after": 1}\\n')
benchmarkai.emit({"emitted": 1})
sys.exit(4)
"""
    jsonl = str(tmp_path / "metrics.jsonl")
    sidecar = Sidecar(impl, tmp_path, code, ["--quiet", "--jsonl", jsonl])
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 4, err
    assert "Traceback" not in err and "failed" not in err
    assert "2 records and 2 malformed lines" in err
    assert "line 1, nested too deeply" in err and "line 2, nested too deeply" in err
    assert list(summary(err)) == ["after", "emitted"]
    with open(jsonl) as lines:
        assert [sorted(json.loads(line)) for line in lines] == [["malformed", "received"]] * 2 + [
            ["metrics", "received"]] * 2


@COMPILED_AND_FALLBACK
def test_a_line_over_1_mib_counts_once(impl, tmp_path, sidecars):
    """A 2.5 MiB line was counted as 3 malformed lines; one of 1.5 MiB ended in a read of its
    own was taken for a record."""
    code = OPEN_FIFO + """
os.write(fd, b'{"long": "' + b"x" * (5 << 19) + b'"}\\n{"after": 1}\\n')
for piece in (b'{"long": "' + b"y" * (3 << 19), b'"}\\n'):
    os.write(fd, piece)
    time.sleep(0.2)  # the two pieces come in two reads
benchmarkai.emit({"emitted": 1})
"""
    jsonl = str(tmp_path / "metrics.jsonl")
    sidecar = Sidecar(impl, tmp_path, code, ["--quiet", "--jsonl", jsonl])
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 0, err
    assert "2 records and 2 malformed lines" in err
    assert 'line 1, longer than 1048576 bytes: "{\\"long\\": \\"xxx' in err
    assert 'line 3, longer than 1048576 bytes: "{\\"long\\": \\"yyy' in err
    assert list(summary(err)) == ["after", "emitted"]
    with open(jsonl) as lines:
        entries = [json.loads(line) for line in lines]
    assert [len(entry.get("malformed", "")) for entry in entries] == [1 << 20, 0, 1 << 20, 0]


@COMPILED_AND_FALLBACK
def test_closed_stderr(impl, tmp_path, sidecars):
    """``2>&-``: an AttributeError ended the sidecar on Python 3; on 2.7 the --jsonl file took
    fd 2 and the live lines were written into it."""
    jsonl = str(tmp_path / "metrics.jsonl")
    code = """
import os, sys
try:
    os.fstat(2)
    sys.stdout.write("CMD has a stderr\\n")
except OSError:
    sys.stdout.write("CMD has no stderr\\n")
for i in range(300):
    benchmarkai.emit({"i": i})
sys.exit(5)
"""
    sidecar = Sidecar(impl, tmp_path, code, ["--jsonl", jsonl])
    sidecar.args[:0] = ["sh", "-c", 'exec "$0" "$@" 2>&-']
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert (returncode, out, err) == (5, "CMD has no stderr\n", b"")  # the sidecar wrote nothing on fd 2
    with open(jsonl) as lines:
        assert [json.loads(line)["metrics"] for line in lines] == [{"i": i} for i in range(300)]
    assert sidecar.leftovers() == []


@COMPILED_AND_FALLBACK
def test_closed_stdout(impl, tmp_path, sidecars):
    """``>&-``: the summary is shown on stderr all the same (a mutant took a closed stdout for
    a closed stderr, and showed nothing)."""
    sidecar = Sidecar(impl, tmp_path, "benchmarkai.emit({'x': 1})\n", ["--quiet"])
    sidecar.args[:0] = ["sh", "-c", 'exec "$0" "$@" >&-']
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 0, err
    assert summary(err)["x"][0] == "1"


@COMPILED_AND_FALLBACK
def test_jsonl_on_a_full_disk(impl, tmp_path, sidecars):
    """``--jsonl /dev/full``: an ENOSPC traceback ended the sidecar, CMD abandoned."""
    code = "import sys\nfor i in range(3000):\n    benchmarkai.emit({'i': i})\nsys.exit(7)\n"
    sidecar = Sidecar(impl, tmp_path, code, ["--quiet", "--jsonl", "/dev/full"])
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 7, err
    assert "Traceback" not in err
    assert err.count("recording failed") == 1 and "No space left on device" in err
    assert "3000 records and 0 malformed lines" in err and summary(err)["i"][0] == "3000"


@COMPILED_AND_FALLBACK
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_drain_timeout_must_be_a_finite_number_of_seconds(impl, tmp_path, sidecars, value):
    """``--drain-timeout nan`` was accepted, and a process left holding the FIFO waited for forever."""
    marker = str(tmp_path / "ran")
    sidecar = Sidecar(impl, tmp_path, "open(%r, 'w').close()\n" % marker, ["--drain-timeout", value])
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 2
    assert "argument --drain-timeout: '%s' is not a finite number of seconds >= 0" % value in err
    assert not os.path.exists(marker) and sidecar.leftovers() == []


# The sidecar itself, with one part of its work made to fail from the second batch of lines on.
FAILING_SIDECAR = """
import sys
from benchmarkai import _sidecar, _summary
def fail_after_first(module, name):
    original = getattr(module, name)
    calls = []
    def failing(*args):
        calls.append(1)
        if len(calls) > 1:
            raise ZeroDivisionError("injected")
        return original(*args)
    setattr(module, name, failing)
fail_after_first(*{"parsing": (_summary, "parse_lines"), "tallying": (_summary.Tally, "add"),
                   "showing": (_summary, "result_text")}[sys.argv[1]])
sys.argv[1:2] = []
sys.exit(_sidecar.main())
"""


PADDED = b'{"i": 1, "padding": "' + b"x" * 100 + b'"}\n'
PADDED_PER_WRITE = (128 << 10) // len(PADDED)


@COMPILED_AND_FALLBACK
@pytest.mark.parametrize("part", ["parsing", "tallying", "showing"])
def test_a_part_that_fails_is_said_once_and_the_fifo_is_read_on(impl, tmp_path, sidecars, part):
    """Any error in parsing, tallying or showing ended the sidecar, and CMD, blocked on the
    full FIFO, failed after the max wait. CMD writes 4 MiB, far more than the pipe holds."""
    code = OPEN_FIFO + """
benchmarkai.emit({"first": 1})
time.sleep(0.2)  # read alone: the part fails from the next read on
for _ in range(32):
    os.write(fd, %r * %d)
sys.exit(3)
""" % (PADDED, PADDED_PER_WRITE)
    jsonl = str(tmp_path / "metrics.jsonl")
    sidecar = Sidecar(impl, tmp_path, code, ["--jsonl", jsonl])
    sidecar.args[1:4] = ["-c", FAILING_SIDECAR, part, "run"]
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 3, err
    assert err.count("failed") == 1 and "%s failed at line" % part in err and "ZeroDivisionError: injected" in err
    assert "Traceback" not in err
    with open(jsonl) as lines:
        recorded = sum(1 for _ in lines)
    lines_written = 1 + 32 * PADDED_PER_WRITE
    if part == "parsing":  # nothing more is done with the lines but count them
        assert recorded == 1 and "(the tally covers the first 1 of the %d lines read)" % lines_written in err
    else:
        assert recorded == lines_written
    if part == "tallying":
        assert "1 record and 0 malformed lines" in err and list(summary(err)) == ["first"]
    if part == "showing":
        assert "%d records" % lines_written in err and summary(err)["i"][0] == str(lines_written - 1)


@COMPILED_AND_FALLBACK
def test_values_that_are_not_numbers(impl, tmp_path, sidecars):
    """Issue 10: str, bool, null, lists and nested objects are shown, counted and listed under
    the table, never summed up, and never fail the sidecar. (Written directly: emit takes them
    in another branch.)"""
    code = OPEN_FIFO + """
os.write(fd, b'{"accuracy": "20.34"}\\n')  # as the metrics extractor emits what its pattern matched
os.write(fd, b'{"batch": "0", "train_loss": "0.500000"}\\n')  # as the horovod sample does
os.write(fd, b'{"early_stop": true, "missing": null, "shape": [1, 2], "nested": {"a": {"b": [1, "x"]}}, '
             b'"loss": 0.5, "text": "' + b"t" * 200 + b'"}\\n')
os.write(fd, b'{"early_stop": false, "loss": 0.25, "accuracy": 20.5}\\n')
"""
    jsonl = str(tmp_path / "metrics.jsonl")
    sidecar = Sidecar(impl, tmp_path, code, ["--jsonl", jsonl])
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 0, err
    assert "Traceback" not in err and "failed" not in err
    shown = live_records(err)[0]
    assert shown[:2] == ['accuracy="20.34"', 'batch="0" train_loss="0.500000"']
    assert shown[2].startswith('early_stop=true missing=null shape=[1, 2] nested={"a": {"b": [1, "x"]}} '
                               'loss=0.5 text="tttt')
    assert shown[2].endswith('t...') and len(shown[2]) < 200
    assert shown[3] == "early_stop=false loss=0.25 accuracy=20.5"
    assert "4 records and 0 malformed lines" in err
    rows = summary(err)
    assert list(rows) == ["accuracy", "loss"] and rows["loss"][:2] == ["2", "0.25"]  # the order names came in
    others = err.split("values that are not numbers, left out of the table:\n", 1)[1].splitlines()
    assert [line.split()[:2] for line in others] == [
        ["metric", "values"], ["accuracy", "1"], ["batch", "1"], ["train_loss", "1"], ["early_stop", "2"],
        ["missing", "1"], ["shape", "1"], ["nested", "1"], ["text", "1"]]
    assert others[1].endswith('"20.34"') and others[4].endswith("false") and others[5].endswith("null")
    with open(jsonl) as lines:
        entries = [json.loads(line, object_pairs_hook=OrderedDict)["metrics"] for line in lines]
    assert entries[2]["nested"] == {"a": {"b": [1, "x"]}} and entries[3]["early_stop"] is False


@COMPILED_AND_FALLBACK
def test_live_lines_under_a_flood(impl, tmp_path, sidecars):
    """Under a flood of records the live lines must stay readable: at most 20 a second and one
    that says how many were folded, not a line per record (was: 100,000s of lines a second).
    A record that comes alone after the flood is shown as it is."""
    code = """
import time
count = 0
start = time.time()
while time.time() - start < 2.5:
    for _ in range(100):
        benchmarkai.emit({"step": count})
        count += 1
    time.sleep(0.005)  # at most 20,000 a second: a loaded sidecar still catches up before "after"
time.sleep(1.2)
for step in range(3):
    benchmarkai.emit({"after": step})
    time.sleep(0.3)
print(count)
"""
    sidecar = Sidecar(impl, tmp_path, code)
    sidecars.append(sidecar)
    returncode, out, err = sidecar.result()
    assert returncode == 0, err
    emitted = int(out)
    shown, folded, folds = live_records(err)
    assert len(shown) + folded == emitted + 3
    assert shown[-3:] == ["after=0", "after=1", "after=2"]
    assert folds and all(re.search(r"the last: step=\S+$", fold) for fold in folds)
    stamps = [float(line.split("+", 1)[1].split("s]", 1)[0]) for line in live_lines(err)]
    flood = [stamp for stamp in stamps if stamp <= stamps[-4]]  # the flood, and its last fold
    seconds = flood[-1] - flood[0]
    # 20 a second and the line that folds the rest, give or take a second: far from the
    # emitted count, which is in the 10,000s even on a loaded machine.
    assert len(flood) <= 21 * (seconds + 2), (len(flood), seconds, emitted)
    assert emitted > 10 * len(flood)
