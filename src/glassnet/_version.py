"""The version of glassnet (one place: the package, the command line and model files read it)."""
__version__ = "0.1.0"
