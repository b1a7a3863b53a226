"""Install the package's sdist with no working C compiler (run with CC=false): the install
must succeed, warn in one line in the build output, and give the pure-Python implementation."""
import os
import sys

from check_dist import build, run

(sdist,) = build(os.path.abspath(sys.argv[1]), "--sdist")
output = run(sys.executable, "-m", "pip", "install", "-v", "--no-cache-dir", "--force-reinstall", sdist)
warnings = [line.strip() for line in output.splitlines()
            if "WARNING: benchmarkai: could not compile the _fastemit extension" in line]
if len(warnings) != 1:
    sys.exit("install without a compiler: %d warning lines\n%s" % (len(warnings), output[-3000:]))
implementation = run(sys.executable, "-c", "import benchmarkai; print(benchmarkai.implementation)",
                     cwd="/").strip()
if implementation != "python":
    sys.exit("install without a compiler gave the %r implementation" % implementation)
print("installed %s without a compiler: %s\nimplementation: %s"
      % (os.path.basename(sdist), warnings[0], implementation))
