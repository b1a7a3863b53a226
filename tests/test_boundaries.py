"""At the limits PIPE_BUF sets, where the other tests stay clear of them: a pair whose line
would be one byte too long, and a split mapping meeting a pipe with room for one line only.
Each catches a bug planted by .ci/planted_bugs.py that every other test passed."""
import collections
import errno
import json
import os
import select
import threading
import time

import pytest

PIPE_BUF = select.PIPE_BUF


def test_a_pair_one_byte_too_long_for_a_line_is_refused(impl, in_process_fifo):
    """Catches the pair-too-long check off by one: a line of PIPE_BUF + 1 bytes went out."""
    fits = u"s" * (PIPE_BUF - 7)  # {"s...":1}\n is PIPE_BUF bytes
    in_process_fifo.emit({fits: 1})
    assert len(in_process_fifo.read()) == PIPE_BUF
    with pytest.raises(ValueError) as caught:
        in_process_fifo.emit({fits + u"s": 1})
    assert "alone it makes a %d-byte line" % (PIPE_BUF + 1) in str(caught.value)
    assert in_process_fifo.read() == b""


def read_all(fd):
    chunks = []
    while True:
        try:
            chunks.append(os.read(fd, 1 << 16))
        except OSError as error:
            if error.errno != errno.EAGAIN:
                raise
            return b"".join(chunks)


def test_a_split_mapping_is_written_a_line_at_a_time(impl, in_process_fifo):
    """A mapping of two lines, emitted when the pipe has room for one page only: the first line
    goes in, the emit waits for room for the second. Catches the lines handed to one write(2):
    larger than PIPE_BUF, it is no longer atomic, and a pipe with some room takes part of it
    and drops the rest (the emit returned with half a line written)."""
    in_process_fifo.emit({u"opened": 1})
    fd, read_fd = in_process_fifo.fifo.fd, in_process_fifo.read_fd
    read_all(read_fd)
    while True:  # fill the pipe, a page at a time
        try:
            os.write(fd, b"#" * PIPE_BUF)
        except OSError as error:
            if error.errno != errno.EAGAIN:
                raise
            break
    assert len(os.read(read_fd, PIPE_BUF)) == PIPE_BUF  # room for one page now
    # About 1.5 PIPE_BUF of pairs "m.0000":0.5 (12 bytes and a comma): two lines.
    metrics = collections.OrderedDict((u"m.%04d" % i, 0.5) for i in range(PIPE_BUF * 3 // 2 // 13))
    emitting = threading.Thread(target=in_process_fifo.emit, args=(metrics,))
    emitting.start()
    time.sleep(0.3)
    received = []
    while emitting.is_alive():  # the reader makes room while the emit waits for it
        received.append(read_all(read_fd))
        time.sleep(0.01)
    emitting.join()
    received.append(read_all(read_fd))  # what it wrote after the last read
    lines = b"".join(received).lstrip(b"#").split(b"\n")
    assert lines.pop() == b"" and len(lines) == 2, lines[-1][-100:]
    assert [len(line) + 1 <= PIPE_BUF for line in lines] == [True, True]
    pairs = [pair for line in lines for pair in json.loads(line.decode("ascii"), object_pairs_hook=list)]
    assert pairs == list(metrics.items())


def test_the_line_after_a_split_is_filled_to_the_byte_too(impl, in_process_fifo):
    """Two lines of exactly PIPE_BUF bytes: the second line's size is counted from its "{",
    as the first one's is. Catches that count off by one after a split (the fallback then
    made a third line of its last pair)."""
    first = (u"a" * (PIPE_BUF - 7), 1)  # {"a...":1}\n
    second = [(u"b" * (PIPE_BUF - 13), 1), (u"c", 3)]  # {"b...":1,"c":3}\n
    in_process_fifo.emit(collections.OrderedDict([first] + second))
    raw = in_process_fifo.read()
    assert [len(line) + 1 for line in raw.split(b"\n")[:-1]] == [PIPE_BUF, PIPE_BUF]


def test_a_pair_too_long_only_once_escaped_is_refused(impl, in_process_fifo):
    """700 DELs: 700 bytes as ujson writes them, 4200 escaped as the line holds them. Catches
    the fallback's bound for texts that surely fit loosened (ujson's text taken as the line's
    length: the fallback wrote what the compiled module refuses)."""
    with pytest.raises(ValueError) as caught:
        in_process_fifo.emit({u"\x7f" * 700: 1})
    assert "does not fit in one line" in str(caught.value)
    assert in_process_fifo.read() == b""
