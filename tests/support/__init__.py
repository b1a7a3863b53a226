"""What the tests share. Test modules, conftest.py (whose fixtures are made of it) and the
reliability suites import it from here, never from each other:

- implementations: the implementations every behavioural test runs against, and an in-process FIFO;
- outcomes: what an emit() call came to, comparable between implementations and modes;
- children: child interpreters (run, run_child and its prelude), threads, fifo mode's environment;
- workload: what writers emit and the check of what a reader got (children import it too);
- cases: values and mappings handed to emit() by several test modules;
- hostile, fuzz: hostile input and the fuzz target (test_fuzz.py, atheris_fastemit.py);
- reliability: the reliability suites' sizes, writer and reader processes, report lines.

pytest puts tests/ on sys.path (it holds conftest.py, and no __init__.py), for tests/reliability/
too; a child interpreter puts it there itself (children.CHILD_PRELUDE).
"""
import os

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
