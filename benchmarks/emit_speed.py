"""ns per emit(), side by side in one run, against the bare write(2) it needs and against
benchmarkai-client-lib 0.1.

FIFO mode: a real FIFO with a reader process draining it. Each subject runs in a child process
of its own, which times, in alternation, the subject and the limit: os.write of the same
line's bytes, pre-serialized, to the same FIFO. Subjects: the compiled emit (cython), the
fallback (python: it writes with json, ujson installed or not), orjson.dumps + os.write (when
orjson is installed: timed in the cython child, alternating with it) and
benchmarkai-client-lib 0.1 from PyPI, installed in a virtualenv of its own (same package name)
and timed by this same script there. Metrics are dicts of 1, 3 and 10 full-precision floats;
the compiled emit's child also times, beside them, dicts of as many short str values
("0.1235", as the metrics-extractor emits the text its pattern matched). Children run one
after another, and the load may change between them: a subject is compared with 0.1 through
each one's multiple of the limit timed beside it, and each subject gets a child in each of
--rounds rounds, of which the least times count.

With --pypy PYPY, also the fallback on PyPy (this checkout, installed into a virtualenv of
that interpreter, where setup.py builds no extension), timed in its own child against
os.write from PyPy: FIFO mode only.

Stdout mode, stdout going to /dev/null: the same implementations against
``print(json.dumps(m)); sys.stdout.flush()``.

Value kinds (FIFO mode): 3-key dicts of each kind of value a training loop hands emit()
(numpy scalars, 0-d arrays, a torch 0-d tensor, float and int subclasses; the kinds whose
library is not importable are left out), timed in one child per implementation, alternating
with the 3 floats, whose time each is divided by; the torch tensor in a child of its own,
beside floats timed there (importing torch slows every emit of the process). --kinds-only
times just these.

With --callgrind (valgrind installed), also instructions per call in user space, which no
other load on the machine changes: each subject runs N and 2N calls under
valgrind --tool=callgrind, and the difference is divided by N (for the value kinds, those of
the compiled emit and the fallback, torch's left out: valgrind runs it too slowly).

    python benchmarks/emit_speed.py [--calls N] [--repeats R] [--rounds N] [--callgrind] [--pypy PYPY]
                                    [--kinds-only]

Python 3 only (it makes a virtualenv with the venv module); the children need only the
standard library, benchmarkai and, where named, ujson, orjson, numpy or torch.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import timeit

KEYS = (1, 3, 10)
V01 = "benchmarkai-client-lib==0.1"
FIFO_SUBJECTS = ("cython", "python", "0.1")
STDOUT_SUBJECTS = ("cython", "python", "print")
CALLGRIND_SUBJECTS = ("cython", "cython-str", "python", "orjson", "os.write", "0.1")
KINDS = ("float", "int", "str", "float subclass", "int subclass", "numpy.float64", "numpy.float32",
         "numpy.float16", "numpy.int64", "numpy.bool_", "0-d array", "0-d int array", "torch 0-d tensor")
KIND_SUBJECTS = ("cython", "python")
# Each group's kinds in a child of its own, with the floats: importing torch slows every emit
# in the process, the floats' too (by about 1.7x here).
KIND_GROUPS = ("numpy", "torch")


def sample_metrics(keys):
    """``keys`` metrics of 16 or 17 significant digits, as a training loop reports them."""
    return dict(("metric.name.%d" % i, 0.1234567890123456 * (i + 1)) for i in range(keys))


def sample_text_metrics(keys):
    """The same metrics as short str values, as a log extractor reports the text it matched."""
    return dict((name, "%.4f" % value) for name, value in sample_metrics(keys).items())


class FloatSubclass(float):
    pass


class IntSubclass(int):
    pass


def kind_converter(kind):
    """A function that makes a value of ``kind`` from a float, or None when the library it
    needs (numpy, torch) is not importable."""
    plain = {"float": float, "int": lambda v: int(v * 1e7), "str": lambda v: "%.4f" % v,
             "float subclass": FloatSubclass, "int subclass": lambda v: IntSubclass(v * 1e7)}
    if kind in plain:
        return plain[kind]
    try:
        library = __import__("torch" if kind.startswith("torch") else "numpy")
    except ImportError:
        return None
    if kind.startswith("torch"):
        return library.tensor  # a float32 tensor
    return {"numpy.float64": library.float64, "numpy.float32": library.float32,
            "numpy.float16": library.float16, "numpy.int64": lambda v: library.int64(v * 1e7),
            "numpy.bool_": lambda v: library.bool_(v > 0.2), "0-d array": library.array,
            "0-d int array": lambda v: library.array(int(v * 1e7))}[kind]


def kind_group(kind):
    return "torch" if kind.startswith("torch") else "numpy"


def kind_metrics(kind):
    """The 3 metrics of sample_metrics(3) as values of ``kind``, or None (see kind_converter)."""
    convert = kind_converter(kind)
    if convert is None:
        return None
    return dict((name, convert(value)) for name, value in sample_metrics(3).items())


# --- In a child: one subject ---

def subject_call(subject, mode, metrics, fd):
    """The call to time for ``subject``: a function of no arguments."""
    if subject == "os.write":
        line = (json.dumps(metrics, separators=(",", ":")) + "\n").encode("ascii")
        return lambda: os.write(fd, line)
    if subject == "orjson":
        import orjson
        return lambda: os.write(fd, orjson.dumps(metrics, option=orjson.OPT_APPEND_NEWLINE))
    if subject == "print":
        def print_line():
            print(json.dumps(metrics))
            sys.stdout.flush()
        return print_line
    if subject == "cython-str":  # the compiled emit, the metrics' values as short str
        subject, metrics = "cython", sample_text_metrics(len(metrics))
    import benchmarkai
    expected = None if subject == "0.1" else subject
    found = getattr(benchmarkai, "implementation", None)  # 0.1 has no such attribute
    if found != expected:
        raise SystemExit("%s: benchmarkai here is %s, not %s" % (subject, found, expected))
    emit = benchmarkai.emit
    return lambda: emit(metrics)


def run_child(options):
    """Time (or, under callgrind, just run) ``options.child``; print the results as JSON on
    the descriptor the parent passed."""
    report = os.fdopen(options.report_fd, "w")
    if options.mode == "fifo":
        fd = os.open(options.fifo, os.O_WRONLY)
    else:
        fd = 1
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)  # sys.stdout too writes to /dev/null from now on
    if options.kinds:
        results = count_kind(options, fd) if options.count_only else time_kinds(options, fd)
        report.write(json.dumps(results))
        report.close()
        return
    results = {}
    for keys in ([options.keys] if options.keys else KEYS):
        metrics = sample_metrics(keys)
        call = subject_call(options.child, options.mode, metrics, fd)
        call()  # the first emit opens the FIFO
        if options.count_only:
            for _ in range(options.calls):
                call()
            continue
        timed = [("limit", subject_call("os.write", options.mode, metrics, fd)), ("call", call)]
        if options.rival:  # the compiled emit's rival, timed beside it
            timed.append(("rival", subject_call(options.rival, options.mode, metrics, fd)))
        if options.child == "cython":
            timed.append(("str", subject_call("cython-str", options.mode, metrics, fd)))
        best = dict((name, float("inf")) for name, _ in timed)
        # One Timer per function, used for every repeat: each Timer compiles a loop of its own,
        # which PyPy's JIT then compiles once (a new one each repeat was warmed up each time).
        timers = [(name, timeit.Timer(function)) for name, function in timed]
        for _ in range(options.repeats):  # alternating, so all see the same load
            for name, timer in timers:
                seconds = timer.timeit(number=options.calls)
                best[name] = min(best[name], seconds / options.calls * 1e9)
        results[keys] = best
    report.write(json.dumps(results))
    report.close()


def time_kinds(options, fd):
    """ns per emit of 3 floats and of 3 values of each kind of the group ``--kinds`` names
    whose library imports, all timed in alternation."""
    timers = []
    for kind in KINDS:
        if kind != "float" and kind_group(kind) != options.kinds:
            continue
        metrics = kind_metrics(kind)
        if metrics is not None:
            call = subject_call(options.child, "fifo", metrics, fd)
            call()  # the first emit opens the FIFO; and a failing kind fails here
            timers.append((kind, timeit.Timer(call)))
    best = dict((kind, float("inf")) for kind, _ in timers)
    for _ in range(options.repeats):
        for kind, timer in timers:
            best[kind] = min(best[kind], timer.timeit(number=options.calls) / options.calls * 1e9)
    return best


def count_kind(options, fd):
    """Just run the calls of one kind (under callgrind, which counts them)."""
    call = subject_call(options.child, "fifo", kind_metrics(options.kinds), fd)
    for _ in range(options.calls + 1):
        call()
    return None


# --- In the parent ---

def v01_python(directory):
    """The Python of a virtualenv with benchmarkai-client-lib 0.1, made on first use."""
    python = os.path.join(directory, "bin", "python")
    if not os.path.exists(python):
        print("installing %s into %s" % (V01, directory))
        subprocess.check_call([sys.executable, "-m", "venv", directory])
        subprocess.check_call([python, "-m", "pip", "install", "-q", V01])
    return python


def pypy_python(pypy, directory):
    """The Python of a virtualenv of ``pypy`` with this checkout installed, afresh each run."""
    python = os.path.join(directory, "bin", "python")
    if not os.path.exists(python):
        subprocess.check_call([pypy, "-m", "venv", directory])
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print("installing this checkout into %s" % directory)
    subprocess.check_call([python, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", checkout])
    subprocess.check_call([python, "-m", "pip", "install", "-q", "six"])
    return python


def child_command(subject, options, python, mode, report_fd, keys=None, calls=None, count_only=False,
                  rival=None, kinds=None):
    command = [python, os.path.abspath(__file__), "--child", subject, "--mode", mode,
               "--fifo", options.fifo, "--report-fd", str(report_fd),
               "--calls", str(calls or options.calls), "--repeats", str(options.repeats)]
    if keys:
        command += ["--keys", str(keys)]
    if count_only:
        command.append("--count-only")
    if rival:
        command += ["--rival", rival]
    if kinds:
        command += ["--kinds", kinds]
    return command


def child_environ(subject, mode, fifo):
    environ = dict(os.environ, BENCHMARK_AI=mode, BENCHMARK_AI_FIFO_FILEPATH=fifo)
    environ["BENCHMARK_AI_PURE_PYTHON"] = "1" if subject.startswith("python") else "0"
    return environ


def run(subject, options, mode, prefix=(), **child_options):
    """Run one child (under ``prefix``, e.g. valgrind); return what it reported and its stderr."""
    python = {"0.1": getattr(options, "v01_python", None),
              "pypy": getattr(options, "pypy_python", None)}.get(subject, sys.executable)
    child = "python" if subject == "pypy" else subject  # PyPy's fallback
    read_fd, write_fd = os.pipe()
    command = list(prefix) + child_command(child, options, python, mode, write_fd, **child_options)
    process = subprocess.Popen(command, env=child_environ(subject, mode, options.fifo), pass_fds=(write_fd,),
                               stderr=subprocess.PIPE)
    os.close(write_fd)
    with os.fdopen(read_fd) as report:
        reported = report.read()
    err = process.communicate()[1].decode("utf-8", "replace")
    if process.returncode:
        raise SystemExit("%s (%s mode) failed:\n%s" % (subject, mode, err))
    return (json.loads(reported) if reported else None), err


def instructions(subject, options, mode, **child_options):
    """User-space instructions per call of ``subject``, from two runs under callgrind."""
    counts = []
    for calls in (options.callgrind_calls, 2 * options.callgrind_calls):
        prefix = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        err = run(subject, options, mode, prefix, calls=calls, count_only=True, **child_options)[1]
        counts.append(int(re.search(r"Collected : (\d+)", err).group(1)))
    return (counts[1] - counts[0]) / float(options.callgrind_calls)


def keep_best(results, subject, timed):
    """Fold one child's figures into ``results``, keeping the least time for each."""
    for keys, figures in timed.items():
        best = results.setdefault(subject, {}).setdefault(keys, {})
        for name, ns in figures.items():
            best[name] = min(ns, best.get(name, ns))


def cell(ns, limit=None, v01=None):
    text = "%6.0f" % ns
    if limit:
        text += " %5.2fx" % (ns / limit)
    if v01:
        text += " %5.2f" % (ns / v01)
    return text


def print_table(title, header, rows):
    print("\n" + title)
    print("| %-23s | %s |" % ("", " | ".join("%-19s" % h for h in header)))
    print("| %s | %s |" % ("-" * 23, " | ".join("-" * 19 for _ in header)))
    for name, cells in rows:
        print("| %-23s | %s |" % (name, " | ".join("%-19s" % c for c in cells)))


def fifo_table(results):
    """Each subject's time as a multiple of the limit timed beside it, and that multiple as a
    fraction of 0.1's: children run seconds apart, and the load may change between them."""
    v01 = results.get("0.1")
    names = {"cython": "cython emit", "python": "fallback", "orjson": "orjson.dumps+os.write", "0.1": "0.1 emit"}
    rows = []
    for subject in ("cython", "python", "orjson", "0.1"):
        if subject == "orjson":  # timed in the cython child, beside it
            timed = [dict(results["cython"][str(k)]) for k in KEYS]
            if "rival" not in timed[0]:
                continue
            for t in timed:
                t["call"] = t["rival"]
        else:
            timed = [results[subject][str(k)] for k in KEYS]
        rows.append((names[subject], [
            cell(t["call"], t["limit"], v01 and t["limit"] * v01[str(k)]["call"] / v01[str(k)]["limit"])
            for t, k in zip(timed, KEYS)]))
        if subject == "cython":
            rows.append(("cython, str values", [cell(t["str"], t["call"]) for t in timed]))
    limits = results["cython"]
    rows.append(("os.write (the limit)", [cell(limits[str(k)]["limit"]) for k in KEYS]))
    if "pypy" in results:  # against PyPy's own os.write, timed in the same PyPy child
        pypy = results["pypy"]
        rows.append(("PyPy: fallback", [cell(pypy[str(k)]["call"], pypy[str(k)]["limit"]) for k in KEYS]))
        rows.append(("PyPy: os.write", [cell(pypy[str(k)]["limit"]) for k in KEYS]))
    print_table("FIFO mode: ns per call, x the limit (os.write of the same bytes, timed in the "
                "same child), x 0.1's (each to its own limit); str values: x the floats' time",
                ["%d key%s" % (k, "s" if k > 1 else "") for k in KEYS], rows)


def stdout_table(results):
    names = {"cython": "cython emit", "python": "fallback", "print": "print(json.dumps)+flush"}
    printed = results["print"]
    rows = [(names[subject], [cell(results[subject][str(k)]["call"], None, printed[str(k)]["call"])
                              for k in KEYS]) for subject in STDOUT_SUBJECTS]
    print_table("Stdout mode to /dev/null: ns per call, x the time of print(json.dumps(m)) + flush",
                ["%d key%s" % (k, "s" if k > 1 else "") for k in KEYS], rows)


def callgrind_table(options, subjects):
    # Two at a time: the counts do not depend on the load.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        counts = dict(((subject, k), pool.submit(instructions, subject, options, "fifo", keys=k))
                      for subject in subjects for k in KEYS)
    rows = [(subject, ["%.0f" % counts[subject, k].result() for k in KEYS]) for subject in subjects]
    print_table("FIFO mode, instructions per call in user space (callgrind, %d and %d calls)"
                % (options.callgrind_calls, 2 * options.callgrind_calls),
                ["%d key%s" % (k, "s" if k > 1 else "") for k in KEYS], rows)


def kinds_table(results, options):
    """Each kind's ns per call and its multiple of the 3 floats' time in the same child; with
    --callgrind, instructions per call and their multiple of the floats'."""
    kinds = [kind for kind in KINDS if kind in results["cython"][kind_group(kind)]]
    header = ["cython emit", "fallback"]
    counts = {}
    if options.callgrind:
        header += ["cython instr.", "fallback instr."]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            counts = dict(((subject, kind), pool.submit(instructions, subject, options, "fifo", kinds=kind))
                          for subject in KIND_SUBJECTS for kind in kinds if kind_group(kind) == "numpy")
    rows = []
    for kind in kinds:
        timed = [results[s][kind_group(kind)] for s in KIND_SUBJECTS]
        cells = [cell(figures[kind], figures["float"]) for figures in timed]
        if counts:
            cells += ["%6.0f %5.2fx" % (counts[s, kind].result(), counts[s, kind].result()
                                        / counts[s, "float"].result()) if (s, kind) in counts else ""
                      for s in KIND_SUBJECTS]
        rows.append((kind, cells))
        if kind_group(kind) == "torch":
            rows.append(("float, torch imported", [cell(figures["float"]) for figures in timed]))
    print_table("FIFO mode, 3-key dicts of each kind of value: ns per call, x the 3 floats' time "
                "in the same child" + (" (instructions: x the floats')" if counts else ""), header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Many short timings: on a shared machine a 5 ms timing is seldom left alone, a 1 ms one
    # often is (PyPy's 3-float emit, alternate runs at load 4-5: 4.8x and 5.5x os.write with
    # 5000 calls x 25, 3.1x and 2.4x with 1000 x 125).
    parser.add_argument("--calls", type=int, default=1000, help="calls per timing (default 1000)")
    parser.add_argument("--repeats", type=int, default=125,
                        help="timings per figure, the best counts: many short ones ride out bursts of load")
    parser.add_argument("--rounds", type=int, default=3,
                        help="children per subject, one per round, the best figures count (default 3)")
    parser.add_argument("--callgrind", action="store_true", help="also count instructions per call")
    parser.add_argument("--callgrind-calls", type=int, default=1000)
    parser.add_argument("--pypy", help="also time the fallback on this PyPy interpreter (e.g. pypy3)")
    parser.add_argument("--kinds-only", action="store_true", help="time only the value kinds")
    parser.add_argument("--v01-venv", default=os.path.join(
        tempfile.gettempdir(), "benchmarkai-0.1-py%d.%d" % sys.version_info[:2]),
        help="where the virtualenv of benchmarkai-client-lib 0.1 is (made if missing)")
    for hidden in ("--child", "--mode", "--fifo", "--report-fd", "--keys", "--count-only", "--rival", "--kinds"):
        parser.add_argument(hidden, help=argparse.SUPPRESS, **(
            {"action": "store_true"} if hidden == "--count-only" else
            {"type": int} if hidden in ("--report-fd", "--keys") else {}))
    options = parser.parse_args()
    if options.child:
        return run_child(options)

    try:
        import orjson  # noqa: F401
        have_orjson = True
    except ImportError:
        print("orjson is not installed: no orjson row")
        have_orjson = False
    fifo_subjects, stdout_subjects = FIFO_SUBJECTS, STDOUT_SUBJECTS
    if options.kinds_only:
        fifo_subjects = stdout_subjects = ()
    else:
        options.v01_python = v01_python(options.v01_venv)
    if options.pypy:
        options.pypy_python = pypy_python(options.pypy, os.path.join(tempfile.gettempdir(), "benchmarkai-pypy"))
        fifo_subjects += ("pypy",)
    directory = tempfile.mkdtemp()
    options.fifo = os.path.join(directory, "metrics.fifo")
    os.mkfifo(options.fifo)
    drain = "import os, sys\nfd = os.open(sys.argv[1], os.O_RDONLY)\nwhile os.read(fd, 1 << 20): pass\n"
    reader = subprocess.Popen([sys.executable, "-c", drain, options.fifo])
    keep = os.open(options.fifo, os.O_WRONLY)  # the reader sees no EOF between two children
    try:
        fifo, stdout, kinds = {}, {}, {}
        for _ in range(options.rounds):  # every subject once a round: all see the same spells of load
            for s in fifo_subjects:
                keep_best(fifo, s, run(s, options, "fifo", rival=have_orjson and s == "cython" and "orjson")[0])
            for s in stdout_subjects:
                keep_best(stdout, s, run(s, options, "stdout")[0])
            for s in KIND_SUBJECTS:
                keep_best(kinds, s, dict((group, run(s, options, "fifo", kinds=group)[0]) for group in KIND_GROUPS))
        print("Python %s, %d calls x %d repeats x %d rounds (best); %s; load average %s"
              % (sys.version.split()[0], options.calls, options.repeats, options.rounds, " ".join(os.uname()[2:3]),
                 " ".join("%.2f" % load for load in os.getloadavg())))
        if not options.kinds_only:
            fifo_table(fifo)
            stdout_table(stdout)
            if options.callgrind:
                callgrind_table(options, [s for s in CALLGRIND_SUBJECTS if s != "orjson" or have_orjson])
        kinds_table(kinds, options)
    finally:
        os.close(keep)
        reader.wait()
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
