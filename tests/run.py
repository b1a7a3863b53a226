#!/usr/bin/env python3
"""Run every tox env of tox.ini on every interpreter this machine has: README's test command.

- finds the interpreters pyenv keeps under $(pyenv root)/versions/*/bin (pyenv's shims answer
  only for its global version) and puts them on PATH for tox;
- installs Debian's pypy3 with apt-get when it is missing and this runs as root;
- installs tox in a virtualenv of its own (.tox/.tools) and runs all its envs, two at a time;
- ends with a summary: which envs passed, failed, or were skipped for want of an interpreter.

A missing interpreter is skipped, and named in the summary; with --all-interpreters or
BENCHMARKAI_ALL_INTERPRETERS=1 (CI sets it) it is an error. Other arguments go to tox
(``python3 tests/run.py -e py311,lint``). Exits with tox's status.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = ["tox>=4.5,<4.6", "virtualenv<20.22"]  # the last virtualenv that makes 2.7 envs
PYPY_PACKAGES = ["pypy3", "pypy3-venv", "pypy3-dev"]
STRICT_VARIABLE = "BENCHMARKAI_ALL_INTERPRETERS"


def say(message):
    print("tests/run.py: " + message)
    sys.stdout.flush()


def pyenv_root():
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    try:
        return subprocess.check_output(["pyenv", "root"], universal_newlines=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return os.path.expanduser("~/.pyenv")


def pyenv_bins(root=None):
    """Each Python's bin directory under pyenv, oldest version first."""
    return sorted(glob.glob(os.path.join(root or pyenv_root(), "versions", "*", "bin")), key=_version_key)


def _version_key(path):
    name = os.path.basename(os.path.dirname(path))
    return [int(part) if part.isdigit() else -1 for part in name.split(".")], name


def search_path(environ=os.environ):
    """PATH for tox: this Python's own directory first (its python3 stays the default), then
    every pyenv Python (the newest first), then PATH as it was."""
    directories = [os.path.dirname(sys.executable)] + pyenv_bins()[::-1]
    return os.pathsep.join(directories + [environ.get("PATH", "")])


def ensure_pypy(strict):
    """True when pypy3 is there (installed now with apt-get if need be and possible)."""
    if shutil.which("pypy3"):
        return True
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        say("pypy3 is missing: apt-get install %s" % " ".join(PYPY_PACKAGES))
        environ = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q"] + PYPY_PACKAGES):
            if subprocess.call(command, env=environ) != 0:
                break
        if shutil.which("pypy3"):
            return True
        reason = "apt-get could not install it"
    else:
        reason = "apt-get is not usable here (not root, or no apt-get)"
    message = "pypy3 is missing and %s; install %s (Debian) or PyPy 3 some other way" % (
        reason, " ".join(PYPY_PACKAGES))
    if strict:
        sys.exit("tests/run.py: " + message)
    say(message + "; its env will be skipped")
    return False


def tools_python():
    """The Python of .tox/.tools, a virtualenv with tox and virtualenv in it."""
    venv = os.path.join(ROOT, ".tox", ".tools")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", venv])
    subprocess.check_call([python, "-m", "pip", "install", "-q", "--disable-pip-version-check"] + TOOLS)
    return python


def summary(results, strict):
    """The closing lines: how many envs passed and failed, and which had no interpreter."""
    # tox lists every env; those it ran have a result, and those it found a Python for, that Python.
    results = dict((name, env) for name, env in results.items() if "result" in env)
    missing = sorted(name for name, env in results.items() if "python" not in env)
    failed = sorted(name for name, env in results.items() if "python" in env and not env["result"]["success"])
    say("%d tox envs: %d OK, %d failed%s, %d without an interpreter" % (
        len(results), len(results) - len(failed) - len(missing), len(failed),
        " (%s)" % " ".join(failed) if failed else "", len(missing)))
    if missing:
        say("%s for want of an interpreter (not on PATH, nor under %s/versions): %s" % (
            "FAILED" if strict else "SKIPPED, so NOT tested,", pyenv_root(), " ".join(missing)))
        if not strict:
            say("install them, or set %s=1 to make a missing interpreter an error" % STRICT_VARIABLE)


def main(arguments):
    strict = os.environ.get(STRICT_VARIABLE, "") not in ("", "0") or "--all-interpreters" in arguments
    tox_arguments = [argument for argument in arguments if argument != "--all-interpreters"]
    environ = dict(os.environ, PATH=search_path(), PYENV_ROOT=pyenv_root())
    # virtualenv keeps the pip it seeds envs with in a per-user folder that every virtualenv
    # run on the machine shares; one of them had filed a pip too new for Python 3.6-3.9
    # there. Ours is a folder of its own, as on a fresh machine.
    environ["VIRTUALENV_OVERRIDE_APP_DATA"] = os.path.join(ROOT, ".tox", "virtualenv-app-data")
    os.environ["PATH"] = environ["PATH"]  # for shutil.which
    ensure_pypy(strict)
    python = tools_python()
    result_json = os.path.join(ROOT, ".tox", "run-results.json")
    if os.path.exists(result_json):
        os.remove(result_json)
    command = [python, "-m", "tox", "run-parallel", "--parallel", "2", "--parallel-live",
               "--parallel-no-spinner", "--result-json", result_json,
               "--skip-missing-interpreters", "false" if strict else "true"] + tox_arguments
    status = subprocess.call(command, cwd=ROOT, env=environ)
    if os.path.exists(result_json):
        with open(result_json) as results:
            summary(json.load(results)["testenvs"], strict)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
