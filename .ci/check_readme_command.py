"""Fail unless .ci/run runs exactly the test command that README.md gives."""
import io
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(name):
    with io.open(os.path.join(ROOT, name), encoding="utf-8") as source:
        return source.read()


match = re.search(r"<!-- test command -->\s*```(?:sh|bash|console)?\n(.+?)\n```", read("README.md"))
if not match:
    sys.exit("README.md has no test command block after <!-- test command -->")
command = match.group(1).strip()
if command not in read(".ci/run").splitlines():
    sys.exit(".ci/run does not run README.md's test command: %s" % command)
print("README.md's test command is the one .ci/run runs: %s" % command)
