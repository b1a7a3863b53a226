"""Mutation testing of the pure-Python modules with cosmic-ray (``tox -e mutants``).

usage: python .ci/mutants.py REPO [MODULE ...]   (MODULE: _config, _fifo, ... ; default: all)

.ci/mutants.toml says what is mutated, against which tests, and what is left out. The
checkout is copied to .tox/mutants-work/tree-<pid> and its extension built in place there,
so every mutant is seen by the test process and by the interpreters it starts (they import
the copy: it is their working directory and on PYTHONPATH), and the checkout is never
changed; runs for different modules may go side by side. Each module's session is
.tox/mutants-work/<module>.sqlite; its summary, with every surviving mutant's diff, goes to
stdout and to .tox/mutants-work/<module>.txt.

Why cosmic-ray, not mutmut: mutmut 3 rewrites every function into a trampoline that picks
the mutant from an environment variable, and picks the tests to run by in-process coverage:
it misses the child interpreters most of these tests start, and the trampolines change the
timing that some tests measure. cosmic-ray writes one real mutant into the source at a time
and runs any command, which is what a package tested through real processes needs.
"""
import os
import re
import shutil
import subprocess
import sys
import time

import scratch_tree
import tomllib
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def main(repo, modules):
    with open(os.path.join(repo, ".ci", "mutants.toml"), "rb") as source:
        config = tomllib.load(source)
    work = os.path.join(repo, ".tox", "mutants-work")
    tree = os.path.join(work, "tree-%d" % os.getpid())
    os.nice(10)  # a shared machine: the others' work first
    scratch_tree.copy(repo, tree)
    for name in modules or list(config["modules"]):
        text = "\n".join(run_module(config["run"], config["modules"][name], name, work, tree)) + "\n"
        sys.stdout.write(text)
        with open(os.path.join(work, name + ".txt"), "w") as out:
            out.write(text)
    shutil.rmtree(tree)


def run_module(run, module, name, work, tree):
    """Mutate one module; return the lines of its report."""
    started = time.time()
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"] + module["tests"]
    environ = scratch_tree.environ(tree)
    baseline = time.time()
    unmutated = subprocess.run(command, cwd=tree, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True)
    if unmutated.returncode != 0:  # say which test failed: on a loaded machine, a timing one may
        sys.exit("%s: the tests fail without any mutant: %s\n%s" % (name, " ".join(command), unmutated.stdout[-4000:]))
    timeout = max(30.0, run["timeout-factor"] * (time.time() - baseline))
    cfg = os.path.join(work, name + ".toml")
    session = os.path.join(work, name + ".sqlite")
    with open(cfg, "w") as out:
        out.write('[cosmic-ray]\nmodule-path = "%s"\ntimeout = %.0f\nexcluded-modules = []\n'
                  'test-command = "%s"\n\n[cosmic-ray.distributor]\nname = "local"\n'
                  % (module["path"], timeout, " ".join(_quoted(word) for word in command)))
    if os.path.exists(session):
        os.remove(session)
    subprocess.check_call(["cosmic-ray", "init", cfg, session], cwd=tree)
    excluded = exclude(session, tree, run["exclude-operators"], run["exclude-lines"] + module.get("exclude-lines", []))
    subprocess.check_call(["cosmic-ray", "exec", cfg, session], cwd=tree, env=environ)
    return summary(name, session, excluded, time.time() - started)


def _quoted(word):
    return "'%s'" % word if " " in word else word


def exclude(session, tree, operators, lines):
    """Mark as skipped the mutants of an excluded operator or on an excluded line; return how many."""
    operator_pattern = re.compile("|".join("(?:%s)" % pattern for pattern in operators))
    line_pattern = re.compile("|".join("(?:%s)" % pattern for pattern in lines))
    sources = {}
    skipped = 0
    with use_db(session, WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            mutation = item.mutations[0]
            path = str(mutation.module_path)
            if path not in sources:
                with open(os.path.join(tree, path)) as source:
                    sources[path] = source.read().splitlines()
            line = sources[path][mutation.start_pos[0] - 1]
            if operator_pattern.match(mutation.operator_name) or line_pattern.search(line):
                db.set_result(item.job_id, WorkResult(output="excluded (.ci/mutants.toml)",
                                                      worker_outcome=WorkerOutcome.SKIPPED))
                skipped += 1
    return skipped


def summary(name, session, excluded, seconds):
    killed, survived = 0, []
    with use_db(session, WorkDB.Mode.open) as db:
        pending = db.num_work_items - db.num_results
        items = dict((item.job_id, item) for item in db.work_items)
        for job_id, result in db.results:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            if result.is_killed:
                killed += 1
            else:
                survived.append((items[job_id], result))
    tested = killed + len(survived)
    lines = ["%s: %d mutants tested, %d killed, %d survived (%.1f%%); %d excluded, %d not run; %.0f s" % (
        name, tested, killed, len(survived), 100.0 * len(survived) / max(tested, 1), excluded, pending, seconds)]
    for item, result in survived:
        mutation = item.mutations[0]
        lines.append("  survived: %s line %d, %s" % (
            mutation.module_path, mutation.start_pos[0], mutation.operator_name))
        lines.extend("    " + line for line in (result.diff or "").splitlines()[2:] if line[:1] in "+-")
    return lines


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), sys.argv[2:])
