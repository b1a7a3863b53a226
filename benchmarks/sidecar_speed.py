"""How fast ``benchmarkai run`` drains the FIFO, and how much it slows the writer, as ratios
to a bare ``cat`` reading the same kind of FIFO, side by side in one run.

The writer: the compiled emit, --emits (default 1,000,000) emits of 2 metrics in a loop,
timed by itself (first emit to last return). Readers, each in turn in every one of --rounds
rounds (the least times count, so a burst of other load on the machine counts least):

- ``cat FIFO > /dev/null``, the FIFO made here: the bare reader;
- ``benchmarkai run --quiet -- WRITER``: only the summary;
- ``benchmarkai run --quiet --jsonl FILE -- WRITER``: and every line recorded;
- ``benchmarkai run -- WRITER 2> FILE``: live lines (folded under the flood) to a file;
- for reference, the writer with no reader at all: stdout mode, stdout to /dev/null;
- with --before DIR, also ``benchmarkai run --quiet`` as imported from DIR (say, a copy of
  the installed package with an older _sidecar.py and _summary.py).

Lines/s read is the emits over the time from the first emit to the reader's exit (for the
sidecar, that includes its summary). The writer's slow-down is its time under the reader over
its time under cat. The reader's CPU seconds (user + system; for the sidecar, without the
writer's, its child) depend less on the other load on the machine than the times do.

    python benchmarks/sidecar_speed.py [--emits N] [--rounds N] [--before DIR]

Python 3, with benchmarkai installed with its compiled module (``cat`` from coreutils).
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

READERS = (
    ("cat", "cat (the bare reader)", None),
    ("quiet", "benchmarkai run --quiet", ["--quiet"]),
    ("jsonl", "benchmarkai run --quiet --jsonl FILE", ["--quiet", "--jsonl"]),
    ("live", "benchmarkai run, live lines to a file", []),
    ("alone", "no reader: stdout mode to /dev/null", None),
    ("before", "benchmarkai run --quiet, from --before DIR", ["--quiet"]),
)


def write(emits, report):
    """The writer, in a child: ``emits`` emits of 2 metrics; its start and end to ``report``."""
    import benchmarkai
    if benchmarkai.implementation != "cython":
        raise SystemExit("the writer needs the compiled emit: benchmarkai here is %s" % benchmarkai.implementation)
    emit = benchmarkai.emit
    start = time.time()
    for step in range(emits):
        emit({"step": step, "loss": 1.0 / (step + 1)})
    end = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(report, "w") as out:
        json.dump({"start": start, "end": end, "cpu": usage.ru_utime + usage.ru_stime}, out)


def wait(process):
    """Wait for ``process``; its CPU seconds, and those of the children it waited for."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def run_once(reader, options, directory):
    """(seconds from the first emit to the reader's exit, the writer's seconds, the reader's
    CPU seconds) for one run."""
    report = os.path.join(directory, "report.json")
    writer = [sys.executable, os.path.abspath(__file__), "--writer", str(options.emits), "--report", report]
    environ = dict(os.environ, BENCHMARK_AI_PURE_PYTHON="0")
    err_path = os.path.join(directory, "stderr")
    with open(os.devnull, "w") as null, open(err_path, "w") as err:
        if reader == "alone":
            subprocess.check_call(writer, env=dict(environ, BENCHMARK_AI="stdout"), stdout=null)
            done = reader_cpu = None
        elif reader == "cat":
            fifo = os.path.join(directory, "metrics.fifo")
            os.mkfifo(fifo)
            cat = subprocess.Popen(["cat", fifo], stdout=null)
            emitter = subprocess.Popen(writer, env=dict(environ, BENCHMARK_AI="fifo", BENCHMARK_AI_FIFO_FILEPATH=fifo))
            reader_cpu = wait(cat)
            done = time.time()
            if emitter.wait() or cat.returncode:
                raise SystemExit("cat or the writer failed")
            os.unlink(fifo)
        else:
            run_options = [option if option != "--jsonl" else option + "=" + os.path.join(directory, "metrics.jsonl")
                           for option in dict((r[0], r[2]) for r in READERS)[reader]]
            if reader == "before":
                environ["PYTHONPATH"] = options.before
            sidecar = subprocess.Popen([sys.executable, "-m", "benchmarkai", "run"] + run_options + ["--"] + writer,
                                       env=environ, stdout=null, stderr=err)
            reader_cpu = wait(sidecar)  # and the writer's, its child: taken off below
            done = time.time()
    with open(err_path) as err:
        shown = err.read()
    if reader not in ("cat", "alone") and "%d records and 0 malformed lines" % options.emits not in shown:
        raise SystemExit("benchmarkai run (%s) did not read every line:\n%s" % (reader, shown[-2000:]))
    with open(report) as written:
        times = json.load(written)
    writer_seconds = times["end"] - times["start"]
    if reader not in ("cat", "alone"):
        reader_cpu -= times["cpu"]
    return (done - times["start"] if done else None), writer_seconds, reader_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emits", type=int, default=1000000, help="emits by the writer (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each reader, the least times count")
    parser.add_argument("--before", metavar="DIR", help="also time the sidecar imported from DIR")
    parser.add_argument("--writer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.writer is not None:
        return write(options.writer, options.report)

    load_before = os.getloadavg()
    directory = tempfile.mkdtemp(prefix="sidecar-speed-")
    best = {}
    readers = [reader for reader in READERS if reader[0] != "before" or options.before]
    try:
        for _ in range(options.rounds):
            for reader, _, _ in readers:
                figures = [figure or float("inf") for figure in run_once(reader, options, directory)]
                best[reader] = [min(pair) for pair in zip(best.get(reader, figures), figures)]
    finally:
        shutil.rmtree(directory)
    print("Python %s, %d emits of 2 metrics, %d rounds (least times); load average %.1f before, %.1f after, "
          "on %d CPUs" % (sys.version.split()[0], options.emits, options.rounds, load_before[0],
                          os.getloadavg()[0], os.cpu_count()))
    cat_drained, cat_writer, _ = best["cat"]
    print("| reader | lines/s read | x cat | writer s | writer x cat | reader CPU s | lines per reader CPU s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for reader, name, _ in readers:
        drained, writer_seconds, reader_cpu = best[reader]
        if reader == "alone":
            print("| %s | | | %.2f | %.2f | | |" % (name, writer_seconds, writer_seconds / cat_writer))
            continue
        rate = options.emits / drained
        print("| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.0f |" % (
            name, rate, rate / (options.emits / cat_drained), writer_seconds, writer_seconds / cat_writer,
            reader_cpu, options.emits / reader_cpu))


if __name__ == "__main__":
    main()
