"""Run pytest under valgrind memcheck against a debug (-O0 -g) build of _fastemit, and fail
on any memcheck error with a frame of our extension in its stack.

usage: python .ci/valgrind.py REPORT.xml PYTEST_ARGS...

Memory errors (invalid reads and writes, uninitialised values...) and definite leaks are
reported; "possibly lost" blocks are objects CPython never frees at exit, and are not.
CPython's own reports are counted, not failed on (python3.supp silences the known ones).
Child processes (readers, child interpreters) run natively, not under valgrind.
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

SUPPRESSIONS = "/usr/lib/valgrind/python3.supp"


def extension_path():
    from benchmarkai import _fastemit
    return _fastemit.__file__


def built_for_debugging(path):
    """Whether the extension's debug info says it was compiled with -O0 -g (not a cached
    optimised build)."""
    info = subprocess.check_output(["readelf", "--debug-dump=info", "--dwarf-depth=1", path])
    producers = [line for line in info.decode("utf-8", "replace").splitlines() if "DW_AT_producer" in line]
    return bool(producers) and all(" -O0" in line and " -g" in line for line in producers)


def ours(error):
    """Whether a memcheck error has a frame of _fastemit in its stack."""
    for frame in error.iter("frame"):
        where = " ".join((frame.findtext(tag) or "") for tag in ("obj", "fn", "file"))
        if "_fastemit" in where or "__pyx_" in where:
            return True
    return False


def main():
    report, pytest_args = sys.argv[1], sys.argv[2:]
    path = extension_path()
    if not built_for_debugging(path):
        sys.exit("%s was not compiled with -O0 -g: a cached optimised build?" % path)
    command = ["valgrind", "--tool=memcheck", "--suppressions=" + SUPPRESSIONS, "--num-callers=30",
               "--leak-check=full", "--show-leak-kinds=definite", "--xml=yes", "--xml-file=" + report,
               sys.executable, "-m", "pytest"] + pytest_args
    environ = dict(os.environ, PYTHONMALLOC="malloc")  # every object through malloc: memcheck sees it
    status = subprocess.call(command, env=environ)
    errors = ElementTree.parse(report).getroot().findall("error")
    mine = [error for error in errors if ours(error)]
    for error in mine:
        sys.stderr.write("%s\n" % ElementTree.tostring(error).decode("utf-8", "replace"))
    print("valgrind memcheck: %d errors in total, %d with a _fastemit frame (pytest exit status %d); "
          "details in %s" % (len(errors), len(mine), status, report))
    sys.exit(1 if mine else status)


if __name__ == "__main__":
    main()
