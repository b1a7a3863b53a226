"""Memory that only grows over many distinct inputs: a program that makes up new metric names
forever (a step number in each name, say) must not make emit() keep them all. The compiled
module keeps the escaped text of recent names (at most 1024): catches that cache unbounded."""
import sys

import pytest


class Sink(object):
    """sys.stdout for the test: takes every line, keeps none."""

    def write(self, line):
        pass

    def flush(self):
        pass


def emit_names(emit, first, count):
    """Emit ``count`` distinct names from number ``first`` on, ten to a call; each needs escaping."""
    for start in range(first, first + count, 10):
        emit(dict((u"caf\u00e9.%d" % number, 0.5) for number in range(start, start + 10)))


@pytest.mark.skipif(not hasattr(sys, "getallocatedblocks"), reason="sys.getallocatedblocks is Python 3.4+")
def test_distinct_names_do_not_pile_up(impl, monkeypatch):
    monkeypatch.setattr(sys, "stdout", Sink())
    emit = impl.emitter().emit
    emit_names(emit, 0, 5000)  # warm up: caches fill, and empty at least once
    before = sys.getallocatedblocks()
    emit_names(emit, 5000, 40000)
    grown = sys.getallocatedblocks() - before
    # Kept, the 40000 names with their escaped text would be some 80000 blocks.
    assert grown < 6000, "%d memory blocks more after 40000 new names" % grown
