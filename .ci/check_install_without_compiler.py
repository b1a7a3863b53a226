"""Install the package's sdist with no working C compiler (run with CC=false): the install
must succeed, warn in one line in the build output, and give the pure-Python implementation."""
import os
import subprocess
import sys

from check_dist import build

(sdist,) = build(os.path.abspath(sys.argv[1]), "--sdist")
install = subprocess.run(
    [sys.executable, "-m", "pip", "install", "-v", "--no-cache-dir", "--force-reinstall", sdist],
    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
warnings = [line.strip() for line in install.stdout.splitlines()
            if "WARNING: benchmarkai: could not compile the _fastemit extension" in line]
if install.returncode != 0 or len(warnings) != 1:
    sys.exit("install without a compiler: exit %d, %d warning lines\n%s"
             % (install.returncode, len(warnings), install.stdout[-3000:]))
implementation = subprocess.check_output(
    [sys.executable, "-c", "import benchmarkai; print(benchmarkai.implementation)"],
    cwd="/", universal_newlines=True).strip()
if implementation != "python":
    sys.exit("install without a compiler gave the %r implementation" % implementation)
print("installed %s without a compiler: %s\nimplementation: %s"
      % (os.path.basename(sdist), warnings[0], implementation))
