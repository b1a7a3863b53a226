"""What the stress and fault tests' writers emit, and the check that a reader got all of it.

Writer ``w`` emits mapping number ``seq`` (0, 1, ...) as ``mapping(w, seq)``: every name is
"<w>.s<seq>.k<k>", so each pair says who wrote it and when. Most mappings hold one key; every
32nd holds 200 keys (about 6 kB), too long for one line, which emit() must split at PIPE_BUF.
"""
import json
import select
from collections import OrderedDict

PIPE_BUF = select.PIPE_BUF
SIZES = (1,) * 27 + (2, 5, 10, 40, 200)  # keys per mapping, by seq % 32


def writer_name(process, thread):
    return "p%dt%d" % (process, thread)


def value(seq, k):
    return seq * 1000 + k if k % 2 else seq + k / 8.0 + 0.1


def mapping(writer, seq):
    return OrderedDict(("%s.s%d.k%d" % (writer, seq, k), value(seq, k)) for k in range(SIZES[seq % len(SIZES)]))


class Check(object):
    """Reads a stream of lines and checks, as it goes, that each line is whole (one JSON
    object, one writer, at most PIPE_BUF bytes) and that each writer's pairs come exactly in
    the order it emitted them, none missing, none twice."""

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
        for name, number in pairs:
            expected = "%s.s%d.k%d" % (writer, seq, k)
            assert (name, number) == (expected, value(seq, k)), (
                "writer %s: %r where %r was due (lost, repeated, reordered or mixed lines)"
                % (writer, (name, number), (expected, value(seq, k))))
            k += 1
            if k == SIZES[seq % len(SIZES)]:
                seq, k = seq + 1, 0
        self._next[writer] = (seq, k)
        self.lines += 1

    def done(self, counts):
        """Assert that writer w's last pair was the last of its counts[w] mappings."""
        assert self._next == dict((writer, (count, 0)) for writer, count in counts.items())


# Run by each writer process (after test_fifo.CHILD_PRELUDE): THREADS threads, each emitting
# its COUNT mappings through the public benchmarkai.emit, then a report of how it went:
# seconds, the longest emit() and the type of each error that stopped a thread.
WRITER = '''
import threading
sys.path.insert(0, %(here)r)
from workload import mapping, writer_name

errors = []
longest = [0.0]  # the longest a single emit() took


def write(mappings):
    try:
        for metrics in mappings:
            before = time.time()
            benchmarkai.emit(metrics)
            longest[0] = max(longest[0], time.time() - before)
    except Exception as error:
        errors.append(type(error).__name__)


work = [[mapping(writer_name(%(process)d, thread), seq) for seq in range(%(count)d)]
        for thread in range(%(threads)d)]
threads = [threading.Thread(target=write, args=(mappings,)) for mappings in work]
started = time.time()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
report(seconds=time.time() - started, errors=errors, longest=longest[0])
'''
