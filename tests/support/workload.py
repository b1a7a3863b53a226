"""What writers emit, in the test process and in child interpreters (which import this module:
it needs only the standard library and benchmarkai), a writer thread that fills the pipe, and
the check that a reader got all of it.

Writer ``w`` (a name: "w0", "p1t2") emits mapping number ``seq`` (0, 1, ...): every name in
it is "<w>.s<seq>.k<k>", so each pair says who wrote it and when. How many keys each mapping
holds follows a pattern of sizes: STRESS_SIZES, or big_every(n).
"""
import json
import select
import threading
import time
from collections import OrderedDict

import benchmarkai

PIPE_BUF = select.PIPE_BUF
# The stress and fault tests' sizes, by seq % 32: mostly one key; the 200 keys of every 32nd
# (about 6 kB) are too long for one line, which emit() must split at PIPE_BUF.
STRESS_SIZES = (1,) * 27 + (2, 5, 10, 40, 200)


def big_every(every):
    """Sizes in which every ``every``-th mapping, the first included, has 340 keys (about
    7 kB: split into lines), and the others one."""
    return (340,) + (1,) * (every - 1)


def writer_name(process, thread):
    return "p%dt%d" % (process, thread)


def pair(writer, seq, k):
    """The ``k``-th (name, value) pair of writer ``writer``'s mapping number ``seq``."""
    return "%s.s%d.k%d" % (writer, seq, k), (seq * 1000 + k if k % 2 else seq + k / 8.0 + 0.1)


def workload(writer, count, sizes):
    """The first ``count`` mappings writer ``writer`` emits, in order, mapping ``seq``
    holding sizes[seq % len(sizes)] keys."""
    return [OrderedDict(pair(writer, seq, k) for k in range(sizes[seq % len(sizes)])) for seq in range(count)]


def fixed_lines(writer, count, size):
    """``count`` mappings of writer ``writer`` whose lines are ``size`` bytes each, "\\n" included."""
    mappings = []
    for seq in range(count):
        prefix = "%s.f%d." % (writer, seq)
        mappings.append(OrderedDict([(prefix + "x" * (size - 7 - len(prefix)), 0)]))
    return mappings


def blocked_writer(mappings, timeout=10):
    """Start a daemon thread that emits ``mappings`` through benchmarkai.emit (in fifo mode);
    return once its count of mappings emitted has moved and then stood still for 0.2 s: it
    waits for room in a full pipe. Returns the thread and a function giving that count."""
    emitted = [0]

    def write():
        for metrics in mappings:
            benchmarkai.emit(metrics)
            emitted[0] += 1

    thread = threading.Thread(target=write)
    thread.daemon = True
    thread.start()
    last, still = -1, 0
    deadline = time.time() + timeout
    while still < 10 or last == 0:
        assert time.time() < deadline, "the writer never got going, or never stopped"
        time.sleep(0.02)
        last, still = emitted[0], (still + 1 if emitted[0] == last else 0)
    return thread, lambda: emitted[0]


class Check(object):
    """Reads a stream of lines written by workload(writer, count, STRESS_SIZES) writers and
    checks, as it goes, that each line is whole (one JSON object, one writer, at most PIPE_BUF
    bytes) and that each writer's pairs come exactly in the order it emitted them, none
    missing, none twice."""

    def __init__(self):
        self.lines = 0
        self._next = {}  # writer -> (seq, k) of the pair expected next

    def stream(self, data):
        assert not data or data.endswith(b"\n"), "the stream ends inside a line: %r" % data[-200:]
        for raw in data.split(b"\n")[:-1]:
            self.line(raw)

    def line(self, raw):
        assert len(raw) + 1 <= PIPE_BUF, "a %d-byte line: %r" % (len(raw) + 1, raw[:200])
        try:
            pairs = json.loads(raw.decode("ascii"), object_pairs_hook=list)
        except ValueError:
            raise AssertionError("not one JSON object (interleaved?): %r" % raw[:300])
        writer = pairs[0][0].split(".", 1)[0]
        seq, k = self._next.get(writer, (0, 0))
        for found in pairs:
            expected = pair(writer, seq, k)
            assert found == expected, (
                "writer %s: %r where %r was due (lost, repeated, reordered or mixed lines)"
                % (writer, found, expected))
            k += 1
            if k == STRESS_SIZES[seq % len(STRESS_SIZES)]:
                seq, k = seq + 1, 0
        self._next[writer] = (seq, k)
        self.lines += 1

    def done(self, counts):
        """Assert that writer w's last pair was the last of its counts[w] mappings."""
        assert self._next == dict((writer, (count, 0)) for writer, count in counts.items())
