"""Check the installed package's type information (tox -e typing): a typed example passes
mypy --strict, and wrong uses of the API fail it, each on its own line, which only the
stub's types can cause. Usage: python check_typing.py EXAMPLE.py"""
import os
import re
import subprocess
import sys
import tempfile

# Each line is a mistake mypy must report on that very line.
WRONG_USES = [
    'benchmarkai.emit({"loss": {0.25}})',  # a set
    'benchmarkai.emit({"loss": object()})',
    'benchmarkai.emit({(1, 2): 0.25})',  # a name json cannot convert
    'benchmarkai.emit([("loss", 0.25)])',  # not a mapping
    'benchmarkai.emit({"loss": 0.25}, "fifo")',
    'result: int = benchmarkai.emit({"loss": 0.25})',  # emit returns None
    'rust = benchmarkai.implementation == "rust"',  # implementation is "cython" or "python"
    'pipe = benchmarkai.configured_emitter == "pipe"',  # "stdout" or "fifo"
    'version: int = benchmarkai.__version__',
    'error: ValueError = benchmarkai.FifoNotCreatedInTimeError()',
]


def mypy(path):
    """mypy --strict's exit status and output for ``path``."""
    process = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", path],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    return process.returncode, process.stdout


def main(example):
    status, output = mypy(example)
    if status != 0:
        sys.exit("mypy --strict rejects %s:\n%s" % (example, output))
    print("mypy --strict accepts %s" % os.path.basename(example))

    wrong = os.path.join(tempfile.mkdtemp(dir=os.getcwd()), "wrong_uses.py")
    with open(wrong, "w") as source:
        source.write("import benchmarkai\n\nreveal_type(benchmarkai.emit)\n" + "\n".join(WRONG_USES) + "\n")
    status, output = mypy(wrong)
    # The signature comes from __init__.pyi: without it, emit would be an untyped attribute.
    if not re.search(r"metrics: typing\.Mapping\[(builtins\.)?str, ", output):
        sys.exit("mypy did not read emit's signature from the stub:\n%s" % output)
    flagged = set(int(line) for line in re.findall(r"^[^:\n]+:(\d+): error:", output, re.MULTILINE))
    missed = [use for number, use in enumerate(WRONG_USES, 4) if number not in flagged]
    if status == 0 or missed:
        sys.exit("mypy --strict accepts these wrong uses of the API: %s\n%s" % (missed, output))
    print("mypy --strict rejects all %d wrong uses of the API" % len(WRONG_USES))


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
