"""Check the release path (tox -e dist): build the sdist and, from it, the wheel, as
cibuildwheel would (its environment); check what each holds; repair the wheel to a manylinux
one with cibuildwheel's repair command, check that it is stripped, install it in a fresh
virtualenv and import it; check the lists of builds of both cibuildwheel versions.
Usage: python check_dist.py SOURCE_DIR (Python 3.11+: it reads pyproject.toml with tomllib)"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import tomllib

# cibuildwheel 2.23 (the last to build 3.6 and 3.7) and 3.x build these, with pyproject.toml's
# [tool.cibuildwheel] (and, for 2.23, the workflow's CIBW_BUILD); no CPython before 3.8 runs on
# arm64 macOS. No cp315: cibuildwheel 3.4 does not know it; no cp314t (free-threaded).
LEGACY_CIBUILDWHEEL = "cibuildwheel>=2.23,<2.24"
BUILDS = {"legacy": ("36", "37"), "current": ("38", "39", "310", "311", "312", "313", "314")}
# The repaired wheel's .so: about 90 KB stripped, 540 KB with its debug info.
MAX_SO_BYTES = 200 * 1024


def expected_builds(pythons):
    return {
        "linux": set("cp%s-%s_%s" % (python, libc, arch) for python in pythons
                     for libc in ("manylinux", "musllinux") for arch in ("x86_64", "aarch64")),
        "macos": set("cp%s-macosx_x86_64" % python for python in pythons)
        | set("cp%s-macosx_arm64" % python for python in pythons if python not in ("36", "37")),
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
    run(sys.executable, "-m", "build", "--outdir", outdir, *(options + (copy,)),
        env=dict(os.environ, **cibuildwheel_config(source).get("environment", {})))
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
    """The wheel's version and its .so's size, once it is known to hold the extension, stripped,
    and the type information."""
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        metadata = wheel.read([name for name in names if name.endswith(".dist-info/METADATA")][0])
        shared = [wheel.read(name) for name in names if re.match(r"benchmarkai/_fastemit\..*\.so$", name)]
    missing = [pattern for pattern in (r"benchmarkai/py\.typed$", r"benchmarkai/__init__\.pyi$")
               if not any(re.match(pattern, name) for name in names)]
    if missing or not shared:
        fail("wheel %s holds nothing matching %s" % (os.path.basename(path), missing or "_fastemit.*.so"))
    # A section name in the ELF string table: there only when the debug info is.
    if b".debug_info" in shared[0] or len(shared[0]) > MAX_SO_BYTES:
        fail("wheel %s: its _fastemit is not stripped (%d bytes; at most %d)"
             % (os.path.basename(path), len(shared[0]), MAX_SO_BYTES))
    return len(shared[0]), re.search(r"^Version: (\S+)$", metadata.decode("utf-8"), re.MULTILINE).group(1)


def cibuildwheel_config(source):
    with open(os.path.join(source, "pyproject.toml"), "rb") as pyproject:
        return tomllib.load(pyproject)["tool"]["cibuildwheel"]


def repair(wheel, source):
    """auditwheel's manylinux tag for ``wheel``, and the wheel that cibuildwheel's repair command
    makes of it."""
    outdir = os.path.join(os.path.dirname(wheel), "repaired")
    command = cibuildwheel_config(source)["linux"]["repair-wheel-command"]
    run(*command.replace("{dest_dir}", outdir).replace("{wheel}", wheel).split())
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


def legacy_cibuildwheel():
    """cibuildwheel 2.23, in a virtualenv of its own, and the CIBW_BUILD the workflow gives it."""
    venv = tempfile.mkdtemp(prefix="venv-", dir=os.getcwd())
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    run(sys.executable, "-m", "pip", "--python", os.path.join(venv, "bin", "python"), "install", "-q",
        "--disable-pip-version-check", LEGACY_CIBUILDWHEEL)
    with open(os.path.join(os.path.dirname(__file__), "..", ".github", "workflows", "wheels.yml")) as workflow:
        selected = re.search(r'CIBW_BUILD: "([^"]+)"', workflow.read()).group(1)
    return os.path.join(venv, "bin", "cibuildwheel"), {"CIBW_BUILD": selected}


def cibuildwheel_builds(cibuildwheel, source, platform, variables):
    # Only pyproject.toml and ``variables`` decide: no CIBW_* variable of the caller's.
    environ = dict((name, value) for name, value in os.environ.items() if not name.startswith("CIBW_"))
    environ.update(variables)
    output = run(cibuildwheel, "--print-build-identifiers", "--platform", platform, source, env=environ)
    return set(line for line in output.splitlines() if re.match(r"cp\d+t?-", line))


def main(source):
    sdist, wheel = build(source)
    check_sdist(sdist, source)
    tag, repaired = repair(wheel, source)
    run("twine", "check", "--strict", sdist, repaired)
    so_bytes, version = check_wheel(repaired)
    found = installed(repaired)
    if found != (version, "cython", version):
        fail("the wheel's metadata says version %s; installed, it gives (__version__, implementation, "
             "metadata version) %s" % (version, found))
    for path in (sdist, wheel, repaired):
        print("%8d bytes  %s" % (os.path.getsize(path), os.path.basename(path)))
    print("manylinux tag: %s; _fastemit %d bytes, stripped; installed in a fresh virtualenv: version %s, "
          "implementation %s" % (tag, so_bytes, version, found[1]))
    cibuildwheels = {"current": ("cibuildwheel", {}), "legacy": legacy_cibuildwheel()}
    for which, (cibuildwheel, variables) in sorted(cibuildwheels.items()):
        for platform, expected in sorted(expected_builds(BUILDS[which]).items()):
            builds = cibuildwheel_builds(cibuildwheel, source, platform, variables)
            if builds != expected:
                fail("cibuildwheel (%s) %s: unexpected %s, missing %s" % (
                    which, platform, sorted(builds - expected), sorted(expected - builds)))
            print("cibuildwheel (%s) %s, %d builds: %s" % (which, platform, len(builds),
                                                          " ".join(sorted(builds, key=_order))))


def _order(identifier):
    python, platform = identifier.split("-", 1)
    return platform, int(python[2:].rstrip("t"))


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
