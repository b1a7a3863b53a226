"""Check the release path (tox -e dist): build the sdist and, from it, the wheel; check what
each holds; repair the wheel to a manylinux one, install it in a fresh virtualenv and import
it; check cibuildwheel's list of builds. Usage: python check_dist.py SOURCE_DIR"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PYTHONS = ("36", "37", "38", "39", "310", "311", "312", "313")
# What pyproject.toml's [tool.cibuildwheel] must give: no CPython before 3.8 runs on arm64 macOS.
EXPECTED_BUILDS = {
    "linux": set("cp%s-%s_%s" % (python, libc, arch) for python in PYTHONS
                 for libc in ("manylinux", "musllinux") for arch in ("x86_64", "aarch64")),
    "macos": set("cp%s-macosx_x86_64" % python for python in PYTHONS)
    | set("cp%s-macosx_arm64" % python for python in PYTHONS[2:]),
}
# Generated C, compiled objects, build trees and caches never belong in the sdist. (Its one
# egg-info directory, at the top, is the metadata setuptools writes into every sdist.)
NOT_IN_SDIST = re.compile(r"\.(c|so|o|pyc|pyo)$|(^|/)(build|dist|__pycache__|\.tox|\.pytest_cache|\.hypothesis)/"
                          r"|/.*\.egg-info/")


def fail(message):
    sys.exit("check_dist: " + message)


def run(*command, **options):
    """The command's output (stdout and stderr); its whole output and the exit if it fails."""
    process = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, **options)
    if process.returncode != 0:
        fail("%s exited with %d:\n%s" % (" ".join(command), process.returncode, process.stdout[-4000:]))
    return process.stdout


def build(source, *options):
    """Build ``source`` with python -m build (sdist, then the wheel from that sdist, unless
    ``options`` say otherwise) into a new directory here; the paths of what it made, the
    sdist first."""
    # From a clean copy: tox builds its own sdist in the checkout meanwhile, and a checkout
    # may hold an extension compiled earlier.
    work = tempfile.mkdtemp(prefix="build-", dir=os.getcwd())
    copy = os.path.join(work, "source")
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(
        ".git", ".tox", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.so"))
    outdir = os.path.join(work, "dist")
    run(sys.executable, "-m", "build", "--outdir", outdir, *(options + (copy,)))
    return sorted(glob.glob(os.path.join(outdir, "*")), key=lambda path: not path.endswith(".tar.gz"))


def source_files(source, directory):
    """The .py files of ``directory`` in the checkout, as paths relative to it."""
    return set(os.path.relpath(path, source) for path in glob.glob(os.path.join(source, directory, "*.py")))


def check_sdist(path, source):
    with tarfile.open(path) as sdist:
        names = set(name.split("/", 1)[1] for name in sdist.getnames() if "/" in name)
    required = {"PKG-INFO", "setup.py", "pyproject.toml", "MANIFEST.in", "LICENSE", "README.md",
                "src/_fastemit.pyx", "src/_float_repr.h", "src/_float_table.h", "src/gen_float_table.py",
                "benchmarkai/py.typed", "benchmarkai/__init__.pyi"}
    required |= source_files(source, "benchmarkai") | source_files(source, "tests")
    missing = sorted(required - names)
    unwanted = sorted(name for name in names if NOT_IN_SDIST.search(name))
    if missing or unwanted:
        fail("sdist %s: missing %s; should not hold %s" % (os.path.basename(path), missing, unwanted))


def check_wheel(path):
    """The wheel's version, once it is known to hold the extension and the type information."""
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        metadata = wheel.read([name for name in names if name.endswith(".dist-info/METADATA")][0])
    missing = [pattern for pattern in (r"benchmarkai/_fastemit\..*\.so$", r"benchmarkai/py\.typed$",
                                       r"benchmarkai/__init__\.pyi$")
               if not any(re.match(pattern, name) for name in names)]
    if missing:
        fail("wheel %s holds nothing matching %s" % (os.path.basename(path), missing))
    return re.search(r"^Version: (\S+)$", metadata.decode("utf-8"), re.MULTILINE).group(1)


def repair(wheel):
    """auditwheel's manylinux tag for ``wheel``, and the repaired wheel that carries it."""
    outdir = os.path.join(os.path.dirname(wheel), "repaired")
    run("auditwheel", "repair", "--wheel-dir", outdir, wheel)
    (repaired,) = glob.glob(os.path.join(outdir, "*.whl"))
    tag = re.search(r'platform tag:\s*"([^"]+)"', run("auditwheel", "show", repaired)).group(1)
    if not tag.startswith("manylinux") or tag not in os.path.basename(repaired):
        fail("auditwheel gave the tag %r to %s" % (tag, os.path.basename(repaired)))
    return tag, repaired


def installed(wheel):
    """(__version__, implementation, the installed metadata's version) in a fresh virtualenv."""
    venv = tempfile.mkdtemp(prefix="venv-", dir=os.getcwd())
    # No pip of its own (seeding one takes long): this environment's pip installs into it.
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = os.path.join(venv, "bin", "python")
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--disable-pip-version-check", wheel)
    # From "/", so that no ./benchmarkai can shadow the installed package.
    return tuple(run(python, "-c", "import benchmarkai, importlib.metadata as m; print(benchmarkai.__version__); "
                     "print(benchmarkai.implementation); print(m.version('benchmarkai-client-lib'))",
                     cwd="/").split())


def cibuildwheel_builds(source, platform):
    # Only pyproject.toml decides: no CIBW_* variable of the caller's may change the list.
    environ = dict((name, value) for name, value in os.environ.items() if not name.startswith("CIBW_"))
    output = run("cibuildwheel", "--print-build-identifiers", "--platform", platform, source, env=environ)
    return set(line for line in output.splitlines() if re.match(r"cp\d+-", line))


def main(source):
    sdist, wheel = build(source)
    check_sdist(sdist, source)
    tag, repaired = repair(wheel)
    run("twine", "check", "--strict", sdist, repaired)
    version = check_wheel(repaired)
    found = installed(repaired)
    if found != (version, "cython", version):
        fail("the wheel's metadata says version %s; installed, it gives (__version__, implementation, "
             "metadata version) %s" % (version, found))
    for path in (sdist, wheel, repaired):
        print("%8d bytes  %s" % (os.path.getsize(path), os.path.basename(path)))
    print("manylinux tag: %s; installed in a fresh virtualenv: version %s, implementation %s"
          % (tag, version, found[1]))
    for platform, expected in sorted(EXPECTED_BUILDS.items()):
        builds = cibuildwheel_builds(source, platform)
        if builds != expected:
            fail("cibuildwheel %s: unexpected %s, missing %s" % (platform, sorted(builds - expected),
                                                                 sorted(expected - builds)))
        print("cibuildwheel %s, %d builds: %s" % (platform, len(builds), " ".join(sorted(builds, key=_order))))


def _order(identifier):
    python, platform = identifier.split("-", 1)
    return platform, int(python[2:])


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
