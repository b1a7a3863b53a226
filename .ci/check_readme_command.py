"""Fail unless .ci/run runs exactly the test command that README.md gives, and unless that
command (tests/run.py) runs every interpreter this machine has: each Python under pyenv, and
pypy3, needs a tox env of its own in tox.ini's envlist and must be found on tests/run.py's PATH."""
import configparser
import glob
import importlib.util
import io
import itertools
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(name):
    with io.open(os.path.join(ROOT, name), encoding="utf-8") as source:
        return source.read()


def test_script():
    spec = importlib.util.spec_from_file_location("run_tests", os.path.join(ROOT, "tests", "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tox_envs():
    """tox.ini's envlist, braces expanded: py{27,36}-pure -> py27-pure, py36-pure."""
    config = configparser.ConfigParser()
    config.read_string(read("tox.ini"))
    envs = set()
    for entry in config["tox"]["envlist"].split():
        parts = re.split(r"\{([^}]*)\}", entry)  # literal, alternatives, literal, ...
        choices = [[part] if i % 2 == 0 else part.split(",") for i, part in enumerate(parts)]
        envs.update("".join(combination) for combination in itertools.product(*choices))
    return envs


def machine_interpreters(pyenv_root):
    """The interpreters this machine has: python2.7, python3.6 ... under pyenv, and pypy3."""
    found = set()
    for path in glob.glob(os.path.join(pyenv_root, "versions", "*", "bin", "*")):
        if re.match(r"(python\d\.\d+|pypy3)$", os.path.basename(path)) and os.access(path, os.X_OK):
            found.add(os.path.basename(path))
    if shutil.which("pypy3"):
        found.add("pypy3")
    return found


def main():
    match = re.search(r"<!-- test command -->\s*```(?:sh|bash|console)?\n(.+?)\n```", read("README.md"))
    if not match:
        sys.exit("README.md has no test command block after <!-- test command -->")
    command = match.group(1).strip()
    if command not in read(".ci/run").splitlines():
        sys.exit(".ci/run does not run README.md's test command: %s" % command)
    print("README.md's test command is the one .ci/run runs: %s" % command)

    run = test_script()
    envs = tox_envs()
    search_path = run.search_path()
    skipped = []
    for interpreter in sorted(machine_interpreters(run.pyenv_root())):
        env = "pypy3" if interpreter == "pypy3" else "py" + interpreter[len("python"):].replace(".", "")
        if env not in envs:
            skipped.append("%s (no %s env in tox.ini's envlist)" % (interpreter, env))
        elif not shutil.which(interpreter, path=search_path):
            skipped.append("%s (not on tests/run.py's PATH)" % interpreter)
        else:
            print("%s: tox env %s" % (interpreter, env))
    if skipped:
        sys.exit("the test command would skip interpreters this machine has: " + ", ".join(skipped))


if __name__ == "__main__":
    main()
