# cython: language_level=3
"""The compiled emit(): checks a metrics mapping, writes its JSON into a bounded C buffer and
hands each line to one write(2), made with the GIL held: the FIFO's descriptor is
non-blocking, and only a full pipe is waited for with the GIL released. Its lines and errors
are those of benchmarkai._fallback.

Two paths. The fast path writes an exact dict of str names whose values it knows: exact
floats, ints, str, bools and None, and the numbers of other types that convert cleanly (see
append_converted). The first pair it cannot take sends the whole mapping down the plain
path: benchmarkai._validation.plain_metrics, the fallback's own check, and its plain result
(lists and dicts included) written here.

Read top-down: C declarations, sizes, the buffer, text, names, numbers, the cache of types,
values, pairs and lines; the Emitter, which uses them all, comes last.
"""
from cpython.dict cimport PyDict_Next
from cpython.exc cimport PyErr_Occurred
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_Check, PyFloat_CheckExact
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_CheckExact
from libc.errno cimport EAGAIN, EINTR, EPIPE, errno
from libc.math cimport isinf, isnan
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcpy, memmove, memset
from posix.unistd cimport write

import os
import sys

from benchmarkai._fifo import PIPE_BUF, wait_for_room
from benchmarkai import _validation
from benchmarkai._validation import abc_token, pair_too_long, plain_metrics, type_kind

IMPLEMENTATION = "cython"

cdef extern from "_float_repr.h":
    enum: BAI_DOUBLE_CHARS
    int bai_format_double(double value, char *out) noexcept nogil

cdef extern from "Python.h":
    enum: PY_SSIZE_T_MAX
    long long PyLong_AsLongLongAndOverflow(object value, int *overflow) except? -1
    int PyErr_CheckSignals() except -1
    object PyUnicode_DecodeASCII(const char *data, Py_ssize_t size, const char *errors)
    object PyBytes_FromStringAndSize(const char *data, Py_ssize_t size)
    char *PyBytes_AS_STRING(object data)
    Py_ssize_t PyBytes_GET_SIZE(object data)
    PyObject *PyDict_GetItem(object mapping, object key)  # borrowed, or NULL: no error set
    int Py_EnterRecursiveCall(const char *where) except -1
    void Py_LeaveRecursiveCall()

cdef extern from *:
    """
    #if PY_MAJOR_VERSION < 3
    #define BENCHMARKAI_INT_CHECK_EXACT(o) (PyInt_CheckExact(o) || PyLong_CheckExact(o))
    #else
    #define BENCHMARKAI_INT_CHECK_EXACT(o) PyLong_CheckExact(o)
    #endif
    /* A str of ASCII characters only, stored as one byte each (Python 3.3+), has its
       characters as bytes already: their address, or NULL for any other str. */
    #if PY_MAJOR_VERSION < 3
    #define BENCHMARKAI_ASCII_DATA(o) ((const char *)NULL)
    #else
    #define BENCHMARKAI_ASCII_DATA(o) (PyUnicode_IS_COMPACT_ASCII(o) ? (const char *)PyUnicode_DATA(o) : NULL)
    #endif
    """
    bint BENCHMARKAI_INT_CHECK_EXACT(object value)
    const char *BENCHMARKAI_ASCII_DATA(object text)
    enum: PY_MAJOR_VERSION

cdef extern from *:
    """
    /* The version tag of ``type``, or 0 when it has no valid one now. CPython gives a type a
       new tag whenever it or a base changes (an attribute set or deleted, __bases__ assigned),
       and never gives one tag to two types (2.7: not before 2**32 tags). */
    static unsigned int benchmarkai_version_tag(PyObject *type) {
        return PyType_HasFeature((PyTypeObject *)type, Py_TPFLAGS_VALID_VERSION_TAG)
            ? ((PyTypeObject *)type)->tp_version_tag : 0;
    }

    /* A conversion raised: 0 with its error cleared, when it is an Exception, which
       _validation meets again and reports; -1 for any other (KeyboardInterrupt, SystemExit),
       which must not be lost. */
    static int benchmarkai_failed(void) {
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return -1;
        PyErr_Clear();
        return 0;
    }

    /* The slots CPython gives every class that defines __index__ or __float__ in Python:
       they run the class's own code, which may change the mapping being written. */
    static unaryfunc benchmarkai_python_index = NULL, benchmarkai_python_float = NULL;

    static void benchmarkai_note_python_slots(PyObject *python_class) {
        PyNumberMethods *number = ((PyTypeObject *)python_class)->tp_as_number;
        benchmarkai_python_index = number->nb_index;
        benchmarkai_python_float = number->nb_float;
    }

    /* Whether converting a value of ``type`` with benchmarkai_number may run Python code:
       its __index__ or __float__ is written in Python. */
    static int benchmarkai_converts_in_python(PyObject *type) {
        PyNumberMethods *number = ((PyTypeObject *)type)->tp_as_number;
        return number != NULL && (number->nb_index == benchmarkai_python_index
                                  || number->nb_float == benchmarkai_python_float);
    }

    static int benchmarkai_is_python_class(PyObject *type) {
        return PyType_HasFeature((PyTypeObject *)type, Py_TPFLAGS_HEAPTYPE);
    }

    /* A slot's result ``result`` (not NULL) when it is ``exact``ly the type wanted; else
       NULL, with no error set, and the reference dropped. */
    static PyObject *benchmarkai_if_exact(PyObject *result, int exact) {
        if (exact)
            return result;
        Py_DECREF(result);
        return NULL;
    }

    /* As _validation._number converts a value whose type has __index__ or __float__, both
       written in C (benchmarkai_converts_in_python is false for it): operator.index(value),
       or, if the type has no __index__, or it raises a TypeError and the type has
       __float__, float(value); the slots themselves, in that order. A new reference to the
       exact int or float they give; or NULL, with no error set for anything else (a
       subclass, a wrong type, an Exception: _validation calls them again, and reports it),
       or with the error set for a BaseException that is not an Exception. */
    static PyObject *benchmarkai_number(PyObject *value) {
        PyNumberMethods *number = Py_TYPE(value)->tp_as_number;
        PyObject *result;
        if (PyIndex_Check(value)) {
            result = number->nb_index(value);
            if (result != NULL)
                return benchmarkai_if_exact(result, BENCHMARKAI_INT_CHECK_EXACT(result));
            if (!PyErr_ExceptionMatches(PyExc_TypeError) || number->nb_float == NULL) {
                benchmarkai_failed();
                return NULL;
            }
            PyErr_Clear();  /* e.g. a float tensor: __float__ may serve */
        }
        if (number == NULL || number->nb_float == NULL)
            return NULL;
        result = number->nb_float(value);
        if (result != NULL)
            return benchmarkai_if_exact(result, PyFloat_CheckExact(result));
        benchmarkai_failed();
        return NULL;
    }

    /* The leading fields of numpy's ndarray and dtype objects, which every compiled numpy
       extension reads directly (PyArray_DATA, PyArray_NDIM, PyArray_DESCR): numpy's stable
       ABI, the same in 1.x and 2.x up to type_num. Declared here: numpy is neither needed to
       build nor imported. */
    typedef struct {
        PyObject_HEAD
        PyTypeObject *typeobj;
        char kind;
        char type;
        char byteorder;
        char unused;  /* flags in numpy 1.x */
        int type_num;
    } benchmarkai_dtype;

    typedef struct {
        PyObject_HEAD
        char *data;
        int nd;
        Py_intptr_t *dimensions;
        Py_intptr_t *strides;
        PyObject *base;
        benchmarkai_dtype *descr;
        int flags;
    } benchmarkai_ndarray;

    #define BENCHMARKAI_NPY_ALIGNED 0x100
    #define BENCHMARKAI_NPY_FLOAT 11
    #define BENCHMARKAI_NPY_DOUBLE 12

    /* Whether values of ``type`` (type_kind's NUMPY_ARRAY: named numpy.ndarray) can be read
       as below: a static type of an ndarray's size at least. A Python class that calls
       itself numpy.ndarray is never read. */
    static int benchmarkai_is_ndarray_type(PyObject *type) {
        return !benchmarkai_is_python_class(type)
            && ((PyTypeObject *)type)->tp_basicsize >= (Py_ssize_t)sizeof(benchmarkai_ndarray);
    }

    /* For ``value``, of a type benchmarkai_is_ndarray_type takes: 1 and its double in *real
       when it is 0-d, aligned, in the machine's byte order ('=': numpy keeps no NOTSWAPPED
       flag in the array, it asks the dtype) and of C doubles or floats (widened exactly);
       then operator.index raises a TypeError and float() gives that double. 0 for any other
       array, which the number protocol serves. */
    static int benchmarkai_array_double(PyObject *value, double *real) {
        benchmarkai_ndarray *array = (benchmarkai_ndarray *)value;
        benchmarkai_dtype *dtype;
        if (array->nd != 0 || !(array->flags & BENCHMARKAI_NPY_ALIGNED))
            return 0;
        dtype = array->descr;
        if (dtype->kind != 'f' || dtype->byteorder != '=')
            return 0;
        if (dtype->type_num == BENCHMARKAI_NPY_DOUBLE)
            *real = *(const double *)array->data;
        else if (dtype->type_num == BENCHMARKAI_NPY_FLOAT)
            *real = *(const float *)array->data;
        else
            return 0;  /* float16, long double */
        return 1;
    }
    """
    unsigned int benchmarkai_version_tag(object kind) noexcept
    int benchmarkai_failed() noexcept
    void benchmarkai_note_python_slots(object python_class)
    int benchmarkai_converts_in_python(object kind) noexcept
    int benchmarkai_is_python_class(object kind) noexcept
    int benchmarkai_is_ndarray_type(object kind) noexcept
    PyObject *benchmarkai_number(object value)  # a new reference, or NULL
    int benchmarkai_array_double(object value, double *real) noexcept
    int PyObject_IsTrue(object value) noexcept  # -1 and an error set if it raises
    void Py_DECREF_raw "Py_DECREF"(PyObject *value) noexcept



# ---- Sizes ----------------------------------------------------------------------------------

cdef enum:
    STACK_BYTES = 8192       # a call's own buffer; longer output moves to the heap
    MAX_ESCAPED = 12         # one code point escaped as a surrogate pair: \ud83d\ude00
    QUOTES = 2               # the two " around a text
    NAME_MARKS = 3           # the two " and the : of "name":
    LINE_END = 2             # "}\n"
    LINE_MARKS = 3           # "{" and "}\n" around a line's pairs
    LINE_BREAK_SIZE = 3      # "}\n{", which the "," before a pair becomes when it opens a line
    LONG_LONG_CHARS = 20     # -9223372036854775808
    CACHED_NAMES = 1024      # most entries in ESCAPED_NAMES
    CACHED_NAME_CHARS = 100  # longer names are escaped on every call, never cached
    CACHED_NAME_BYTES = CACHED_NAME_CHARS * MAX_ESCAPED + NAME_MARKS
    CACHED_TYPES = 64        # entries in TYPE_KINDS

# What the writers of values, pairs and mappings return (or -1, with an exception set).
cdef enum:
    NOT_FAST = 0  # the fast path does not take it: nothing may be kept, plain_metrics decides
    WRITTEN = 1
    TOO_LONG = 2  # a pair that alone makes a line longer than the limit (end_pair)


# ---- The buffer: a call's stack array, moved to the heap when it fills -----------------------

cdef struct Buffer:
    char *data
    Py_ssize_t length
    Py_ssize_t capacity
    bint on_heap


cdef inline void stack_buffer(Buffer *buf, char *stack, Py_ssize_t size) noexcept:
    buf.data = stack
    buf.length = 0
    buf.capacity = size
    buf.on_heap = False


cdef inline void release(Buffer *buf) noexcept:
    if buf.on_heap:
        PyMem_Free(buf.data)


cdef int grow(Buffer *buf, Py_ssize_t needed) except -1:
    cdef Py_ssize_t capacity
    cdef char *data
    if needed > PY_SSIZE_T_MAX // 2 - buf.length:
        raise MemoryError()
    capacity = max(buf.capacity * 2, buf.length + needed)
    if buf.on_heap:
        data = <char *>PyMem_Realloc(buf.data, capacity)
    else:
        data = <char *>PyMem_Malloc(capacity)
        if data != NULL:
            memcpy(data, buf.data, buf.length)
    if data == NULL:
        raise MemoryError()
    buf.data = data
    buf.capacity = capacity
    buf.on_heap = True
    return 0


cdef inline int reserve(Buffer *buf, Py_ssize_t needed) except -1:
    if needed > buf.capacity - buf.length:
        grow(buf, needed)
    return 0


cdef inline int append(Buffer *buf, const char *data, Py_ssize_t size) except -1:
    reserve(buf, size)
    memcpy(buf.data + buf.length, data, size)
    buf.length += size
    return 0


# ---- Text, escaped as json.dumps(ensure_ascii=True) escapes it --------------------------------

cdef const char *HEX_DIGITS = b"0123456789abcdef"

# 1 for the ASCII characters json writes as they are (printable, not " or \), else 0.
cdef char PLAIN_ASCII[0x80]
for _code in range(0x80):
    PLAIN_ASCII[_code] = 0x20 <= _code <= 0x7e and _code != 0x22 and _code != 0x5c

# The characters json escapes with a letter (\n, \"...), indexed by code point; 0 for the rest.
cdef char SHORT_ESCAPES[0x5d]
memset(SHORT_ESCAPES, 0, sizeof(SHORT_ESCAPES))
SHORT_ESCAPES[0x08] = c'b'
SHORT_ESCAPES[0x09] = c't'
SHORT_ESCAPES[0x0a] = c'n'
SHORT_ESCAPES[0x0c] = c'f'
SHORT_ESCAPES[0x0d] = c'r'
SHORT_ESCAPES[0x22] = c'"'
SHORT_ESCAPES[0x5c] = c'\\'


cdef inline Py_ssize_t escape_u(char *out, unsigned int unit) noexcept:
    out[0] = c'\\'
    out[1] = c'u'
    out[2] = HEX_DIGITS[(unit >> 12) & 0xf]
    out[3] = HEX_DIGITS[(unit >> 8) & 0xf]
    out[4] = HEX_DIGITS[(unit >> 4) & 0xf]
    out[5] = HEX_DIGITS[unit & 0xf]
    return 6


cdef inline Py_ssize_t escape(char *out, unsigned int code) noexcept:
    """Write code point ``code`` escaped; return its size (MAX_ESCAPED at most)."""
    if code < sizeof(SHORT_ESCAPES) and SHORT_ESCAPES[code]:
        out[0] = c'\\'
        out[1] = SHORT_ESCAPES[code]
        return 2
    if code >= 0x10000:  # outside the BMP: a UTF-16 surrogate pair, as json writes it
        code -= 0x10000
        escape_u(out, 0xd800 | (code >> 10))
        return 6 + escape_u(out + 6, 0xdc00 | (code & 0x3ff))
    return escape_u(out, code)


cdef int append_escaped(Buffer *buf, unicode text, const char *end, Py_ssize_t end_size) except -1:
    """Append ``"``, ``text`` escaped, and ``end``: a character at a time."""
    cdef Py_UCS4 ch
    cdef unsigned int code
    append(buf, b'"', 1)
    for ch in text:
        code = ch
        reserve(buf, MAX_ESCAPED)
        if code < 0x80 and PLAIN_ASCII[code]:
            buf.data[buf.length] = <char>code
            buf.length += 1
        else:
            buf.length += escape(buf.data + buf.length, code)
    return append(buf, end, end_size)


cdef inline bint plain_word(uint64_t word) noexcept:
    """Whether 8 ASCII characters (each below 0x80) are all plain: none below 0x20, 0x7f, \"
    or \\. With no high bit set on entry, each test below sets a high bit somewhere if and
    only if some byte matches it: with no match, no borrow or carry crosses a byte."""
    cdef uint64_t ones = 0x0101010101010101  # 1 in each byte
    return (((word - 0x20 * ones) | (word + ones) | ((word ^ 0x22 * ones) - ones)
             | ((word ^ 0x5c * ones) - ones)) & (0x80 * ones)) == 0


cdef inline bint copy_plain_ascii(char *out, const char *ascii, Py_ssize_t size) noexcept:
    """Copy ``size`` ASCII characters to ``out`` if all are plain, and say whether they were
    (``out`` may then hold some of them). A word at a time, the last one overlapping the one
    before: cheaper than checking a byte at a time, then copying (docs/performance.md)."""
    cdef uint64_t word
    cdef Py_ssize_t i
    if size < 8:
        for i in range(size):
            if not PLAIN_ASCII[<unsigned char>ascii[i]]:
                return False
            out[i] = ascii[i]
        return True
    for i in range(0, size - 8, 8):
        memcpy(&word, ascii + i, 8)
        if not plain_word(word):
            return False
        memcpy(out + i, &word, 8)
    memcpy(&word, ascii + size - 8, 8)
    if not plain_word(word):
        return False
    memcpy(out + size - 8, &word, 8)
    return True


cdef inline bint append_plain(Buffer *buf, unicode text, Py_ssize_t size, const char *end,
                              Py_ssize_t end_size) noexcept:
    """Append ``"``, ``text`` and ``end`` if ``text`` is ASCII with nothing to escape, straight
    from the str (the caller has reserved room for them), and say whether it was."""
    cdef const char *ascii = BENCHMARKAI_ASCII_DATA(text)
    if ascii == NULL or not copy_plain_ascii(buf.data + buf.length + 1, ascii, size):
        return False
    buf.data[buf.length] = c'"'
    memcpy(buf.data + buf.length + 1 + size, end, end_size)
    buf.length += 1 + size + end_size
    return True


cdef inline int append_text(Buffer *buf, unicode text) except -1:
    """Append ``"text"`` (a str value: not cached, unlike names)."""
    cdef Py_ssize_t size = len(text)
    reserve(buf, size + QUOTES)
    if append_plain(buf, text, size, b'"', 1):
        return 0
    return append_escaped(buf, text, b'"', 1)


# ---- Names: "name": ---------------------------------------------------------------------------

# Names that need escaping (not plain ASCII) -> their escaped ``"name":`` bytes, so that a
# name repeated every step is escaped once. Emptied when CACHED_NAMES are in it. Plain ASCII
# names are copied straight from the str instead, which costs less than a look-up here
# (docs/performance.md).
cdef dict ESCAPED_NAMES = {}


cdef bytes escaped_name(unicode name):
    """``"name":`` escaped, as bytes, for ESCAPED_NAMES."""
    cdef char stack[CACHED_NAME_BYTES]
    cdef Buffer buf
    stack_buffer(&buf, stack, CACHED_NAME_BYTES)
    try:
        append_escaped(&buf, name, b'":', 2)
        return PyBytes_FromStringAndSize(buf.data, buf.length)
    finally:
        release(&buf)


cdef int append_escaped_name(Buffer *buf, unicode name, Py_ssize_t size) except -1:
    """append_name for a name with something to escape, or not stored as one byte a
    character: from ESCAPED_NAMES, or escaped afresh when it is too long to cache."""
    cdef PyObject *cached
    if size > CACHED_NAME_CHARS:
        return append_escaped(buf, name, b'":', 2)
    cached = PyDict_GetItem(ESCAPED_NAMES, name)
    if cached == NULL:
        if len(ESCAPED_NAMES) >= CACHED_NAMES:
            ESCAPED_NAMES.clear()  # a program that makes up new names forever
        escaped = escaped_name(name)
        ESCAPED_NAMES[name] = escaped
        cached = <PyObject *>escaped
    return append(buf, PyBytes_AS_STRING(<object>cached), PyBytes_GET_SIZE(<object>cached))


cdef inline int append_name(Buffer *buf, unicode name) except -1:
    """Append ``"name":``: an ASCII name with nothing to escape straight from the str (the
    caller has reserved len(name) + NAME_MARKS bytes), others by append_escaped_name."""
    cdef Py_ssize_t size = len(name)
    if append_plain(buf, name, size, b'":', 2):
        return 0
    return append_escaped_name(buf, name, size)


# ---- Numbers, bools ---------------------------------------------------------------------------

cdef inline int append_float(Buffer *buf, double value) except -1:
    """Append ``value`` as Python's json does: repr() digits, NaN, Infinity, -Infinity."""
    if isnan(value):
        return append(buf, b"NaN", 3)
    if isinf(value):
        return append(buf, b"Infinity", 8) if value > 0 else append(buf, b"-Infinity", 9)
    reserve(buf, BAI_DOUBLE_CHARS)
    buf.length += bai_format_double(value, buf.data + buf.length)
    return 0


cdef int append_long_long(Buffer *buf, long long value) except -1:
    cdef char digits[LONG_LONG_CHARS]
    cdef int start = LONG_LONG_CHARS
    cdef unsigned long long rest = <unsigned long long>value
    if value < 0:
        rest = 0 - rest  # well defined for LLONG_MIN too, unlike -value
    while True:
        start -= 1
        digits[start] = <char>(c'0' + rest % 10)
        rest //= 10
        if rest == 0:
            break
    if value < 0:
        start -= 1
        digits[start] = c'-'
    return append(buf, digits + start, LONG_LONG_CHARS - start)


cdef inline int append_bool(Buffer *buf, bint truth) except -1:
    if truth:
        return append(buf, b"true", 4)
    return append(buf, b"false", 5)


def _format_floats(bytes doubles):
    """The text of each double packed (native order) in ``doubles`` as a line holds it, one
    per line: the tests compare it with repr(), and need no Python object per double here."""
    cdef char stack[STACK_BYTES]
    cdef Buffer buf
    cdef double value
    cdef Py_ssize_t offset
    cdef const char *data = doubles
    stack_buffer(&buf, stack, STACK_BYTES)
    try:
        for offset in range(0, len(doubles) - 7, 8):
            if offset:
                append(&buf, b"\n", 1)
            memcpy(&value, data + offset, 8)
            append_float(&buf, value)
        return PyUnicode_DecodeASCII(buf.data, buf.length, NULL)
    finally:
        release(&buf)


# ---- The cache of types: what the fast path makes of a value that is not a plain one ---------

# type_kind()'s answers, as C ints.
cdef int OTHER = _validation.OTHER
cdef int INT_SUBCLASS = _validation.INT_SUBCLASS
cdef int NUMPY_BOOL = _validation.NUMPY_BOOL
cdef int NUMBER = _validation.NUMBER
cdef int NUMPY_ARRAY = _validation.NUMPY_ARRAY


# A class with __index__ and __float__ written in Python: its slots are those of every such
# class, whose values fast_kind leaves to _validation.
class _PythonNumber(object):
    def __index__(self):
        return 0

    def __float__(self):
        return 0.0


benchmarkai_note_python_slots(_PythonNumber)


# Types whose values are not exact floats, ints, str, bools or None -> their fast_kind(), so
# that a numpy.float32 each step is classified once. Direct-mapped by version tag: one entry
# a tag, and CACHED_TYPES entries at most, each keyed by the type's address and version tag
# (a type that changes gets a new tag, so its entry no longer serves) and the ABC token. It
# holds no reference: a type freed meanwhile is never read through it.
cdef struct TypeKind:
    void *type  # only compared, never read
    unsigned int tag
    long token
    int kind

cdef TypeKind TYPE_KINDS[CACHED_TYPES]  # static: all zero at first, no type
# abc_token() as this emit first read it, or -1: read once a call, not once a value.
cdef long ABC_TOKEN = -1


cdef int fast_kind(type kind) except -1:
    """type_kind(kind), as the fast path can take its values: OTHER where converting them
    here could run Python code, which may change the mapping that _validation reads once,
    before it converts any value (a numpy.bool_ that is a Python class: its __bool__; a
    number whose __index__ or __float__ is written in Python); NUMBER for a NUMPY_ARRAY
    whose values cannot be read as numpy's arrays."""
    cdef int found = type_kind(kind)
    if found == NUMPY_BOOL and benchmarkai_is_python_class(kind):
        return OTHER
    if (found == NUMBER or found == NUMPY_ARRAY) and benchmarkai_converts_in_python(kind):
        return OTHER
    if found == NUMPY_ARRAY and not benchmarkai_is_ndarray_type(kind):
        return NUMBER
    return found


cdef int cached_kind(type kind) except -1:
    """fast_kind(kind), from TYPE_KINDS when it holds the type as it is now."""
    cdef unsigned int tag = benchmarkai_version_tag(kind)
    cdef TypeKind *entry = &TYPE_KINDS[tag % CACHED_TYPES]
    cdef int found
    global ABC_TOKEN
    if ABC_TOKEN < 0:
        ABC_TOKEN = abc_token()
    cdef long token = ABC_TOKEN
    if tag and entry.type == <void *>kind and entry.tag == tag and entry.token == token:
        return entry.kind
    found = fast_kind(kind)
    # Kept only under the tag the type had before: if it changed meanwhile (another thread),
    # or the type had none (type_kind's look-ups give it one), it is classified again next time.
    if tag and benchmarkai_version_tag(kind) == tag:
        entry.type = <void *>kind
        entry.tag = tag
        entry.token = token
        entry.kind = found
    return found


# ---- Values -----------------------------------------------------------------------------------

cdef inline int append_scalar(Buffer *buf, object value) except -1:
    """Append an exact float, an exact int that fits in a long long, an exact str, a bool
    or None: WRITTEN. NOT_FAST, with nothing appended, for anything else."""
    cdef int overflow = 0
    cdef long long integer
    if PyFloat_CheckExact(value):
        append_float(buf, PyFloat_AS_DOUBLE(value))
        return WRITTEN
    if BENCHMARKAI_INT_CHECK_EXACT(value):
        integer = PyLong_AsLongLongAndOverflow(value, &overflow)
        if overflow:
            return NOT_FAST
        append_long_long(buf, integer)
        return WRITTEN
    if PyUnicode_CheckExact(value):
        append_text(buf, <unicode>value)
        return WRITTEN
    if value is True or value is False:
        append_bool(buf, value is True)
        return WRITTEN
    if value is None:
        append(buf, b"null", 4)
        return WRITTEN
    return NOT_FAST


cdef int append_converted(Buffer *buf, object value) except -1:
    """The fast path for a value that is not an exact float, int, str, bool or None: append
    it as _validation._value makes it, WRITTEN; or NOT_FAST, for plain_metrics to do it. A
    float subclass's double (numpy.float64); by its type's kind, an int subclass's int, a
    numpy.bool_'s truth, or the exact int or float that operator.index or float() gives
    (numpy scalars, 0-d arrays), through the slots themselves (benchmarkai_number); a 0-d
    float array's double, read from the array (benchmarkai_array_double)."""
    cdef int overflow = 0
    cdef long long integer
    cdef int truth
    cdef int kind
    cdef PyObject *number
    cdef double real
    if PyFloat_Check(value):
        append_float(buf, PyFloat_AS_DOUBLE(value))  # the double itself, as float.__float__
        return WRITTEN
    kind = cached_kind(type(value))
    if kind == INT_SUBCLASS:
        integer = PyLong_AsLongLongAndOverflow(value, &overflow)  # its value: no method asked
        if overflow:
            return NOT_FAST
        append_long_long(buf, integer)
        return WRITTEN
    if kind == NUMPY_BOOL:
        truth = PyObject_IsTrue(value)
        if truth < 0:
            return benchmarkai_failed()  # NOT_FAST, or -1 for a KeyboardInterrupt
        append_bool(buf, truth)
        return WRITTEN
    if kind == NUMPY_ARRAY:
        # A 0-d float array's __index__ builds a TypeError every time before float() gives
        # its double: read the double where it is.
        if benchmarkai_array_double(value, &real):
            append_float(buf, real)
            return WRITTEN
    elif kind != NUMBER:
        return NOT_FAST
    number = benchmarkai_number(value)
    if number == NULL:
        return -1 if PyErr_Occurred() != NULL else NOT_FAST
    try:
        return append_scalar(buf, <object>number)  # an exact float, or int (NOT_FAST if too big)
    finally:
        Py_DECREF_raw(number)


cdef inline int append_fast_value(Buffer *buf, object value) except -1:
    """Append ``value`` from the user's dict, WRITTEN; or NOT_FAST, with nothing kept."""
    if append_scalar(buf, value) == WRITTEN:
        return WRITTEN
    if BENCHMARKAI_INT_CHECK_EXACT(value):
        return NOT_FAST  # past a long long: its digits come through Python, on the plain path
    return append_converted(buf, value)


cdef int append_plain_value(Buffer *buf, object value) except -1:
    """Append ``value``, plain data from plain_metrics: a scalar, a big int, a list or a
    dict. Always WRITTEN."""
    if append_scalar(buf, value) == WRITTEN:
        return WRITTEN
    if BENCHMARKAI_INT_CHECK_EXACT(value):
        digits = (u"%d" % value).encode("ascii")
        append(buf, digits, len(digits))
        return WRITTEN
    if type(value) is list:
        return append_list(buf, <list>value)
    return append_object(buf, value)


cdef int append_list(Buffer *buf, list items) except -1:
    """Append a plain list as a JSON array (json's own depth limit applies, as it does)."""
    cdef bint first = True
    Py_EnterRecursiveCall(" while encoding a JSON array")
    try:
        append(buf, b"[", 1)
        for item in items:
            if not first:
                append(buf, b",", 1)
            first = False
            append_plain_value(buf, item)
        append(buf, b"]", 1)
    finally:
        Py_LeaveRecursiveCall()
    return WRITTEN


cdef int append_object(Buffer *buf, object pairs) except -1:
    """Append a plain dict (an OrderedDict before Python 3.7) of text names as a JSON object."""
    cdef bint first = True
    Py_EnterRecursiveCall(" while encoding a JSON object")
    try:
        append(buf, b"{", 1)
        for name, item in pairs.items():
            if not first:
                append(buf, b",", 1)
            first = False
            reserve(buf, len(<unicode>name) + NAME_MARKS)  # append_name's plain copy
            append_name(buf, <unicode>name)
            append_plain_value(buf, item)
        append(buf, b"}", 1)
    finally:
        Py_LeaveRecursiveCall()
    return WRITTEN


# ---- Pairs and lines --------------------------------------------------------------------------

cdef struct Lines:
    Py_ssize_t limit  # most bytes in a line, "\n" included; 0 for no limit (stdout)
    Py_ssize_t start  # offset of the current line's "{"
    Py_ssize_t pairs  # pairs in the current line


cdef inline void start_lines(Buffer *buf, Lines *lines, Py_ssize_t limit) noexcept:
    buf.data[0] = c'{'
    buf.length = 1
    lines.limit = limit
    lines.start = 0
    lines.pairs = 0


cdef inline Py_ssize_t start_pair(Buffer *buf, Lines *lines, unicode name) except -1:
    """Append the "," before a pair (none before a line's first) and ``"name":``; return
    where the pair starts, after the ","."""
    cdef Py_ssize_t pair_start
    # One check of room for the usual pair: a name with nothing to escape and a float;
    # anything longer checks for room as it goes.
    reserve(buf, 1 + len(name) + NAME_MARKS + BAI_DOUBLE_CHARS)
    buf.data[buf.length] = c','
    buf.length += lines.pairs != 0
    pair_start = buf.length
    append_name(buf, name)
    return pair_start


cdef inline int end_pair(Buffer *buf, Lines *lines, Py_ssize_t pair_start) except -1:
    """Count the pair appended since ``pair_start``, and move it to a new line when the
    current one would pass ``lines.limit``: WRITTEN; or TOO_LONG when it alone would."""
    cdef Py_ssize_t pair_size
    lines.pairs += 1
    if lines.limit == 0:
        return WRITTEN
    pair_size = buf.length - pair_start
    if pair_size + LINE_MARKS > lines.limit:
        return TOO_LONG
    if buf.length - lines.start + LINE_END > lines.limit:
        # The pair opens the next line: the "," before it (a line's first pair always fits)
        # becomes "}\n{".
        reserve(buf, LINE_BREAK_SIZE - 1)
        memmove(buf.data + pair_start + LINE_BREAK_SIZE - 1, buf.data + pair_start, pair_size)
        memcpy(buf.data + pair_start - 1, b"}\n{", LINE_BREAK_SIZE)
        buf.length += LINE_BREAK_SIZE - 1
        lines.start = pair_start + 1  # the "{" of "}\n{"
        lines.pairs = 1
    return WRITTEN


cdef int append_fast_pair(Buffer *buf, Lines *lines, unicode name, object value) except -1:
    """Append ``"name":value`` from the user's dict: WRITTEN, or NOT_FAST."""
    cdef Py_ssize_t pair_start = start_pair(buf, lines, name)
    if append_fast_value(buf, value) == NOT_FAST:
        return NOT_FAST
    if end_pair(buf, lines, pair_start) == TOO_LONG:
        return NOT_FAST  # the plain path checks every metric before it reports this
    return WRITTEN


cdef int append_plain_pair(Buffer *buf, Lines *lines, unicode name, object value) except -1:
    """Append ``"name":value`` from plain_metrics' result, or raise pair_too_long."""
    cdef Py_ssize_t pair_start = start_pair(buf, lines, name)
    append_plain_value(buf, value)
    if end_pair(buf, lines, pair_start) == TOO_LONG:
        raise pair_too_long(name, buf.length - pair_start + LINE_MARKS, lines.limit)
    return WRITTEN


cdef int append_fast_dict(Buffer *buf, Lines *lines, dict metrics) except -1:
    """The fast path: append every pair of an exact dict of str names, WRITTEN; or NOT_FAST
    as soon as a pair is not one it takes (or the dict is empty: plain_metrics reports it)."""
    cdef Py_ssize_t position = 0
    cdef PyObject *key
    cdef PyObject *value
    if not metrics:
        return NOT_FAST
    while PyDict_Next(metrics, &position, &key, &value):
        if not PyUnicode_CheckExact(<object>key):
            return NOT_FAST
        if append_fast_pair(buf, lines, <unicode>key, <object>value) == NOT_FAST:
            return NOT_FAST
    return WRITTEN


cdef int append_plain_metrics(Buffer *buf, Lines *lines, object metrics) except -1:
    """The plain path: check ``metrics`` with plain_metrics, and append what it returns."""
    for name, value in plain_metrics(metrics).items():
        append_plain_pair(buf, lines, name, value)
    return WRITTEN


# ---- The Emitter ------------------------------------------------------------------------------

cdef class Emitter:
    """emit() for one destination: stdout when ``fifo`` is None, else that _fifo.Fifo."""

    cdef object _fifo
    cdef int _fd  # the FIFO's descriptor once open; its number never changes after
    cdef object _generation  # the Fifo's generation when this emitter last recovered or opened
    cdef Py_ssize_t _line_limit

    def __init__(self, fifo=None):
        self._fifo = fifo
        self._fd = -1
        self._line_limit = 0 if fifo is None else PIPE_BUF

    def emit(self, metrics):
        """Publish ``metrics``, a mapping of metric names to values, as one JSON line."""
        cdef char stack[STACK_BYTES]
        cdef Buffer buf
        cdef Lines lines
        global ABC_TOKEN
        stack_buffer(&buf, stack, STACK_BYTES)
        ABC_TOKEN = -1
        try:
            start_lines(&buf, &lines, self._line_limit)
            if type(metrics) is not dict or append_fast_dict(&buf, &lines, metrics) == NOT_FAST:
                start_lines(&buf, &lines, self._line_limit)
                append_plain_metrics(&buf, &lines, metrics)
            append(&buf, b"}\n", LINE_END)
            if self._fifo is None:
                self._print(&buf)
            else:
                self._write_lines(&buf, lines.start == 0)
        finally:
            release(&buf)

    cdef int _print(self, Buffer *buf) except -1:
        # The native str of each Python, as print(json.dumps(...)) would write.
        if PY_MAJOR_VERSION >= 3:
            line = PyUnicode_DecodeASCII(buf.data, buf.length, NULL)
        else:
            line = PyBytes_FromStringAndSize(buf.data, buf.length)
        stdout = sys.stdout
        if stdout is not None:  # None (pythonw, some services): dropped, as print() does
            stdout.write(line)  # one call: a stream that fails never has half a line
            stdout.flush()
        return 0

    cdef int _write_lines(self, Buffer *buf, bint one_line) except -1:
        cdef const char *line = buf.data
        cdef const char *end = buf.data + buf.length
        cdef const char *newline
        if self._fd < 0:
            self._fd = self._fifo.open()
            self._generation = self._fifo.generation
        if one_line:  # most calls: no need to look for the ends of lines
            return self._write_line(line, buf.length)
        while line < end:
            newline = <const char *>memchr(line, c'\n', end - line)
            self._write_line(line, newline + 1 - line)
            line = newline + 1
        return 0

    cdef int _write_line(self, const char *line, Py_ssize_t size) except -1:
        cdef int error
        while True:
            # The descriptor is non-blocking, and a line of at most PIPE_BUF bytes goes into
            # the pipe whole or not at all: the GIL is kept unless the pipe is full.
            if write(self._fd, line, size) >= 0:
                return 0
            error = errno
            if error == EAGAIN:
                wait_for_room(self._fd)  # the pipe is full: off the hot path
            elif error == EPIPE:
                # When another thread recovered since this emitter last looked, recover()
                # returns at once and the write is tried again (reading the generation
                # before every write would cost each call a Python attribute look-up).
                self._fifo.recover(self._generation)
                self._generation = self._fifo.generation
            elif error == EINTR:
                PyErr_CheckSignals()  # run Python's signal handlers, as os.write does
            else:
                raise OSError(error, os.strerror(error))
