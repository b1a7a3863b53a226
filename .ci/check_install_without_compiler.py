"""Install the package with no working C compiler (run with CC=false): the install must
succeed, warn in one line in the build output, and give the pure-Python implementation."""
import os
import shutil
import subprocess
import sys
import tempfile

# A clean copy (in tox's envtmpdir, the working directory): a checkout's build/ may hold an
# extension compiled earlier.
source = os.path.join(tempfile.mkdtemp(dir=os.getcwd()), "benchmarkai")
shutil.copytree(sys.argv[1], source, ignore=shutil.ignore_patterns(".git", ".tox", ".ci", "build", "*.so"))
build = subprocess.run(
    [sys.executable, "-m", "pip", "install", "-v", "--no-cache-dir", "--force-reinstall", source],
    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
warnings = [line.strip() for line in build.stdout.splitlines()
            if "WARNING: benchmarkai: could not compile the _fastemit extension" in line]
if build.returncode != 0 or len(warnings) != 1:
    sys.exit("install without a compiler: exit %d, %d warning lines\n%s"
             % (build.returncode, len(warnings), build.stdout[-3000:]))
implementation = subprocess.check_output(
    [sys.executable, "-c", "import benchmarkai; print(benchmarkai.implementation)"],
    cwd="/", universal_newlines=True).strip()
if implementation != "python":
    sys.exit("install without a compiler gave the %r implementation" % implementation)
print("installed without a compiler: %s\nimplementation: %s" % (warnings[0], implementation))
