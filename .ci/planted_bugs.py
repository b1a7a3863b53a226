"""Planted bugs in the compiled module and its float formatter, which mutation tools cannot
mutate (``tox -e cython-mutants``): each is one small textual change of the kind a real edit
could make. Each is applied in turn to a copy of the checkout (scratch_tree.py), the
extension rebuilt, the tests run (stopping at the first failure); each must be caught.

usage: python .ci/planted_bugs.py REPO [NAME ...]   (default: every bug below)

A bug whose text is no longer found in its file is reported as stale: update this list
when the code it plants into changes.
"""
import os
import subprocess
import sys
import time

import scratch_tree

# The tests of the compiled module, quickest first; "-k not python" leaves the fallback's.
TESTS = ["tests/test_lines.py", "tests/test_value_kinds.py", "tests/test_validation.py", "tests/test_boundaries.py",
         "tests/test_float_repr.py",
         "tests/test_modes.py", "tests/test_memory.py", "tests/test_signals.py", "tests/test_timing.py",
         "tests/test_refcounts.py", "tests/test_fifo.py", "tests/test_parity.py", "-k", "not python"]
PYX = "src/_fastemit.pyx"
FLOATS = "src/_float_repr.h"

# (name, file, text, its replacement)
BUGS = [
    ("room check off by one: a line of PIPE_BUF + 1 bytes", PYX,
     "if buf.length - lines.start + LINE_END > lines.limit:",
     "if buf.length - lines.start + LINE_END - 1 > lines.limit:"),
    ("pair-too-long check off by one", PYX,
     "if pair_size + LINE_MARKS > lines.limit:", "if pair_size + LINE_MARKS - 1 > lines.limit:"),
    ("several lines written as one (not atomic)", PYX,
     "self._write_lines(&buf, lines.start == 0)", "self._write_lines(&buf, True)"),
    ("wrong escape: form feed as \\b", PYX, "SHORT_ESCAPES[0x0c] = c'f'", "SHORT_ESCAPES[0x0c] = c'b'"),
    ("upper-case hex digits in \\u escapes", PYX,
     'HEX_DIGITS = b"0123456789abcdef"', 'HEX_DIGITS = b"0123456789ABCDEF"'),
    ("DEL left unescaped", PYX, "0x20 <= _code <= 0x7e", "0x20 <= _code <= 0x7f"),
    ("backslash taken as plain by the word-at-a-time check", PYX,
     "| ((word ^ 0x5c * ones) - ones)", "| ((word ^ 0x5d * ones) - ones)"),
    ("low surrogate of an astral character cut to 9 bits", PYX,
     "0xdc00 | (code & 0x3ff)", "0xdc00 | (code & 0x1ff)"),
    ("minus sign lost on -1", PYX, "    if value < 0:\n        start -= 1", "    if value < -1:\n        start -= 1"),
    ("stdout line not flushed", PYX, "half a line\n            stdout.flush()", "half a line"),
    ("unbounded escaped-name cache", PYX, "ESCAPED_NAMES.clear()", "pass"),
    ("signal check skipped on EINTR", PYX, "PyErr_CheckSignals()  # run", "pass  # run"),
    ("full pipe retried in a busy loop", PYX, "wait_for_room(self._fd)  # the pipe", "pass  # the pipe"),
    ("generation not taken after a recovery", PYX,
     "self._fifo.recover(self._generation)\n                self._generation = self._fifo.generation",
     "self._fifo.recover(self._generation)"),
    # The fast path's other numbers (issue 11).
    ("a float subclass's own __float__ asked", PYX,
     "append_float(buf, PyFloat_AS_DOUBLE(value))  # the double itself", "append_float(buf, float(value))  # the"),
    ("an int subclass's own __index__ asked", PYX,
     "PyLong_AsLongLongAndOverflow(value, &overflow)  # its value",
     "PyLong_AsLongLongAndOverflow(value.__index__(), &overflow)  # its value"),
    ("__float__ used before __index__", PYX,
     "if (PyIndex_Check(value)) {", "if (PyIndex_Check(value) && number->nb_float == NULL) {"),
    ("__float__ not tried after __index__ refused", PYX,
     "PyErr_Clear();  /* e.g. a float tensor", "return NULL;  /* e.g. a float tensor"),
    ("numpy.bool_ written inverted", PYX, "    if truth:\n        return append(buf, b\"true\"",
     "    if not truth:\n        return append(buf, b\"true\""),
    ("cache of types not invalidated when a type changes", PYX,
     "? ((PyTypeObject *)type)->tp_version_tag : 0", "? 1 : 0"),
    ("cache of types blind to ABC registrations", PYX, "and entry.token == token", ""),
    ("cache of types keeps every type", PYX,
     "entry.type = <void *>kind\n", "entry.type = <void *>kind\n        ESCAPED_NAMES[kind] = kind\n"),
    ("__float__ written in Python called on the fast path", PYX,
     "\n                                  || number->nb_float == benchmarkai_python_float)", ")"),
    ("__index__ written in Python called on the fast path", PYX,
     "number->nb_index == benchmarkai_python_index\n                                  || ", ""),
    ("a Python class that calls itself numpy.bool_ converted on the fast path", PYX,
     "found == NUMPY_BOOL and benchmarkai_is_python_class(kind)", "False"),
    ("KeyboardInterrupt in a conversion cleared", PYX,
     "PyErr_ExceptionMatches(PyExc_Exception)", "PyErr_ExceptionMatches(PyExc_BaseException)"),
    # 0-d float arrays read from their data (unaligned: x86 reads those right, no test sees it).
    ("0-d float32 array read as a double", PYX, "*real = *(const float *)array->data;",
     "*real = *(const double *)array->data;"),
    ("byte-swapped 0-d arrays read from their data", PYX,
     "dtype->kind != 'f' || dtype->byteorder != '='", "dtype->kind != 'f'"),
    ("arrays of any dimension read as 0-d", PYX, "array->nd != 0 || ", ""),
    ("float16 and long double arrays read as doubles", PYX,
     "if (dtype->type_num == BENCHMARKAI_NPY_DOUBLE)", "if (dtype->type_num != BENCHMARKAI_NPY_FLOAT)"),
    # Not planted: a type named numpy.ndarray that is not numpy's read as one (fast_kind's
    # benchmarkai_is_ndarray_type dropped). A Python class with conversions of its own is
    # OTHER before that check, and a subclass of numpy's ndarray is read right; only the
    # memory of another C type read as an array would show it (tried: not caught).
    ("float-format threshold: 1e-05 written positionally", FLOATS,
     "if (point <= -4 || point > 16)", "if (point < -4 || point > 16)"),
    ("float-format threshold: 1e+16 written positionally", FLOATS,
     "if (point <= -4 || point > 16)", "if (point <= -4 || point > 17)"),
    ("three-digit exponent from 101 only", FLOATS, "if (x >= 100)", "if (x > 100)"),
    ("halfway case rounded to odd", FLOATS, "(s & 1) == 0", "(s & 1) == 1"),
    ("interval below a power of two as wide as above", FLOATS, "cb_low = cb - 1;", "cb_low = cb - 2;"),
    ("eight-digit multiplier rounded down", FLOATS, "n * UINT64_C(144115188076)", "n * UINT64_C(144115188075)"),
]


def main(repo, names):
    work = os.path.join(repo, ".tox", "cython-mutants-work")
    tree = os.path.join(work, "tree")
    os.nice(10)  # a shared machine: the others' work first
    scratch_tree.copy(repo, tree)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"] + TESTS
    environ = scratch_tree.environ(tree)
    if subprocess.call(command, cwd=tree, env=environ, stdout=subprocess.DEVNULL) != 0:
        sys.exit("the tests fail without any planted bug: %s" % " ".join(command))
    selected = [bug for bug in BUGS if not names or bug[0] in names]
    missed = []
    started = time.time()
    for name, path, text, replacement in selected:
        outcome = plant_and_test(tree, path, text, replacement, command, environ)
        sys.stdout.write("%-8s %s (%s)\n" % (outcome, name, os.path.basename(path)))
        sys.stdout.flush()
        if outcome != "caught":
            missed.append(name)
    scratch_tree.build(tree)  # back to the code as it is
    sys.stdout.write("%d of %d planted bugs caught in %.0f s%s\n" % (
        len(selected) - len(missed), len(selected), time.time() - started,
        "; not caught: " + ", ".join(missed) if missed else ""))
    return 1 if missed else 0


def plant_and_test(tree, path, text, replacement, command, environ):
    """'caught', 'MISSED' or 'STALE' (the text is not in the file once)."""
    full_path = os.path.join(tree, path)
    with open(full_path) as source:
        original = source.read()
    if original.count(text) != 1:
        return "STALE"
    try:
        with open(full_path, "w") as out:
            out.write(original.replace(text, replacement))
        scratch_tree.build(tree)
        failed = subprocess.call(command, cwd=tree, env=environ, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, timeout=300) != 0
    except subprocess.TimeoutExpired:
        failed = True  # a bug that hangs the tests is caught too
    finally:
        with open(full_path, "w") as out:
            out.write(original)
    return "caught" if failed else "MISSED"


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1]), sys.argv[2:]))
