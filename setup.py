"""Build benchmarkai-client-lib. The compiled _fastemit is optional: when it cannot be built
(no compiler, no Python headers, no Cython) the pure-Python package installs instead, with a
warning, as simplejson does; BENCHMARK_AI_REQUIRE_EXTENSION=1 (release builds) makes that an
error instead. It is not built on PyPy (through cpyext it is slower than the fallback, as
msgpack found), on Windows (_fastemit writes with POSIX calls), or with
BENCHMARK_AI_PURE_PYTHON=1."""
import io
import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

try:
    from setuptools.errors import CCompilerError, ExecError, PlatformError
except ImportError:  # setuptools < 59 (Python 2.7 to 3.6)
    from distutils.errors import CCompilerError
    from distutils.errors import DistutilsExecError as ExecError
    from distutils.errors import DistutilsPlatformError as PlatformError

HERE = os.path.dirname(os.path.abspath(__file__))


def read(path):
    with io.open(os.path.join(HERE, path), encoding="utf-8") as source:
        return source.read()


def load(path):
    """The names a small module of the package defines, without importing the package."""
    namespace = {}
    exec(compile(read(path), path, "exec"), namespace)
    return namespace


def warn(message):
    sys.stderr.write("WARNING: benchmarkai: %s\n" % message)


def extension_required():
    return os.environ.get("BENCHMARK_AI_REQUIRE_EXTENSION", "") not in ("", "0")


def without_extension(reason):
    """Go on with the pure-Python package, with a warning; or stop, if the extension is required."""
    if extension_required():
        sys.exit("ERROR: benchmarkai: %s, and BENCHMARK_AI_REQUIRE_EXTENSION is set" % reason)
    warn("%s; installing the pure-Python implementation, which behaves the same but is slower" % reason)


class OptionalBuildExt(build_ext):
    """build_ext that falls back to the pure-Python package when compiling or linking fails."""

    def run(self):
        try:
            build_ext.run(self)
        except PlatformError as error:  # no compiler that setuptools knows of
            self.fallback(error)

    def build_extension(self, ext):
        try:
            build_ext.build_extension(self, ext)
        except (CCompilerError, ExecError) as error:  # compile and link errors, a compiler that will not run
            self.fallback(error)

    @staticmethod
    def fallback(error):
        without_extension("could not compile the _fastemit extension (%s)" % str(error).strip())


def extensions():
    if load("benchmarkai/_config.py")["pure_python_requested"]():
        warn("BENCHMARK_AI_PURE_PYTHON is set: not building the _fastemit extension")
        return []
    if platform.python_implementation() != "CPython" or sys.platform == "win32":
        warn("no _fastemit extension on %s %s: the pure-Python implementation serves there"
             % (platform.python_implementation(), sys.platform))
        return []
    try:
        import Cython
        from Cython.Build import cythonize
    except ImportError:
        without_extension("Cython is not installed")
        return []
    # _float_repr.h formats floats (Schubfach) with the table that src/gen_float_table.py writes.
    extension = Extension("benchmarkai._fastemit", ["src/_fastemit.pyx"], include_dirs=["src"],
                          depends=["src/_float_repr.h", "src/_float_table.h"])
    # The C file goes out of the source tree, to a directory of its Cython version: Cython
    # 3.0 (for Python 2.7) and later ones must never reuse each other's output.
    return cythonize([extension], build_dir="build/cython-" + Cython.__version__, quiet=True)


setup(
    name="benchmarkai-client-lib",
    version=load("benchmarkai/_version.py")["__version__"],
    description="Publish benchmark metrics to the Benchmark AI infrastructure, fast",
    long_description=read("README.md"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=["benchmarkai"],
    # PEP 561: the package is typed, and __init__.pyi holds the public API's types.
    package_data={"benchmarkai": ["py.typed", "*.pyi"]},
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
    # benchmarkai run -- CMD: the local sidecar (also python -m benchmarkai).
    entry_points={"console_scripts": ["benchmarkai = benchmarkai._sidecar:main"]},
    install_requires=["six"],
    python_requires=">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*, !=3.5.*",
    zip_safe=False,
    classifiers=[
        "Operating System :: POSIX :: Linux",
        "Operating System :: MacOS",
        "Programming Language :: Cython",
        "Programming Language :: Python :: 2",
        "Programming Language :: Python :: 2.7",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.6",
        "Programming Language :: Python :: 3.7",
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: Implementation :: CPython",
        "Programming Language :: Python :: Implementation :: PyPy",
        "Typing :: Typed",
    ],
)
