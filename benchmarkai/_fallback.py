"""The pure-Python emit(): the same lines and errors as the compiled _fastemit, no compiler needed."""
import errno
import json
import os
import sys

import six

from benchmarkai import _config
from benchmarkai._fifo import PIPE_BUF, wait_for_room
from benchmarkai._validation import SMALL_INT, pair_too_long, plain_metrics

_os_write = os.write

IMPLEMENTATION = "python"


def _json_text_function():
    """The text of a plain mapping (plain_metrics' result): the canonical line text (compact,
    ASCII, NaN/Infinity, floats as repr()), which _fastemit writes too. Not ujson's: it writes
    other bytes (1e-7 for 1e-07, a DEL unescaped, "/" as "\\/"). JSONEncoder.encode makes a
    new C encoder for every call: this one keeps the one it would make."""
    encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=True, check_circular=False)
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # a Python without the _json accelerator
        return encoder.encode
    # The arguments JSONEncoder.iterencode gives it: markers (None: check_circular=False),
    # default, key encoder, indent, key and item separators, sort_keys, skipkeys, allow_nan.
    encode = make_encoder(None, encoder.default, json.encoder.encode_basestring_ascii, None,
                          ":", ",", False, False, True)
    join = "".join

    def text(plain):
        return join(encode(plain, 0))  # a list of chunks (a 1-tuple from Python 3.12)
    return text


_json_text = _json_text_function()


def _plain_and_json_text(metrics):
    """plain_metrics' result for ``metrics`` and its text."""
    plain = plain_metrics(metrics)
    return plain, _json_text(plain)


def _pypy_text_functions(plain_and_text=_plain_and_json_text):
    """An Emitter's text functions on PyPy, (plain_and_text, text): json's encoder is Python
    code there, slower than writing the common line directly. Its plain_and_text does what
    _plain_and_json_text does, in one pass for an exact dict of text names to exact floats
    and ints: it checks each pair as it writes it, and returns the dict itself, as
    plain_metrics would. Any other mapping goes to ``plain_and_text`` (a test hands it one
    that refuses), read once. Floats by _float_text: PyPy's own repr() costs about a
    microsecond."""
    from benchmarkai._float_text import float_repr  # here: other Pythons never load it

    escape = json.encoder.encode_basestring_ascii
    int_repr = int.__repr__
    special = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
    names = {}  # name -> its escaped text, quotes and colon included: '"loss":'

    def pypy_plain_and_text(metrics):
        if type(metrics) is dict:
            parts = []
            for name, value in metrics.items():
                if type(name) is not str:  # first: a str subclass may equal a cached name
                    break
                key = names.get(name)
                if key is None:
                    if len(names) >= 1024:  # bounded, as _fastemit's cache of names
                        names.clear()
                    key = names[name] = escape(name) + ":"
                kind = type(value)
                if kind is float:
                    number = float_repr(value)
                    if number[-1] > "9":  # nan, inf, -inf: no finite float's repr ends in a letter
                        number = special[number]
                elif kind is int and -SMALL_INT < value < SMALL_INT:  # as plain_metrics takes them
                    number = int_repr(value)
                else:
                    break
                parts.append(key + number)
            else:
                if parts:  # empty: plain_metrics raises
                    return metrics, "{" + ",".join(parts) + "}"
        return plain_and_text(metrics)  # its copy: a split line is made from it, not from metrics

    def text(plain):
        return pypy_plain_and_text(plain)[1]
    return pypy_plain_and_text, text


# What emit makes its line from: (plain_metrics' result, its text), and the text of a plain
# mapping (a split line's pairs). The tests make Emitters with PyPy's on every Python.
if _config.on_pypy():
    _plain_and_text, _text = _pypy_text_functions()
else:
    _plain_and_text, _text = _plain_and_json_text, _json_text
# The text is ASCII, one byte a character: its length decides whether it needs splitting.
_SURELY_FITS = PIPE_BUF - 1


class Emitter(object):
    """emit() for one destination: stdout when ``fifo`` is None, else that _fifo.Fifo. Its
    lines are made by ``text_functions``, this Python's (plain_and_text, text) pair unless
    given (the tests give PyPy's on every Python)."""

    def __init__(self, fifo=None, text_functions=(_plain_and_text, _text)):
        self._fifo = fifo
        self._fd = -1
        self._generation = 0  # the Fifo's generation when this emitter last recovered or opened
        self._plain_and_text, self._text = text_functions

    def emit(self, metrics):
        """Publish ``metrics``, a mapping of metric names to values, as one JSON line."""
        plain_and_text = self._plain_and_text  # read, then called: cheaper than self._plain_and_text(...)
        plain, text = plain_and_text(metrics)
        if self._fifo is None:
            stdout = sys.stdout
            if stdout is not None:  # None (pythonw, some services): dropped, as print() does
                stdout.write(text + "\n")  # one call: a stream that fails never has half a line
                stdout.flush()
        elif len(text) <= _SURELY_FITS:
            # The text is ASCII: encode() (UTF-8, no codec looked up by name) gives its bytes;
            # on Python 2 it is a str already, and stays one.
            line = (text + "\n").encode()
            try:
                _os_write(self._fd, line)  # the common case, inline: one line, room in the pipe
            except OSError:  # not open yet (fd -1), pipe full, reader gone: nothing was written
                self._write(line)
        else:
            for line in _lines(plain, self._text):
                self._write((line + "\n").encode())

    def _write(self, data):
        """One line into the FIFO, handled as _fastemit's Emitter._write_line does."""
        if self._fd < 0:
            self._fd = self._fifo.open()
            self._generation = self._fifo.generation
        while True:
            try:
                # The descriptor is non-blocking, and a line of at most PIPE_BUF bytes goes
                # into the pipe whole or not at all.
                os.write(self._fd, data)
                return
            except OSError as error:
                if error.errno == errno.EAGAIN:
                    wait_for_room(self._fd)
                elif error.errno == errno.EPIPE:
                    self._fifo.recover(self._generation)  # at once if another thread did
                    self._generation = self._fifo.generation
                elif error.errno != errno.EINTR:
                    raise


def _lines(plain, text):
    """The canonical text of ``plain`` (``text`` gives a mapping's) cut into lines of at most
    PIPE_BUF bytes, pairs kept whole."""
    lines = []
    pairs = []
    size = 1  # the line's "{"
    for name, value in six.iteritems(plain):
        pair = text({name: value})[1:-1]
        if len(pair) + 3 > PIPE_BUF:
            raise pair_too_long(name, len(pair) + 3, PIPE_BUF)
        if pairs and size + 1 + len(pair) + 2 > PIPE_BUF:
            lines.append("{%s}" % ",".join(pairs))
            pairs = []
            size = 1
        size += len(pair) + (1 if pairs else 0)
        pairs.append(pair)
    lines.append("{%s}" % ",".join(pairs))
    return lines
