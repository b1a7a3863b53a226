"""What an emit() call came to, in a form that compares between implementations and modes."""
import io
import json
import struct
import sys

import six

REFUSALS = (TypeError, ValueError)  # what emit() raises for metrics it refuses


def outcome(emit, written, metrics, errors=REFUSALS):
    """("lines", ``written()``) after emit(metrics); or, when it raises one of ``errors``,
    ("error", its type, its message, ``written()``)."""
    try:
        emit(metrics)
    except errors as error:
        return ("error", type(error), str(error), written())
    return ("lines", written())


def stdout_outcome(emitter, metrics, errors=REFUSALS):
    """outcome() of ``emitter`` in stdout mode: what it wrote to sys.stdout, as text."""
    saved = sys.stdout
    sys.stdout = capture = io.StringIO() if six.PY3 else io.BytesIO()
    try:
        return outcome(emitter.emit, capture.getvalue, metrics, errors)
    finally:
        sys.stdout = saved


def fifo_outcome(fifo, metrics, errors=REFUSALS):
    """outcome() of an InProcessFifo's emitter: what it wrote into the FIFO, as text."""
    return outcome(fifo.emit, lambda: fifo.read().decode("ascii"), metrics, errors)


def parsed(text):
    """Each line as a list of (name, value) pairs, objects inside as lists of pairs too (so
    order and repeated names are kept), floats as their bits, so -0.0 and NaN compare."""
    return [comparable(json.loads(line, object_pairs_hook=list)) for line in text.splitlines()]


def comparable(node):
    if isinstance(node, float):
        return struct.pack("<d", node)
    if isinstance(node, list):
        return [comparable(item) for item in node]
    if isinstance(node, tuple):  # a (name, value) pair
        return (node[0], comparable(node[1]))
    return node
