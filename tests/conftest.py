"""The fixtures, made of helpers from the support package (tests/support), where every helper
the tests share is. ``impl`` runs every behavioural test against each implementation
(support/implementations.py says which)."""
import os
import shutil
import tempfile

import pytest

# Before support is imported: its asserts then explain a failure as a test module's do.
pytest.register_assert_rewrite("support")

from support.implementations import IMPLEMENTATIONS, InProcessFifo, every_emitter, implementation  # noqa: E402

# The reliability suites (stress, faults, fuzz, leaks) are long: "pytest tests" leaves them
# out, their own tox envs name them (pytest tests/reliability/test_stress.py).
collect_ignore = ["reliability"]


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request):
    return implementation(request.param)


@pytest.fixture
def fifo_path(tmp_path):
    path = str(tmp_path / "metrics.fifo")
    os.mkfifo(path)
    return path


@pytest.fixture
def in_process_fifo(fifo_path, impl):
    pipe = InProcessFifo(fifo_path, impl)
    yield pipe
    pipe.close()


@pytest.fixture(scope="module")
def emitters():
    """every_emitter(): (name, stdout emitter, InProcessFifo) for every implementation and
    python-pypy, shared by a module's tests."""
    directory = tempfile.mkdtemp()
    found = every_emitter(directory)
    yield found
    for _, _, fifo in found:
        fifo.close()
    shutil.rmtree(directory)
