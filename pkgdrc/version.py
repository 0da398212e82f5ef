"""pkgdrc's version: a leaf module, so that any module (run, cli) can import it without importing the package's API."""

__version__ = "0.1.0"
