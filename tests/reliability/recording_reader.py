"""A FIFO reader for the stress and fault tests: it records the raw bytes it takes out of the
FIFO in a file, until EOF.

With os.splice (Linux, Python 3.10+) the kernel moves the bytes from the pipe into the file in
one step, so a reader killed at any moment has recorded everything it took out of the pipe:
what is not in the file is still in the pipe, for the next reader. Elsewhere it reads and
writes, and a kill between the two loses the one chunk in its hands.

usage: recording_reader.py FIFO RECORD
"""
import os
import sys

CHUNK = 1 << 16


def main():
    fifo_path, record_path = sys.argv[1:3]
    fd = os.open(fifo_path, os.O_RDONLY)
    record = os.open(record_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stderr.write("open\n")
    sys.stderr.flush()
    splice = getattr(os, "splice", None)
    while True:
        if splice is not None:
            moved = splice(fd, record, CHUNK)
        else:
            chunk = os.read(fd, CHUNK)
            moved = len(chunk) and os.write(record, chunk)
        if not moved:
            break


if __name__ == "__main__":
    main()
