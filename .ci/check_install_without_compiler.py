"""Install the package's sdist with no working C compiler (run with CC=false): the install
must succeed, warn in one line in the build output, and give the pure-Python implementation;
with BENCHMARK_AI_REQUIRE_EXTENSION=1, as release builds set it, it must fail instead."""
import os
import subprocess
import sys

from check_dist import build, run

(sdist,) = build(os.path.abspath(sys.argv[1]), "--sdist")
install = [sys.executable, "-m", "pip", "install", "-v", "--no-cache-dir", "--force-reinstall", sdist]
output = run(*install)
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

strict = subprocess.run(install, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                        env=dict(os.environ, BENCHMARK_AI_REQUIRE_EXTENSION="1"))
errors = [line.strip() for line in strict.stdout.splitlines()
          if "ERROR: benchmarkai: could not compile the _fastemit extension" in line]
if strict.returncode == 0 or not errors:
    sys.exit("install without a compiler, BENCHMARK_AI_REQUIRE_EXTENSION=1: exit %d, %d error lines\n%s"
             % (strict.returncode, len(errors), strict.stdout[-3000:]))
print("with BENCHMARK_AI_REQUIRE_EXTENSION=1 it fails (exit %d): %s" % (strict.returncode, errors[0]))
