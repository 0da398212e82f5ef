"""pkgdrc: a design-rule checker for advanced-package layouts.

    import pkgdrc
    report = pkgdrc.check("package.gds", deck="fowlp-2l")
    for rule in report.failed:
        print(rule.id, len(rule.markers))
"""

# First, until run.py and cli.py import __version__ from pkgdrc.version: they import it
# from this package while it is still loading.
from pkgdrc.version import __version__

# isort: split
from pkgdrc.errors import PkgdrcError
from pkgdrc.result import Report, RuleResult
from pkgdrc.run import check

__all__ = ["PkgdrcError", "Report", "RuleResult", "check", "__version__"]
