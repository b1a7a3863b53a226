# The one place the version is written; setup.py reads it from here.
__version__ = "1.0.0"
