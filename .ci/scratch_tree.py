"""A copy of the checkout with the extension built in place, for the mutation scripts
(mutants.py, planted_bugs.py): they change its sources, never the checkout's."""
import os
import shutil
import subprocess
import sys

COPIED = ["benchmarkai", "src", "tests", "examples", "setup.py", "README.md", "pyproject.toml", "MANIFEST.in"]


def copy(repo, tree):
    """Copy what the tests need from ``repo`` to ``tree`` (emptied first), and build it."""
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    for name in COPIED:
        source = os.path.join(repo, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(tree, name),
                            ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c", "build"))
        else:
            shutil.copy(source, tree)
    build(tree)


def build(tree):
    """Compile _fastemit in place, in ``tree``; exit if it did not build (every cython test
    would fail, and every mutant look caught)."""
    subprocess.check_call([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tree,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not any(name.startswith("_fastemit") and name.endswith(".so")
               for name in os.listdir(os.path.join(tree, "benchmarkai"))):
        sys.exit("the _fastemit extension did not build in %s" % tree)


def environ(tree):
    """The environment for tests run in ``tree``: they and their children import its package."""
    return dict(os.environ, PYTHONPATH=tree, PYTHONDONTWRITEBYTECODE="1")
