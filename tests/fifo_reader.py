"""A FIFO reader process for the tests, standing in for the infrastructure's sidecar.

It prints every complete line it takes out of the FIFO to stdout, flushed at once, so a
test knows exactly which lines it received, even if the reader is killed.

usage: fifo_reader.py PATH [--after-file F] [--create-after S] [--open-after S] [--stall S]
                      [--exit-after N] [--keep-open]
  --after-file F    wait until file F exists before anything else (the clock of the options
                    below starts then), so a test can start the reader at a known point
  --create-after S  create the FIFO (mkfifo) after S seconds, as a late sidecar would
  --open-after S    open it for reading only after S seconds
  --stall S         after opening, read nothing for S seconds (the pipe fills up)
  --exit-after N    exit after N lines (an EOF before that also ends it)
  --keep-open       hold a write end too, as a sidecar does, so that the last writer closing
                    is no EOF (use with --exit-after)
"""
import argparse
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--after-file")
    parser.add_argument("--create-after", type=float)
    parser.add_argument("--open-after", type=float, default=0)
    parser.add_argument("--stall", type=float, default=0)
    parser.add_argument("--exit-after", type=int)
    parser.add_argument("--keep-open", action="store_true")
    options = parser.parse_args()
    while options.after_file and not os.path.exists(options.after_file):
        time.sleep(0.01)
    if options.create_after is not None:
        time.sleep(options.create_after)
        os.mkfifo(options.path)
    time.sleep(options.open_after)
    fd = os.open(options.path, os.O_RDONLY)
    if options.keep_open:
        os.open(options.path, os.O_WRONLY)  # closed when this process exits
    sys.stderr.write("open\n")
    sys.stderr.flush()
    time.sleep(options.stall)
    out = getattr(sys.stdout, "buffer", sys.stdout)
    pending = b""
    count = 0
    # Past --exit-after, finish the line in hand: its rest is already in the pipe.
    while options.exit_after is None or count < options.exit_after or pending:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            out.write(line + b"\n")
            count += 1
        out.flush()
    if pending:
        out.write(b"INCOMPLETE " + pending + b"\n")  # only an EOF mid-line gets here
        out.flush()


if __name__ == "__main__":
    main()
