"""ns per emit() in fifo mode, side by side in one run, as ratios to the bare write(2).

A real FIFO with a reader process draining it; each implementation runs in a child of its
own (cython, the fallback with ujson, the fallback with json), which also times os.write of
the same line's bytes (the floor) right before, so every ratio compares figures taken
together on this noisy machine. Metrics are 1, 3 and 10 full-precision floats.

    python benchmarks/fifo_emit.py [--calls N]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

CHILD = r"""
import json, os, sys, timeit
if sys.argv[1] == "python-json":
    sys.modules["ujson"] = None  # the fallback as it runs where ujson cannot be imported
import benchmarkai
assert benchmarkai.implementation == sys.argv[1].split("-")[0]
calls = int(sys.argv[2])
fd = os.open(os.environ["BENCHMARK_AI_FIFO_FILEPATH"], os.O_WRONLY)
results = {}
for keys in (1, 3, 10):
    metrics = dict(("metric.name.%d" % i, 0.1234567890123456 * (i + 1)) for i in range(keys))
    line = (json.dumps(metrics, separators=(",", ":")) + "\n").encode("ascii")
    floor = min(timeit.repeat(lambda: os.write(fd, line), number=calls, repeat=5))
    emit = min(timeit.repeat(lambda: benchmarkai.emit(metrics), number=calls, repeat=5))
    results[keys] = (floor / calls * 1e9, emit / calls * 1e9)
print(json.dumps(results))
"""

IMPLEMENTATIONS = ("cython", "python", "python-json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100000)
    options = parser.parse_args()
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "metrics.fifo")
    os.mkfifo(path)
    drain = "import os, sys\nfd = os.open(sys.argv[1], os.O_RDONLY)\nwhile os.read(fd, 1 << 20): pass\n"
    reader = subprocess.Popen([sys.executable, "-c", drain, path])
    keep = os.open(path, os.O_WRONLY)  # the reader sees no EOF between two children
    try:
        rows = {}
        for name in IMPLEMENTATIONS:
            environ = dict(os.environ, BENCHMARK_AI="fifo", BENCHMARK_AI_FIFO_FILEPATH=path,
                           BENCHMARK_AI_PURE_PYTHON="0" if name == "cython" else "1")
            out = subprocess.check_output([sys.executable, "-c", CHILD, name, str(options.calls)], env=environ)
            rows[name] = json.loads(out.decode("ascii"))
    finally:
        os.close(keep)
        reader.wait()
        shutil.rmtree(directory)
    print("Python %s, %d calls x 5 repeats (best), ns per call; (ratio to os.write of the same bytes)"
          % (sys.version.split()[0], options.calls))
    print("%-12s %8s %8s %8s" % ("", "1 key", "3 keys", "10 keys"))
    for name in IMPLEMENTATIONS:
        cells = ["%.0f (%.2fx)" % (rows[name][k][1], rows[name][k][1] / rows[name][k][0])
                 for k in ("1", "3", "10")]
        print("%-12s %s" % (name, "  ".join(cells)))
    print("%-12s %s" % ("os.write", "  ".join("%.0f" % rows["cython"][k][0] for k in ("1", "3", "10"))))


if __name__ == "__main__":
    main()
